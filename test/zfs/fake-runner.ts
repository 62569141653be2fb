/**
 * A fake runner that answers the read commands of the OpenZFS dialect from the hand-written
 * fixtures (pools `tank` and `backup`, datasets under tank/calypso) and records every argv.
 * Anything that is not a read succeeds with empty output, so that a test can see whether it ran.
 */
import { fakeRunner as scriptedRunner } from '../helpers/fake-runner.js';
import { fixture } from './fixtures.js';
import { isRead, type RecordingRunner } from './helpers.js';

function blocks(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(/(?=^ {2}pool: )/m)) {
    const name = /^ {2}pool: (\S+)/.exec(part)?.[1];
    if (name) out.set(name, part);
  }
  return out;
}

const after = (argv: readonly string[]) => {
  const i = argv.indexOf('--');
  return i < 0 ? [] : argv.slice(i + 1);
};

export interface FakeOptions {
  /** Override answers: return a string (stdout) or undefined to fall through. */
  answer?: (argv: readonly string[]) => string | undefined;
}

export function fakeRunner(opts: FakeOptions = {}): RecordingRunner {
  const status = blocks(fixture('openzfs-2.x', 'zpool-status-two-pools.txt'));
  const datasets = fixture('openzfs-2.x', 'zfs-list-Hp-datasets.txt').split('\n').filter(Boolean);
  const snapshots = fixture('openzfs-2.x', 'zfs-list-Hp-snapshots.txt').split('\n').filter(Boolean);

  function reply(argv: readonly string[]): { stdout: string; code?: number; stderr?: string } {
    const custom = opts.answer?.(argv);
    if (custom !== undefined) return { stdout: custom };
    const [tool, sub] = argv;
    const names = after(argv);
    if (tool === 'zfs' && sub === 'version') return { stdout: fixture('openzfs-2.x', 'zfs-version.txt') };
    if (tool === 'zpool' && sub === 'status') {
      if (!names.length) return { stdout: [...status.values()].join('') };
      const b = status.get(names[0]!);
      return b ? { stdout: b } : { stdout: '', code: 1, stderr: `cannot open '${names[0]}': no such pool` };
    }
    if (tool === 'zpool' && sub === 'list') return { stdout: fixture('openzfs-2.x', 'zpool-list-Hp.txt') };
    if (tool === 'zpool' && sub === 'get') return { stdout: fixture('openzfs-2.x', 'zpool-get-Hp.txt') };
    if (tool === 'zfs' && sub === 'list' && argv.includes('snapshot')) {
      const ds = names[0];
      const known = (n: string) =>
        datasets.some((l) => l.startsWith(`${n}\t`)) || snapshots.some((l) => l.startsWith(`${n}@`));
      if (ds && !known(ds))
        return { stdout: '', code: 1, stderr: `cannot open '${ds}': dataset does not exist` };
      return { stdout: snapshots.filter((l) => !ds || l.startsWith(`${ds}@`)).join('\n') };
    }
    if (tool === 'zfs' && sub === 'list') {
      const root = names[0];
      if (!root) return { stdout: datasets.join('\n') };
      const depth0 = argv.includes('-d') && argv[argv.indexOf('-d') + 1] === '0';
      const hit = datasets.filter((l) => {
        const n = l.split('\t')[0]!;
        return n === root || (!depth0 && n.startsWith(`${root}/`));
      });
      if (!hit.length)
        return { stdout: '', code: 1, stderr: `cannot open '${root}': dataset does not exist` };
      return { stdout: hit.join('\n') };
    }
    if (tool === 'zfs' && sub === 'get' && argv.includes('receive_resume_token')) return { stdout: '-\n' };
    if (tool === 'zfs' && sub === 'get') {
      const props = argv[argv.indexOf('--') - 1]!.split(',');
      const lines: string[] = [];
      for (const n of names) {
        for (const p of props) {
          const v =
            p === 'creation'
              ? '1731110400'
              : p === 'userrefs'
                ? '0'
                : p === 'type'
                  ? 'filesystem'
                  : '1048576';
          lines.push(`${n}\t${p}\t${v}\t-`);
        }
      }
      return { stdout: lines.join('\n') };
    }
    if (tool === 'zfs' && sub === 'send' && argv.includes('-nvP')) {
      return {
        stdout: fixture(
          'openzfs-2.x',
          argv.includes('-i') ? 'zfs-send-nvP-incremental.txt' : 'zfs-send-nvP-full.txt',
        ),
      };
    }
    return { stdout: '' };
  }

  const runner = scriptedRunner(reply);
  return Object.assign(runner, { mutations: () => runner.calls.filter((c) => !isRead(c)) });
}
