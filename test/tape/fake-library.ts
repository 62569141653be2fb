/**
 * A fake runner for the service tests: a changer whose starting state is an `mtx status` of
 * test/fixtures/mtx (recorded in the lab or written in mtx's layout), answering `mtx status` in mtx's own layout after each
 * move and refusing moves the way a robot does (exit 1, "Source Element Address … Is Empty").
 * It records every argv, the environment each command got, and how many moves overlapped, so
 * tests can assert lock serialisation and "refused before any command". mt and tapeinfo answer
 * from recorded fixtures.
 */
import { readFileSync } from 'node:fs';
import type { Runner, RunOptions } from '../../agent/runner.js';
import { parseMtxStatus } from '../../agent/tape/parse-mtx-status.js';
import type { ChangerStatus } from '../../agent/tape/types.js';
import { RpcError } from '../../rpc/errors.js';
import { fakeRunner } from '../helpers/fake-runner.js';

export interface FakeLibrary extends Runner {
  state: ChangerStatus;
  calls: string[][];
  clear(): void;
  envs: Record<string, string>[];
  /** commands that change the library (load/unload/transfer/inventory) */
  moves(): string[][];
  maxConcurrentMoves: number;
  /** text tapeinfo prints (change it to raise or clear TapeAlert flags) */
  tapeinfo: string;
  mtStatus: string;
  missing: Set<string>;
}

export function renderMtx(s: ChangerStatus, device: string): string {
  const ie = s.slots.filter((x) => x.importExport).length;
  const out = [
    `  Storage Changer ${device}:${s.drives.length} Drives, ${s.slots.length} Slots ( ${ie} Import/Export )`,
  ];
  for (const d of s.drives)
    out.push(
      `Data Transfer Element ${d.index}:${
        d.full
          ? `Full (Storage Element ${d.sourceSlot} Loaded)${d.volumeTag ? `:VolumeTag = ${d.volumeTag}` : ''}`
          : 'Empty'
      }`,
    );
  for (const x of s.slots)
    out.push(
      `      Storage Element ${x.index}${x.importExport ? ' IMPORT/EXPORT' : ''}:${
        x.full ? `Full ${x.volumeTag ? `:VolumeTag=${x.volumeTag}` : ''}` : 'Empty'
      }`,
    );
  return `${out.join('\n')}\n`;
}

export function fakeLibrary(
  statusText: string,
  o: { moveDelayMs?: number; tapeinfo?: string; mtStatus?: string } = {},
): FakeLibrary {
  const state = parseMtxStatus(statusText);
  let inFlight = 0;
  const answer = async (argv: readonly string[], ro: RunOptions): Promise<string> => {
    const a = [...argv];
    lib.envs.push({ ...ro.env });
    const ok = (stdout: string) => stdout;
    const fail = (stderr: string): never => {
      throw new RpcError('failed', `${a[0]}: ${stderr}`, { argv: a, exitCode: 1, stderr });
    };
    if (a[0] === 'mtx' && a[1] === '--version') return ok('mtx version 1.3.12\n');
    if (a[0] === 'mtx' && a[3] === 'status') return ok(renderMtx(state, a[2]!));
    if (a[0] === 'mtx') {
      inFlight++;
      lib.maxConcurrentMoves = Math.max(lib.maxConcurrentMoves, inFlight);
      try {
        await new Promise((r) => setTimeout(r, o.moveDelayMs ?? 0));
        const slot = (n: number) => state.slots.find((x) => x.index === n) ?? fail(`Invalid element ${n}`);
        const drive = (n: number) => state.drives.find((x) => x.index === n) ?? fail(`Invalid drive ${n}`);
        const [verb, x, y] = [a[3], Number(a[4]), Number(a[5])];
        if (verb === 'inventory') return ok('');
        if (verb === 'load') {
          const s = slot(x);
          const d = drive(y);
          if (!s.full) fail(`Source Element Address ${x} is Empty`);
          if (d.full) fail(`Drive ${y} Full (Storage Element ${d.sourceSlot} Loaded)`);
          Object.assign(d, { full: true, volumeTag: s.volumeTag, sourceSlot: x });
          Object.assign(s, { full: false, volumeTag: undefined });
          return ok(`Loading media from Storage Element ${x} into drive ${y}...done\n`);
        }
        if (verb === 'unload') {
          const s = slot(x);
          const d = drive(y);
          if (!d.full) fail(`Data Transfer Element ${y} is Empty`);
          if (s.full) fail(`Storage Element ${x} is Full`);
          Object.assign(s, { full: true, volumeTag: d.volumeTag });
          Object.assign(d, { full: false, volumeTag: undefined, sourceSlot: undefined });
          return ok(`Unloading drive ${y} into Storage Element ${x}...done\n`);
        }
        if (verb === 'transfer') {
          const s = slot(x);
          const t = slot(y);
          if (!s.full) fail(`Source Element Address ${x} is Empty`);
          if (t.full) fail(`Destination Element Address ${y} is Already Full`);
          Object.assign(t, { full: true, volumeTag: s.volumeTag });
          Object.assign(s, { full: false, volumeTag: undefined });
          return ok('');
        }
        return fail(`unknown command ${verb}`);
      } finally {
        inFlight--;
      }
    }
    if (a[0] === 'mt' && a[1] === '--version') return ok('mt-st v. 1.4\n');
    if (a[0] === 'mt') return ok(a[3] === 'status' ? lib.mtStatus : '');
    if (a[0] === 'tapeinfo') return ok(lib.tapeinfo);
    if (a[0] === 'sqlite3') return ok('[]');
    return ok('');
  };
  const runner = fakeRunner(answer, { which: (n) => (lib.missing.has(n) ? undefined : `/usr/sbin/${n}`) });
  const run = runner.run.bind(runner);
  const lib: FakeLibrary = Object.assign(runner, {
    state,
    envs: [] as Record<string, string>[],
    maxConcurrentMoves: 0,
    tapeinfo: o.tapeinfo ?? '',
    mtStatus: o.mtStatus ?? '',
    missing: new Set<string>(),
    moves: () => lib.calls.filter((c) => c[0] === 'mtx' && c[3] !== 'status' && c[1] === '-f'),
    // a missing tool fails to start, and is not a command the library saw
    run: (argv: readonly string[], ro: RunOptions = {}) => {
      if (lib.missing.has(argv[0]!))
        return Promise.reject(
          new RpcError('unavailable', `${argv[0]}: not installed`, { reason: 'not found', argv: [...argv] }),
        );
      return run(argv, ro);
    },
  });
  return lib;
}

export const readText = (p: string) => readFileSync(p, 'utf8');
