/**
 * A Bacula lab for the integration tests and the bench: an in-process agent under a temp
 * prefix, the real director / storage / file daemons on free loopback ports (sandbox/bacula.ts), a generated data
 * tree (random, small, sparse, hard-linked, symlinked files; names with spaces and UTF-8;
 * chosen modes and times) and a tree comparison for restores.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  chmod,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  symlink,
  utimes,
} from 'node:fs/promises';
import path from 'node:path';
import { type BaculaPaths, baculaPaths } from '../agent/backup/paths.js';
import { createBackupService } from '../agent/backup/service.js';
import type { Clock } from '../agent/deps.js';
import { startTestAgent, type TestAgent, type TestAgentOptions } from '../test/helpers/agent.js';
import { baculaDaemons, type DaemonKind, freePorts, type RunningDaemon } from './bacula.js';

export { freePorts };

export interface Lab {
  t: TestAgent;
  paths: BaculaPaths;
  ports: { dir: number; fd: number; sd: number };
  daemons: Map<DaemonKind, RunningDaemon>;
  start(kind: DaemonKind): Promise<void>;
  stopDaemon(kind: DaemonKind): Promise<void>;
  startAll(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLab(
  opts: {
    pollMs?: number;
    env?: Partial<Record<DaemonKind, Record<string, string>>>;
    clock?: Clock;
    scheduleCheckMs?: number;
    drillTickMs?: number;
    services?: TestAgentOptions['services'];
  } = {},
): Promise<Lab> {
  const t = await startTestAgent({
    services: [
      createBackupService({
        pollMs: opts.pollMs ?? 300,
        scheduleCheckMs: opts.scheduleCheckMs,
        drillTickMs: opts.drillTickMs,
      }),
      ...(opts.services ?? []),
    ],
    clock: opts.clock,
  });
  const [dir, fd, sd] = (await freePorts(3)) as [number, number, number];
  const ports = { dir, fd, sd };
  const paths = baculaPaths(t.deps.layout);
  try {
    await t.call('backup.settings.set', { dirPort: dir, fdPort: fd, sdPort: sd });
  } catch (err) {
    await t.stop();
    throw err;
  }
  const d = baculaDaemons({ paths, ports, runner: t.deps.runner, env: opts.env });
  return {
    t,
    paths,
    ports,
    daemons: d.daemons,
    start: d.start,
    stopDaemon: d.stopDaemon,
    startAll: d.startAll,
    stop: async () => {
      try {
        await d.stop();
      } finally {
        await t.stop();
      }
    },
  };
}

export interface TreeSpec {
  randomFiles: number;
  randomFileMiB: number;
  smallFiles: number;
  sparseFiles: number;
  sparseMiB: number;
}

/** About 200 MB apparent (≈100 MB of data, the rest holes). */
export const DEFAULT_TREE: TreeSpec = {
  randomFiles: 8,
  randomFileMiB: 11,
  smallFiles: 400,
  sparseFiles: 2,
  sparseMiB: 50,
};

const MiB = 1024 * 1024;
const T0 = 1_600_000_000; // 2020-09-13: times well in the past, so "restored with times" is visible

export async function makeTree(
  root: string,
  spec: TreeSpec = DEFAULT_TREE,
): Promise<{ apparent: number; data: number }> {
  let apparent = 0;
  let data = 0;
  const pool = randomBytes(4 * MiB);
  const write = async (file: string, size: number, seed: number) => {
    const fh = await open(file, 'w');
    try {
      for (let off = 0; off < size; ) {
        const n = Math.min(MiB, size - off);
        const start = (seed * 7919 + off) % (pool.length - n);
        await fh.write(pool, start, n, off);
        off += n;
      }
    } finally {
      await fh.close();
    }
    apparent += size;
    data += size;
  };
  const dirs: string[] = [];
  const md = async (d: string) => {
    await mkdir(d, { recursive: true });
    dirs.push(d);
  };
  await md(root);
  await md(path.join(root, 'big files'));
  for (let i = 0; i < spec.randomFiles; i++)
    await write(path.join(root, 'big files', `blob ${i}.bin`), spec.randomFileMiB * MiB, i);
  for (let d = 0; d < 10; d++) await md(path.join(root, 'small', `d${d}`));
  for (let i = 0; i < spec.smallFiles; i++) {
    await write(path.join(root, 'small', `d${i % 10}`, `f-${i}.txt`), 1024 + ((i * 131) % 7168), 1000 + i);
  }
  await md(path.join(root, 'sparse'));
  for (let i = 0; i < spec.sparseFiles; i++) {
    const file = path.join(root, 'sparse', `sparse-${i}.img`);
    const size = spec.sparseMiB * MiB;
    const fh = await open(file, 'w');
    for (const at of [0, Math.floor(size / 2), size - 65536]) await fh.write(pool, i * 65536, 65536, at);
    await fh.truncate(size);
    await fh.close();
    apparent += size;
    data += 3 * 65536;
  }
  await md(path.join(root, 'links'));
  await write(path.join(root, 'links', 'original.bin'), MiB, 77);
  await link(path.join(root, 'links', 'original.bin'), path.join(root, 'links', 'hard link.bin'));
  await symlink('../small/d0/f-0.txt', path.join(root, 'links', 'sym-rel'));
  await symlink(path.join(root, 'links', 'original.bin'), path.join(root, 'links', 'sym-abs'));
  await symlink('does-not-exist', path.join(root, 'links', 'dangling'));
  await md(path.join(root, '名前 with spaces'));
  await write(path.join(root, '名前 with spaces', 'ファイル ü.txt'), 4321, 5);
  await md(path.join(root, 'naïve café'));
  await write(path.join(root, 'naïve café', 'résumé 1.bin'), 65537, 6);
  await write(path.join(root, 'naïve café', 'secret.key'), 123, 7);
  await chmod(path.join(root, 'naïve café', 'secret.key'), 0o600);
  await write(path.join(root, 'naïve café', 'run.sh'), 200, 8);
  await chmod(path.join(root, 'naïve café', 'run.sh'), 0o755);
  await chmod(path.join(root, '名前 with spaces'), 0o750);
  await setTimes(root, dirs);
  return { apparent, data };
}

/** Give every file a distinct past mtime, then the directories (children first: writes move dir times). */
async function setTimes(root: string, dirs: string[]): Promise<void> {
  let i = 0;
  for (const e of await walk(root)) {
    if (e.type === 'file') await utimes(path.join(root, e.rel), T0 + i, T0 + ++i * 60);
  }
  for (const d of [...dirs].reverse()) await utimes(d, T0, T0 + ++i * 60);
}

export interface Entry {
  rel: string;
  type: 'file' | 'dir' | 'link' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  ino: number;
  blocks: number;
  target?: string;
}

export async function walk(root: string, rel = ''): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const name of (await readdir(path.join(root, rel))).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = await lstat(path.join(root, r));
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'other';
    const e: Entry = {
      rel: r,
      type,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: st.size,
      mtime: Math.floor(st.mtimeMs / 1000),
      ino: st.ino,
      blocks: st.blocks,
    };
    if (type === 'link') e.target = await readlink(path.join(root, r));
    out.push(e);
    if (type === 'dir') out.push(...(await walk(root, r)));
  }
  return out;
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

/**
 * Differences between an original tree and its restore: entries, types, modes, owners, sizes,
 * content, mtimes (files and directories), symlink targets, hard-link groups and sparseness.
 */
export async function compareTrees(a: string, b: string): Promise<string[]> {
  const ea = await walk(a);
  const eb = new Map((await walk(b)).map((e) => [e.rel, e]));
  const diffs: string[] = [];
  const inodes = new Map<number, string>();
  for (const x of ea) {
    const y = eb.get(x.rel);
    eb.delete(x.rel);
    if (!y) {
      diffs.push(`missing: ${x.rel}`);
      continue;
    }
    if (x.type !== y.type) diffs.push(`type: ${x.rel} ${x.type} → ${y.type}`);
    if (x.type !== 'link' && x.mode !== y.mode)
      diffs.push(`mode: ${x.rel} ${x.mode.toString(8)} → ${y.mode.toString(8)}`);
    if (x.uid !== y.uid || x.gid !== y.gid) diffs.push(`owner: ${x.rel}`);
    if (x.type === 'link' && x.target !== y.target) diffs.push(`target: ${x.rel} ${x.target} → ${y.target}`);
    if (x.type === 'file' || x.type === 'dir') {
      if (x.mtime !== y.mtime) diffs.push(`mtime: ${x.rel} ${x.mtime} → ${y.mtime}`);
    }
    if (x.type === 'file') {
      if (x.size !== y.size) diffs.push(`size: ${x.rel} ${x.size} → ${y.size}`);
      else if ((await sha256(path.join(a, x.rel))) !== (await sha256(path.join(b, x.rel))))
        diffs.push(`content: ${x.rel}`);
      if (x.blocks * 512 < x.size / 2 && y.blocks * 512 >= x.size) diffs.push(`not sparse: ${x.rel}`);
      const first = inodes.get(x.ino);
      if (first === undefined) inodes.set(x.ino, x.rel);
      else {
        const yFirst = (await lstat(path.join(b, first))).ino;
        if (yFirst !== y.ino) diffs.push(`hard link lost: ${x.rel} ≠ ${first}`);
      }
    }
  }
  for (const rest of eb.keys()) diffs.push(`extra: ${rest}`);
  return diffs;
}
