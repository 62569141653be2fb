/**
 * The demo appliance (`npm run demo` as root on a machine with the tools): inside its private
 * mount namespace (sandbox/namespace.ts) it starts its own zfs-fuse, a tgtd for iSCSI, tgt's
 * emulated tape library, then the agent (root inside the sandbox, its configuration pointing at
 * those daemons), and seeds through the agent's own methods: a file-backed pool with datasets
 * and snapshots, an iSCSI target with a LUN, the library's inventory, and a capacity alert.
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
import { buildPlugin, type CockpitServer, cockpitMissing, startCockpit } from './cockpit.js';
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

  const stop = async () => {
    client?.close();
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
    const c = client;
    const call = <T>(m: string, p: Record<string, unknown> = {}) => c.call<T>(m, p);

    if (zfs) {
      pool = await seedPool(call, box);
      const name = pool;
      // before the agent stops (undo runs in reverse): the pool goes with the demo, by its name only
      undo.splice(undo.findIndex((u) => u.what === 'the agent') + 1, 0, {
        what: `pool ${name}`,
        fn: () => destroyPool(name),
      });
    }
    if (tgt) await seedIscsi(call, tgt);
    if (tape)
      await waitJob(call, (await call<{ job: string }>('changer.inventory', { changer: 'library' })).job);

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
  const where = execFileSync('zfs', ['get', '-H', '-o', 'value', 'mountpoint', `${name}/shares/projects`], {
    encoding: 'utf8',
  }).trim();
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
