/**
 * ZFS benchmarks (issue: ZFS), each against its baseline in the same run:
 * - 10,000 snapshots on zfs-fuse: `snapshot.list` (full list, cache bypassed) against the raw
 *   `zfs list -t snapshot -H` on the same data, interleaved, medians and their ratio (goal ≤ 1.25);
 * - the first page from the cache (goal ≤ 50 ms);
 * - parsing 100,000 lines of `zfs list -Hp -t snapshot` output in the OpenZFS format (the
 *   OpenZFS 2.1.11 fixture recorded in the kernel lab, repeated; goal ≤ 200 ms) and of recorded zfs-fuse output.
 */
import path from 'node:path';
import { createRunner } from '../agent/runner.js';
import { parseSnapshotList } from '../agent/zfs/parse-zfs-list.js';
import { fixture } from '../test/zfs/fixtures.js';
import { destroyPools, poolName, startZfsAgent, useZfsFuse, vdevFiles } from '../test/zfs/helpers.js';
import { median, timed } from './stats.js';

const DATASETS = 100;
const SNAPSHOTS_PER_DATASET = 100;

/** n lines of snapshot listing built from a fixture's lines, with distinct names. */
function lines(template: string, n: number): string {
  const rows = template.split('\n').filter(Boolean);
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    for (const r of rows) {
      if (out.length >= n) break;
      const tab = r.indexOf('\t');
      out.push(`${r.slice(0, tab)}-${i}${r.slice(tab)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** Median wall and CPU time of `fn` over five runs after a warm-up. */
function measure(fn: () => void): { wall: number; cpu: number } {
  fn(); // warm up the JIT
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < 5; i++) {
    const c0 = process.cpuUsage();
    const t = performance.now();
    fn();
    walls.push(performance.now() - t);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

function parseBench(text: string): string {
  const m = measure(() => {
    const rows = parseSnapshotList(text);
    if (rows.length !== 100_000) throw new Error(`parsed ${rows.length} rows`);
  });
  return `${m.wall.toFixed(1)} (cpu ${m.cpu.toFixed(1)})`;
}

export async function benchZfs(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const openzfsText = lines(fixture('openzfs-2.1.11-lab', 'zfs-list-Hp-snapshots.txt'), 100_000);
  out['parse 100,000 lines, OpenZFS zfs list -Hp (median ms, goal ≤ 200)'] = parseBench(openzfsText);
  out['parse 100,000 lines, zfs-fuse zfs list -H (median ms)'] = parseBench(
    lines(fixture('zfs-fuse-0.7', 'zfs-list-snapshots.txt'), 100_000),
  );
  // the floor on this machine, same text: splitting into lines and cells and nothing else
  const floor = measure(() => openzfsText.split('\n').map((l) => l.split('\t')));
  out['baseline: split the same 100,000 lines into cells (median ms)'] =
    `${floor.wall.toFixed(1)} (cpu ${floor.cpu.toFixed(1)})`;

  const fuse = await useZfsFuse();
  const agent = await startZfsAgent();
  const runner = createRunner();
  const name = poolName('bench');
  try {
    const [file] = vdevFiles(path.join(agent.prefix, 'vdevs'), ['bench.img'], 1024 * 1024 * 1024);
    await agent.call('pool.create', {
      name,
      topology: { data: [{ type: 'stripe', disks: [file] }] },
      mountpoint: 'none',
      altroot: path.join(agent.prefix, 'mnt'),
    });
    const run = (argv: string[]) => runner.run(argv, { timeoutMs: 600_000, env: { TZ: 'UTC' } });
    const setupStart = performance.now();
    await run(['zfs', 'create', '--', `${name}/b`]);
    for (let i = 1; i < DATASETS; i++) await run(['zfs', 'create', '--', `${name}/b/d${i}`]);
    // recursive snapshots: 100 commands make 10,000 snapshots (one txg each instead of one per snapshot)
    for (let s = 1; s <= SNAPSHOTS_PER_DATASET; s++)
      await run(['zfs', 'snapshot', '-r', '--', `${name}/b@s${s}`]);
    out['setup: 100 datasets × 100 snapshots (s)'] = ((performance.now() - setupStart) / 1000).toFixed(1);

    const raw: number[] = [];
    const ours: number[] = [];
    let rawLines = 0;
    let total = 0;
    for (let i = 0; i < 3; i++) {
      const [tr, r] = await timed(() => run(['zfs', 'list', '-t', 'snapshot', '-H']));
      raw.push(tr);
      rawLines = r.stdout.split('\n').filter(Boolean).length;
      const [to, page] = await timed(() =>
        agent.call<{ total: number; items: unknown[] }>('snapshot.list', { refresh: true, limit: 100_000 }),
      );
      ours.push(to);
      total = page.total;
      if (page.items.length !== total) throw new Error('snapshot.list returned a partial list');
    }
    if (total !== DATASETS * SNAPSHOTS_PER_DATASET || rawLines !== total) {
      throw new Error(
        `expected ${DATASETS * SNAPSHOTS_PER_DATASET} snapshots, got ${total} (raw ${rawLines})`,
      );
    }
    out.snapshots = total;
    out['raw zfs list -t snapshot -H (median ms)'] = median(raw).toFixed(0);
    out['snapshot.list full list, cache bypassed (median ms)'] = median(ours).toFixed(0);
    out['ratio snapshot.list / raw (goal ≤ 1.25)'] = (median(ours) / median(raw)).toFixed(3);
    out['runs raw / snapshot.list (ms)'] =
      `${raw.map((x) => x.toFixed(0)).join(' ')} / ${ours.map((x) => x.toFixed(0)).join(' ')}`;

    const first: number[] = [];
    const sorted: number[] = [];
    for (let i = 0; i < 20; i++) {
      const [t, page] = await timed(() =>
        agent.call<{ cached: boolean; items: unknown[] }>('snapshot.list', { limit: 50 }),
      );
      if (!page.cached || page.items.length !== 50)
        throw new Error('first page was not served from the cache');
      first.push(t);
      const [t2] = await timed(() =>
        agent.call('snapshot.list', {
          limit: 50,
          offset: 5000,
          sort: 'created',
          order: 'desc',
          dataset: `${name}/b`,
          recursive: true,
        }),
      );
      sorted.push(t2);
    }
    out['first page (50) from cache (median ms, goal ≤ 50)'] = median(first).toFixed(2);
    out['filtered, sorted page from cache (median ms)'] = median(sorted).toFixed(2);
  } finally {
    await destroyPools([name]);
    await agent.stop();
    await fuse.release();
  }
  return out;
}
