/**
 * The demo appliance (`npm run demo` as root on a machine with the tools): inside its private
 * mount namespace (sandbox/namespace.ts) it starts its own zfs-fuse, a tgtd for iSCSI, tgt's
 * emulated tape library, then the agent (root inside the sandbox, its configuration pointing at
 * those daemons), and seeds through the agent's own methods: a file-backed pool with datasets
 * and snapshots, an iSCSI target with a LUN, the library's inventory, a capacity alert, a Bacula
 * job with a finished run (sandbox/demo-backup.ts) and a bucket with objects on a one-OSD Ceph
 * (sandbox/demo-object.ts; the slowest to start, so it starts while the others do).
 * Optionally cockpit-ws with the plugin (`--ui`). Each part that cannot start is said in one
 * line, and the rest goes on. stop() undoes everything in reverse order: the pool is destroyed
 * (only the pool the demo made, by name), every daemon stopped, the sandbox's files removed.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { createLayout } from '../agent/layout.js';
import { AgentClient } from '../rpc/client.js';
import type { CephLab } from './ceph.js';
import { buildPlugin, type CockpitServer, cockpitMissing, startCockpit } from './cockpit.js';
import {
  BACULA_INSTALL,
  BACULA_TOOLS,
  demoDataDir,
  runBackup,
  startBacula,
  stopBackup,
} from './demo-backup.js';
import { CEPH_INSTALL, CEPH_TOOLS, objectConfig, seedBucket, startCeph } from './demo-object.js';
import { sandboxMounts } from './namespace.js';
import { freePort, repoRoot } from './paths.js';
import { startTapeLab, type TapeLab } from './tape.js';
import { startTgtLab, type TgtLab } from './tgt.js';
import { startZfsFuse, type ZfsFuse, zpoolNames } from './zfs-fuse.js';

export interface ApplianceOptions {
  prefix: string;
  /** the calypso.yaml the user's demo reads (the sandbox writes a copy with its daemons added) */
  config: string;
  ui: boolean;
  say(line: string): void;
}

export interface Appliance {
  socket: string;
  pool?: string;
  url?: string;
  /** what could not be shown, one line each */
  missing: string[];
  stop(): Promise<void>;
}

const IQN = 'iqn.2026-12.org.calypso.demo:lun-target';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function have(tool: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .some((d) => d && existsSync(path.join(d, tool)));
}

export async function startAppliance(o: ApplianceOptions): Promise<Appliance> {
  const { prefix, say } = o;
  const layout = createLayout(prefix);
  const box = path.join(prefix, 'sandbox');
  rmSync(box, { recursive: true, force: true });
  mkdirSync(box, { recursive: true });
  const undo: { what: string; fn: () => Promise<void> | void }[] = [];
  const missing: string[] = [];
  const lack = (what: string, why: string) => {
    missing.push(`${what}: ${why}`);
    say(`demo: no ${what}: ${why}`);
  };
  let client: AgentClient | undefined;
  let pool: string | undefined;
  let url: string | undefined;
  let agentExit = '';
  /** parts still starting: stop() waits for them (their stops are in undo once they are up) */
  const pending: Promise<unknown>[] = [];

  const t0 = Date.now();
  const mark = (what: string) => {
    if (process.env.CALYPSO_DEMO_TIMING) say(`demo: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };
  const stop = async () => {
    client?.close();
    await Promise.allSettled(pending);
    for (const u of undo.reverse()) {
      try {
        await u.fn();
      } catch (e) {
        say(`demo: stopping ${u.what}: ${(e as Error).message}`);
      }
    }
    undo.length = 0;
    rmSync(box, { recursive: true, force: true });
  };

  try {
    sandboxMounts(path.join(box, 'dev-stage'));
    // Ceph first, in parallel with the rest: its monitor and OSD take the longest to start
    const cephAbsent = CEPH_TOOLS.filter((t) => !have(t));
    let cephP: Promise<CephLab | undefined> = Promise.resolve(undefined);
    const rgwPort = await freePort();
    if (cephAbsent.length) lack('bucket', `${cephAbsent.join(', ')} not installed (${CEPH_INSTALL})`);
    else {
      cephP = startCeph(box, rgwPort).then(
        (lab) => {
          mark('ceph up');
          // stopped last, after the agent (whose radosgw it also stops)
          undo.unshift({ what: 'ceph (mon, osd, radosgw)', fn: () => lab.stop() });
          return lab;
        },
        (e: Error) => {
          lack('bucket', `the Ceph cluster did not start: ${e.message.split('\n')[0]}`);
          return undefined;
        },
      );
      pending.push(cephP);
    }
    // every daemon of the sandbox: ZFS, iSCSI and the tape library
    let zfs: ZfsFuse | undefined;
    if (!have('zfs-fuse') || !have('zpool'))
      lack('pool', 'zfs-fuse is not installed (apt-get install zfs-fuse)');
    else {
      zfs = await startZfsFuse(box);
      undo.push({ what: 'zfs-fuse', fn: () => zfs?.stop() });
    }
    let tgt: TgtLab | undefined;
    let tape: TapeLab | undefined;
    if (!have('tgtd') || !have('tgtadm')) {
      lack('iSCSI target', 'tgtd is not installed (apt-get install tgt)');
      lack('tape library', 'tgtd is not installed (apt-get install tgt)');
    } else {
      tgt = await startTgtLab({ parent: box, port: await freePort(), control: 1, blockio: false });
      undo.push({ what: 'tgtd (iSCSI)', fn: () => tgt?.stop() });
      if (!have('mtx') || !have('tgtimg')) lack('tape library', 'mtx is not installed (apt-get install mtx)');
      else {
        try {
          tape = await startTapeLab({ parent: box, port: await freePort(), control: 2, tapes: 4 });
          undo.push({ what: 'tgtd (tape library)', fn: () => tape?.stop() });
        } catch (e) {
          lack('tape library', `the emulated library did not start: ${(e as Error).message.split('\n')[0]}`);
        }
      }
    }

    mark('zfs-fuse, tgtd, tape library up');
    // the agent's configuration: the user's, plus the sandbox's daemons
    const doc = parseDocument(existsSync(o.config) ? readFileSync(o.config, 'utf8') : '{}');
    // the agent runs as root here and the UI has no login: no shell through the agent (the
    // sandbox confines storage, not the file system)
    doc.setIn(['terminal', 'enabled'], false);
    if (tgt) doc.setIn(['iscsi'], { backend: 'tgt', tgtControlPort: tgt.control });
    if (tape)
      doc.setIn(['tape'], {
        changers: [
          {
            id: 'library',
            device: tape.changerDevice,
            drives: tape.driveDevices.map((d, i) => ({ device: d, sg: tape.driveSgDevices[i] })),
          },
        ],
        toolEnv: tape.env,
      });
    // the cluster's files and port are known before it is up: the agent need not wait for it
    if (!cephAbsent.length) doc.setIn(['object'], objectConfig(box, rgwPort));
    const config = path.join(layout.etc, 'calypso.sandbox.yaml');
    mkdirSync(layout.etc, { recursive: true });
    writeFileSync(config, `# written by npm run demo: ${o.config} with the sandbox's daemons\n${doc}`);

    const agent = spawn(
      process.execPath,
      [path.join(repoRoot(), 'dist/agent/main.js'), '--prefix', prefix, '--config', config],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const exited = new Promise<void>((r) =>
      agent.once('exit', (code, sig) => {
        agentExit = String(code ?? sig);
        r();
      }),
    );
    undo.push({
      what: 'the agent',
      fn: async () => {
        if (agent.exitCode !== null || agent.signalCode !== null) return;
        agent.kill('SIGTERM');
        await Promise.race([exited, sleep(20_000)]);
        if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
        await exited;
      },
    });
    client = await connect(agent, layout.socket);
    mark('agent up');
    const c = client;
    const call = <T>(m: string, p: Record<string, unknown> = {}) => c.call<T>(m, p);

    // Bacula's daemons and the bucket (as soon as Ceph is up) while the pool is made
    const baculaAbsent = BACULA_TOOLS.filter((t) => !have(t));
    if (baculaAbsent.length) lack('backup', `${baculaAbsent.join(', ')} not installed (${BACULA_INSTALL})`);
    const failed = (what: string, how: string) => (e: Error) => {
      lack(what, `${how}: ${e.message.split('\n')[0]}`);
      return false;
    };
    const bacula = baculaAbsent.length
      ? Promise.resolve(false)
      : startBacula(call, prefix, (d) =>
          undo.push({ what: 'bacula (dir, sd, fd)', fn: () => stopBackup(d, prefix) }),
        ).then(() => true, failed('backup', 'the Bacula daemons did not start'));
    const bucket = cephP.then(
      (lab) =>
        lab &&
        seedBucket(call, lab).then(
          () => mark('bucket seeded'),
          failed('bucket', 'the bucket could not be made'),
        ),
    );
    pending.push(bacula, bucket);
    if (zfs) {
      pool = await seedPool(call, box);
      const name = pool;
      // before the agent stops (undo runs in reverse): the pool goes with the demo, by its name only
      undo.splice(undo.findIndex((u) => u.what === 'the agent') + 1, 0, {
        what: `pool ${name}`,
        fn: () => destroyPool(name),
      });
    }
    mark('pool seeded');
    // the rest at once: each waits on its own daemons
    await Promise.all([
      tgt && seedIscsi(call, tgt),
      tape &&
        call<{ job: string }>('changer.inventory', { changer: 'library' }).then((j) => waitJob(call, j.job)),
      bacula.then(
        (up) =>
          up &&
          runBackup(call, backupSource(box, pool))
            .then((id) => waitJob(call, id))
            .then(() => mark('backup finished'), failed('backup', 'the Bacula job did not run')),
      ),
      bucket,
    ]);

    if (o.ui) {
      const why = cockpitMissing();
      if (why) lack('web UI', why);
      else {
        const plugin = path.join(box, 'plugin');
        await buildPlugin(plugin, layout.socket);
        chmodSync(box, 0o755);
        const ws: CockpitServer = await startCockpit({ pluginDir: plugin, parent: box });
        undo.push({
          what: 'cockpit-ws',
          fn: async () => {
            const left = await ws.stop();
            if (left.length) throw new Error(`left running: ${left.map((p) => p.pid).join(', ')}`);
          },
        });
        url = ws.url;
      }
    }
    return { socket: layout.socket, pool, url, missing, stop };
  } catch (e) {
    const agentGone = agentExit ? ` (the agent exited: ${agentExit})` : '';
    await stop();
    throw new Error(`${(e as Error).message}${agentGone}`);
  }
}

/** Wait for the agent's socket to answer (or its exit). */
async function connect(agent: ChildProcess, socket: string): Promise<AgentClient> {
  for (let i = 0; ; i++) {
    if (agent.exitCode !== null || agent.signalCode !== null)
      throw new Error(`the agent exited (${agent.exitCode ?? agent.signalCode}) before it was ready`);
    try {
      const c = await AgentClient.connectUnix(socket);
      await c.call('system.ping');
      return c;
    } catch {
      if (i > 600) throw new Error(`the agent did not answer on ${socket} in 60 s`);
      await sleep(100);
    }
  }
}

type Call = <T>(m: string, p?: Record<string, unknown>) => Promise<T>;

async function waitJob(call: Call, id: string): Promise<void> {
  for (;;) {
    const j = await call<{ state: string; error?: { message?: string } }>('job.get', { id });
    if (j.state === 'success') return;
    if (j.state !== 'running' && j.state !== 'queued' && j.state !== 'pending')
      throw new Error(`job ${id}: ${j.state} ${j.error?.message ?? ''}`);
    await sleep(200);
  }
}

/**
 * A pool on two sparse files under the sandbox, a dataset tree with snapshots, some data (so the
 * pool is a few percent full) and an alert rule low enough for that to raise a capacity warning.
 */
async function seedPool(call: Call, box: string): Promise<string> {
  // unique, and checked: the demo's zfs-fuse started empty, and this name is not among its pools
  const name = `demo${randomBytes(3).toString('hex')}`;
  if (zpoolNames().includes(name)) throw new Error(`pool ${name} exists already`);
  const vdevs = path.join(box, 'vdevs');
  mkdirSync(vdevs, { recursive: true });
  const files = ['disk1.img', 'disk2.img'].map((f) => {
    const p = path.join(vdevs, f);
    execFileSync('truncate', ['-s', '256M', p]);
    return p;
  });
  const mnt = path.join(box, 'mnt');
  mkdirSync(mnt, { recursive: true });
  await call('alert.rules.set', { thresholds: { poolCapacityWarning: 2, poolCapacityCritical: 95 } });
  await call('pool.create', { name, topology: { data: [{ type: 'mirror', disks: files }] }, altroot: mnt });
  for (const ds of ['shares', 'shares/projects', 'shares/home', 'backups'])
    await call('dataset.create', { name: `${name}/${ds}`, properties: { compression: 'on' } });
  // data, so that the capacity alert has something to say
  const where = mountpoint(`${name}/shares/projects`);
  if (where.startsWith('/')) writeFileSync(path.join(where, 'report.bin'), randomBytes(12 * 1024 * 1024));
  for (const s of ['monday', 'tuesday', 'wednesday'])
    await call('snapshot.create', { dataset: `${name}/shares/projects`, name: s });
  await call('snapshot.create', { dataset: `${name}/shares`, name: 'before-upgrade', recursive: true });
  // a scrub (its start wakes the health check that raises the capacity warning)
  await call('pool.scrub', { name }).catch(() => undefined);
  for (let i = 0; i < 100; i++) {
    const n = await call<{ critical: number; warning: number; info: number }>('alert.count');
    if (n.critical + n.warning + n.info > 0) break;
    await sleep(300);
  }
  return name;
}

/** What the demo backs up: the pool's projects dataset, or without a pool a few files of the sandbox's. */
function backupSource(box: string, pool: string | undefined): string {
  const data = pool ? mountpoint(`${pool}/shares/projects`) : '';
  if (data.startsWith('/')) return data;
  const dir = demoDataDir(box);
  mkdirSync(dir, { recursive: true });
  for (const f of ['budget.ods', 'minutes.txt', 'plan.pdf'])
    writeFileSync(path.join(dir, f), randomBytes(256 * 1024));
  return dir;
}

function mountpoint(dataset: string): string {
  return execFileSync('zfs', ['get', '-H', '-o', 'value', 'mountpoint', dataset], {
    encoding: 'utf8',
  }).trim();
}

async function seedIscsi(call: Call, tgt: TgtLab): Promise<void> {
  await call('iscsi.target.create', {
    iqn: IQN,
    alias: 'demo',
    portals: [{ address: '127.0.0.1', port: tgt.port }],
  });
  await call('iscsi.lun.create', {
    target: IQN,
    backing: { kind: 'file', name: 'demo-lun1.img', sizeBytes: 64 * 1024 * 1024 },
  });
}

/** Destroy the demo's pool (the name it made, never another), retrying while zfs-fuse says busy. */
async function destroyPool(name: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    if (!zpoolNames().includes(name)) return;
    try {
      execFileSync('zpool', ['destroy', '-f', '--', name], { stdio: 'pipe', timeout: 60_000 });
    } catch {
      await sleep(500);
    }
  }
  if (zpoolNames().includes(name)) throw new Error(`pool ${name} is still there`);
}
