/**
 * A fake runner that answers the read commands of the OpenZFS dialect from the outputs recorded on OpenZFS 2.1.11 in
 * the kernel lab (test/fixtures/zfs/openzfs-2.1.11-lab: pools `tank` and `backup`, datasets under tank/calypso, a
 * zvol, an encrypted dataset, a clone) and records every argv. `zfs get` is answered line by line from the recorded
 * `zfs get -Hp all` of tank/calypso/db and the recorded list columns of the other datasets and snapshots.
 * Anything that is not a read succeeds with empty output, so that a test can see whether it ran.
 */

import { DATASET_COLUMNS, SNAPSHOT_COLUMNS } from '../../agent/zfs/parse-zfs-list.js';
import { fakeRunner as scriptedRunner } from '../helpers/fake-runner.js';
import { fixture as read } from './fixtures.js';
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

const fixture = (name: string) => read('openzfs-2.1.11-lab', name);

/** name → property → value, from the recorded `zfs get -Hp all` and the recorded list rows */
function recordedProperties(datasets: string[], snapshots: string[]): Map<string, Map<string, string>> {
  const props = new Map<string, Map<string, string>>();
  const add = (lines: string[], cols: readonly string[]) => {
    for (const l of lines) {
      const cells = l.split('\t');
      const m = props.get(cells[0]!) ?? new Map<string, string>();
      for (let i = 1; i < cols.length; i++) m.set(cols[i]!, cells[i]!);
      m.set('type', m.get('type') ?? (cells[0]!.includes('@') ? 'snapshot' : 'filesystem'));
      props.set(cells[0]!, m);
    }
  };
  add(datasets, DATASET_COLUMNS);
  add(snapshots, SNAPSHOT_COLUMNS);
  for (const l of [fixture('zfs-get-Hp-all.txt'), fixture('zfs-get-Hp-resume-token.txt')]
    .join('')
    .split('\n')) {
    const [name, prop, value] = l.split('\t');
    if (!name || !prop || value === undefined) continue;
    // a cut receive (backup/copy) is not listed, but has its resume token
    if (!props.has(name)) props.set(name, new Map());
    props.get(name)!.set(prop, value);
  }
  return props;
}

export interface FakeOptions {
  /** Override answers: return a string (stdout) or undefined to fall through. */
  answer?: (argv: readonly string[]) => string | undefined;
}

export function fakeRunner(opts: FakeOptions = {}): RecordingRunner {
  const status = blocks(fixture('zpool-status-two-pools.txt'));
  const datasets = fixture('zfs-list-Hp-datasets.txt').split('\n').filter(Boolean);
  const snapshots = fixture('zfs-list-Hp-snapshots.txt').split('\n').filter(Boolean);
  const props = recordedProperties(datasets, snapshots);

  function reply(argv: readonly string[]): { stdout: string; code?: number; stderr?: string } {
    const custom = opts.answer?.(argv);
    if (custom !== undefined) return { stdout: custom };
    const [tool, sub] = argv;
    const names = after(argv);
    if (tool === 'zfs' && sub === 'version') return { stdout: fixture('zfs-version.txt') };
    if (tool === 'zpool' && sub === 'status') {
      if (!names.length) return { stdout: [...status.values()].join('') };
      const b = status.get(names[0]!);
      return b ? { stdout: b } : { stdout: '', code: 1, stderr: `cannot open '${names[0]}': no such pool` };
    }
    if (tool === 'zpool' && sub === 'list') return { stdout: fixture('zpool-list-Hp.txt') };
    if (tool === 'zpool' && sub === 'get') return { stdout: fixture('zpool-get-Hp.txt') };
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
    if (tool === 'zfs' && sub === 'get' && argv.includes('receive_resume_token')) {
      // `zfs get -H -o value receive_resume_token ds`: the recorded value (a cut receive into backup/copy left one)
      return { stdout: `${props.get(names[0] ?? '')?.get('receive_resume_token') ?? '-'}\n` };
    }
    if (tool === 'zfs' && sub === 'get') {
      const wanted = argv[argv.indexOf('--') - 1]!.split(',');
      const lines: string[] = [];
      for (const n of names) {
        const known = props.get(n);
        if (!known) return { stdout: '', code: 1, stderr: `cannot open '${n}': dataset does not exist` };
        for (const p of wanted) {
          const v = known.get(p);
          if (v !== undefined) lines.push(`${n}\t${p}\t${v}\t-`);
        }
      }
      return { stdout: lines.join('\n') };
    }
    if (tool === 'zfs' && sub === 'send' && argv.includes('-nvP')) {
      const file = argv.includes('-t')
        ? 'zfs-send-nvP-resume.txt'
        : argv.includes('-i')
          ? 'zfs-send-nvP-incremental.txt'
          : 'zfs-send-nvP-full.txt';
      return { stdout: fixture(file) };
    }
    return { stdout: '' };
  }

  const runner = scriptedRunner(reply);
  return Object.assign(runner, { mutations: () => runner.calls.filter((c) => !isRead(c)) });
}
