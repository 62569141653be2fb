/**
 * A Ceph lab for the object-storage tests, the bench and the demo: one `ceph-mon`, one `ceph-osd` on
 * memstore and (optionally) `radosgw`, all under a temporary prefix with their own
 * configuration, keyrings, run directory, admin sockets and logs, on loopback ports the kernel
 * hands out. Nothing reads or writes /etc/ceph, /var/lib/ceph or /var/run/ceph: every daemon and
 * every tool is given `-c <conf>` and the conf sets every path.
 *
 * A single OSD holds every pool, so pools are size 1 (`mon_allow_pool_size_one`), with few PGs
 * and no redundancy warning. No ceph-mgr runs: data I/O does not need one (it only aggregates
 * statistics), and RGW's usage and quota come from the bucket index, not from the manager.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './paths.js';

const exec = promisify(execFile);

export { freePort };

export interface CephLab {
  dir: string;
  conf: string;
  /** client.admin's keyring (what radosgw-admin uses) */
  adminKeyring: string;
  /** the gateway's client name and keyring */
  rgwName: string;
  rgwKeyring: string;
  rgwPort: number;
  endpoint: string;
  /** Start radosgw in the foreground (as the lab's child) and wait until S3 answers. */
  startRgw(): Promise<void>;
  /** Stop the lab's radosgw and wait until it has exited. */
  stopRgw(): Promise<void>;
  rgwRunning(): boolean;
  /** Run radosgw-admin against the lab; returns stdout. */
  admin(...args: string[]): Promise<string>;
  /** Stop every daemon started under the prefix; throws when one survives. */
  stop(): Promise<void>;
}

export interface CephLabOptions {
  /** start radosgw too (default true) */
  rgw?: boolean;
  /** memstore capacity reported by the OSD, bytes */
  memstoreBytes?: number;
  /** RGW's `rgw_lc_debug_interval`: a lifecycle "day" lasts this many seconds (gateway and radosgw-admin) */
  lcDebugInterval?: number;
  /** the gateway's port (default: one the kernel picks as free) */
  rgwPort?: number;
}

/** The files a lab in `dir` will have (known before it starts: the demo configures its agent with them). */
export function cephLabPaths(dir: string) {
  const rgwName = 'client.rgw.lab';
  const kr = (n: string) => path.join(dir, 'keyring', `ceph.${n}.keyring`);
  return {
    conf: path.join(dir, 'ceph.conf'),
    adminKeyring: kr('client.admin'),
    rgwName,
    rgwKeyring: kr(rgwName),
    keyring: kr,
  };
}

function confText(
  dir: string,
  fsid: string,
  monPort: number,
  rgwName: string,
  rgwPort: number,
  bytes: number,
  lcDebugInterval?: number,
) {
  const p = (...x: string[]) => path.join(dir, ...x);
  return `[global]
fsid = ${fsid}
mon_host = [v2:127.0.0.1:${monPort}]
public_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = ${p('keyring', '$cluster.$name.keyring')}
run_dir = ${p('run')}
admin_socket = ${p('run', '$cluster-$name.asok')}
pid_file = ${p('run', '$cluster-$name.pid')}
log_file = ${p('log', '$cluster-$name.log')}
mon_cluster_log_file = ${p('log', '$cluster.log')}
crash_dir = ${p('crash')}
exporter_sock_dir = ${p('run')}
mon_data = ${p('mon', '$cluster-$id')}
osd_data = ${p('osd', '$cluster-$id')}
osd_objectstore = memstore
memstore_device_bytes = ${bytes}
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 1
mon_data_avail_crit = 0
mon_osd_min_down_reporters = 1
osd_memory_target_autotune = false
osd_op_num_shards = 1
osd_op_num_threads_per_shard = 2
osd_max_object_name_len = 256
debug_ms = 0
${lcDebugInterval ? `rgw_lc_debug_interval = ${lcDebugInterval}\n` : ''}
[client.admin]
admin_socket =
log_file =

[${rgwName}]
rgw_frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw_data = ${p('rgw')}
rgw_thread_pool_size = 32
rgw_enable_usage_log = false
`;
}

async function waitFor(what: string, test: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await test()) return;
    if (Date.now() > deadline) throw new Error(`ceph lab: ${what} not ready within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Pids of processes whose command line mentions `dir` (the lab's conf path is on each). */
export function processesUnder(dir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.includes(dir) && /(ceph-mon|ceph-osd|radosgw)/.test(cmd)) out.push(Number(e));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

async function s3Answers(endpoint: string): Promise<boolean> {
  try {
    const r = await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
    await r.arrayBuffer();
    return r.status < 500;
  } catch {
    return false;
  }
}

export async function startCephLab(dir: string, opts: CephLabOptions = {}): Promise<CephLab> {
  for (const d of ['keyring', 'run', 'log', 'crash', 'mon', 'osd/ceph-0', 'rgw']) {
    mkdirSync(path.join(dir, d), { recursive: true });
  }
  const fsid = randomUUID();
  const monPort = await freePort();
  const rgwPort = opts.rgwPort ?? (await freePort());
  const { conf, adminKeyring, rgwName, rgwKeyring, keyring: kr } = cephLabPaths(dir);
  writeFileSync(
    conf,
    confText(dir, fsid, monPort, rgwName, rgwPort, opts.memstoreBytes ?? 256 << 20, opts.lcDebugInterval),
  );
  const children = new Map<string, ChildProcess>();
  const run = async (bin: string, ...args: string[]) =>
    (await exec(bin, ['-c', conf, ...args], { timeout: 60_000 })).stdout;
  const daemon = (name: string, bin: string, args: string[]) => {
    const child = spawn(bin, ['-f', '-c', conf, ...args], { stdio: 'ignore' });
    children.set(name, child);
    child.once('exit', () => {
      if (children.get(name) === child) children.delete(name);
    });
  };
  const endpoint = `http://127.0.0.1:${rgwPort}`;

  const lab: CephLab = {
    dir,
    conf,
    adminKeyring,
    rgwName,
    rgwKeyring,
    rgwPort,
    endpoint,
    async startRgw() {
      daemon('rgw', 'radosgw', ['-n', rgwName, '--keyring', rgwKeyring]);
      await waitFor('radosgw', () => s3Answers(endpoint), 60_000);
    },
    async stopRgw() {
      const c = children.get('rgw');
      if (!c) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
    rgwRunning: () => children.has('rgw'),
    admin: (...args) => run('radosgw-admin', '-n', 'client.admin', ...args),
    async stop() {
      const all = [...children.values()];
      await Promise.all(
        all.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
              c.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
              c.kill('SIGTERM');
            }),
        ),
      );
      // daemons the agent started (daemonized radosgw) are found by their conf path
      for (const pid of processesUnder(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await waitFor('every ceph process gone', () => processesUnder(dir).length === 0, 10_000);
    },
  };

  try {
    await run(
      'ceph-authtool',
      '--create-keyring',
      kr('mon.'),
      '--gen-key',
      '-n',
      'mon.',
      '--cap',
      'mon',
      'allow *',
    );
    await run(
      'ceph-authtool',
      '--create-keyring',
      adminKeyring,
      '--gen-key',
      '-n',
      'client.admin',
      '--cap',
      'mon',
      'allow *',
      '--cap',
      'osd',
      'allow *',
      '--cap',
      'mgr',
      'allow *',
    );
    await run('ceph-authtool', kr('mon.'), '--import-keyring', adminKeyring);
    const monmap = path.join(dir, 'monmap');
    await exec('monmaptool', [
      '--create',
      '--addv',
      'a',
      `[v2:127.0.0.1:${monPort}]`,
      '--fsid',
      fsid,
      monmap,
    ]);
    await run('ceph-mon', '--mkfs', '-i', 'a', '--monmap', monmap, '--keyring', kr('mon.'));
    daemon('mon', 'ceph-mon', ['-i', 'a']);
    const ceph = (...a: string[]) => run('ceph', '-n', 'client.admin', '--connect-timeout', '10', ...a);
    await waitFor(
      'ceph-mon',
      async () =>
        ceph('mon', 'stat').then(
          () => true,
          () => false,
        ),
      30_000,
    );

    const uuid = randomUUID();
    const id = (await ceph('osd', 'new', uuid)).trim();
    if (id !== '0') throw new Error(`ceph lab: unexpected osd id ${id}`);
    await run('ceph-authtool', '--create-keyring', kr('osd.0'), '--gen-key', '-n', 'osd.0');
    await ceph('auth', 'add', 'osd.0', 'osd', 'allow *', 'mon', 'allow profile osd', '-i', kr('osd.0'));
    await run('ceph-osd', '-i', '0', '--mkfs', '--no-mon-config', '--osd-uuid', uuid);
    daemon('osd', 'ceph-osd', ['-i', '0']);
    await waitFor('ceph-osd', async () => /1 up/.test(await ceph('osd', 'stat').catch(() => '')), 60_000);
    await ceph('auth', 'get-or-create', rgwName, 'mon', 'allow rw', 'osd', 'allow rwx', '-o', rgwKeyring);
    if (opts.rgw !== false) await lab.startRgw();
  } catch (err) {
    await lab.stop().catch(() => {});
    throw err;
  }
  if (!existsSync(rgwKeyring)) throw new Error('ceph lab: no rgw keyring');
  return lab;
}
