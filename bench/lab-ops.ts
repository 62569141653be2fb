/**
 * Single operations in the kernel lab guest (bench/lab-guest.ts runs these first), each through the agent against the
 * same tool run directly in the same guest, interleaved, medians and their ratio:
 * - OpenZFS: pool.create + pool.destroy / `zpool create` + `zpool destroy`; dataset.create / `zfs create`;
 *   snapshot.create / `zfs snapshot` (goal ≤ 1.5×: the agent validates, runs the same argv, audits and reads back);
 * - LIO: iscsi.lun.create of a 16 MiB file LUN through the agent (configfs writes) / targetcli creating the same
 *   fileio backstore and LUN (goal ≤ 1.0×: the agent must not be slower than the tool an administrator uses).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { lioBackendFactory } from '../agent/iscsi/backend-lio.js';
import { iscsiSubsystem } from '../agent/iscsi/service.js';
import { createZfsService } from '../agent/zfs/service.js';
import { startTestAgent } from '../test/helpers/agent.js';
import { labLib } from '../test/lab/guest/sh.js';

const run = (argv: string[]) =>
  execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600_000 });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function ms(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** n interleaved rounds of (direct, agent); the medians, their ratio and whether it meets the goal */
async function pair(
  n: number,
  direct: (i: number) => unknown,
  agent: (i: number) => unknown,
  goal: number,
): Promise<string> {
  const d: number[] = [];
  const a: number[] = [];
  for (let i = 0; i < n; i++) {
    d.push(await ms(() => direct(i)));
    a.push(await ms(() => agent(i)));
  }
  return verdict(a, d, goal);
}

function verdict(a: number[], d: number[], goal: number): string {
  const r = median(a) / median(d);
  return `${median(a).toFixed(0)} / ${median(d).toFixed(0)} ms, ratio ${r.toFixed(2)} (goal ≤ ${goal}) ${r <= goal ? 'met' : 'NOT met'}`;
}

function vdev(file: string, bytes: number): string {
  const fd = openSync(file, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return file;
}

export async function benchZfsOps(res: Record<string, unknown>, rounds = 3): Promise<void> {
  run(['modprobe', 'zfs']);
  const disks = [0, 1, 2, 3].map((i) => vdev(`/tmp/ops${i}.vdev`, 256 << 20));
  const z = await startTestAgent({
    services: [createZfsService({ healthIntervalMs: 0, schedulerTickMs: 0 })],
  });
  try {
    res['pool create+destroy: agent / zpool'] = await pair(
      rounds,
      () => {
        run(['zpool', 'create', '-f', 'opsd', 'mirror', disks[0]!, disks[1]!]);
        run(['zpool', 'destroy', 'opsd']);
      },
      async () => {
        const topology = { data: [{ type: 'mirror', disks: [disks[2]!, disks[3]!] }] };
        await z.call('pool.create', { name: 'opsa', topology, force: true });
        await z.call('pool.destroy', { name: 'opsa', confirm: 'opsa' });
      },
      1.5,
    );
    run(['zpool', 'create', '-f', 'opsd', disks[0]!]);
    run(['zpool', 'create', '-f', 'opsa', disks[2]!]);
    res['dataset create: agent / zfs create'] = await pair(
      rounds * 2 + 1,
      (i) => run(['zfs', 'create', `opsd/d${i}`]),
      (i) => z.call('dataset.create', { name: `opsa/d${i}` }),
      1.5,
    );
    res['snapshot create: agent / zfs snapshot'] = await pair(
      rounds * 2 + 1,
      (i) => run(['zfs', 'snapshot', `opsd/d${i}@s`]),
      (i) => z.call('snapshot.create', { dataset: `opsa/d${i}`, name: 's' }),
      1.5,
    );
  } finally {
    await z.stop();
    for (const p of ['opsd', 'opsa']) {
      try {
        run(['zpool', 'destroy', '-f', p]);
      } catch {
        // not created: an earlier step failed
      }
    }
  }
}

const IQN_A = 'iqn.2026-12.org.calypso.bench:agent';
const IQN_D = 'iqn.2026-12.org.calypso.bench:direct';

export async function benchLioLun(res: Record<string, unknown>, rounds = 3): Promise<void> {
  run(['modprobe', '-a', 'target_core_mod', 'iscsi_target_mod', 'target_core_file', 'target_core_iblock']);
  await labLib('lab_dbus'); // targetcli-fb asks over the system bus
  const t = await startTestAgent({
    config: { iscsi: { backend: 'lio' } },
    services: [iscsiSubsystem([lioBackendFactory])],
  });
  try {
    // not interleaved: the agent owns LIO's configfs and removes a target made by hand at its next apply (drift),
    // so targetcli's rounds come first, then configfs is cleared and the agent's rounds follow
    const direct: number[] = [];
    run(['targetcli', '/iscsi', 'create', IQN_D]);
    for (let i = 0; i < rounds; i++) {
      direct.push(
        await ms(() => {
          const f = `/tmp/lio-direct-${i}.img`;
          run(['targetcli', '/backstores/fileio', 'create', `name=d${i}`, `file_or_dev=${f}`, 'size=16M']);
          run(['targetcli', `/iscsi/${IQN_D}/tpg1/luns`, 'create', `/backstores/fileio/d${i}`]);
        }),
      );
    }
    run(['targetcli', 'clearconfig', 'confirm=True']);
    await t.call('iscsi.target.create', { iqn: IQN_A, portals: [{ address: '127.0.0.1', port: 3260 }] });
    const agent: number[] = [];
    for (let i = 0; i < rounds; i++) {
      agent.push(
        await ms(() =>
          t.call('iscsi.lun.create', {
            target: IQN_A,
            backing: { kind: 'file', name: `a${i}.img`, sizeBytes: 16 << 20 },
          }),
        ),
      );
    }
    res['LIO LUN create (16 MiB file): agent / targetcli'] = verdict(agent, direct, 1.0);
  } finally {
    await t.call('iscsi.target.delete', { iqn: IQN_A }).catch(() => undefined);
    await t.stop();
    try {
      run(['targetcli', 'clearconfig', 'confirm=True']);
    } catch {
      // the guest is thrown away anyway
    }
  }
}
