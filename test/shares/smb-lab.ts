/**
 * A real smbd for tests, Samba's own way (cwrap): users and groups from nss_wrapper's passwd and
 * group files under a temporary directory (never the host's account database), smbd in the
 * foreground on the agent's generated smb.conf — whose private, state, lock, cache and pid
 * directories are under the test agent's prefix — on a free loopback port. `smbclient` runs
 * with an empty client configuration, so /etc/samba is never read. `stop()` ends smbd and its
 * helpers; `before` failing stops what it started.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Labels, MetricsSource } from '../../agent/metrics-registry.js';
import { tempDir } from '../helpers/paths.js';

const run = promisify(execFile);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface SmbAccounts {
  dir: string;
  passwd: string;
  group: string;
  env: Record<string, string>;
  cleanup(): void;
}

/** nss_wrapper files holding root and nobody (the guest account) only; the agent adds the rest. */
export function nssFiles(): SmbAccounts {
  const { dir, cleanup } = tempDir('calypso-smb-');
  const passwd = path.join(dir, 'passwd');
  const group = path.join(dir, 'group');
  writeFileSync(
    passwd,
    'root:x:0:0:root:/root:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  );
  writeFileSync(group, 'root:x:0:\nnogroup:x:65534:\n');
  const clientConf = path.join(dir, 'client.conf');
  writeFileSync(clientConf, '[global]\n');
  return {
    dir,
    passwd,
    group,
    env: { NSS_WRAPPER_PASSWD: passwd, NSS_WRAPPER_GROUP: group, LD_PRELOAD: 'libnss_wrapper.so' },
    cleanup,
  };
}

export interface Smbd {
  port: number;
  /** smbd's pid, also its process group's id (its children's too) */
  pid: number;
  stop(): Promise<void>;
  /** smbclient against //127.0.0.1/<share>; user undefined: anonymous (guest) */
  client(
    share: string,
    user: { name: string; password: string } | undefined,
    commands: string,
    timeoutMs?: number,
  ): Promise<{ ok: boolean; out: string }>;
  /**
   * an smbclient kept connected to the share, anonymous (guest) or as `user`: `send` a command
   * line, `close` quits and waits
   */
  guestSession(
    share: string,
    user?: { name: string; password: string },
  ): { send(line: string): void; close(): Promise<void>; out(): string };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startSmbd(conf: string, port: number, acc: SmbAccounts): Promise<Smbd> {
  const child: ChildProcess = spawn(
    'smbd',
    ['-s', conf, '--foreground', '--no-process-group', '--debug-stdout', '-d', '1'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      // its own process group: smbd's shutdown signals its whole group (kill(0, SIGTERM)), which
      // must not be the test's
      detached: true,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin', ...acc.env },
    },
  );
  let log = '';
  child.stdout?.on('data', (d) => {
    log = (log + d).slice(-8000);
  });
  child.stderr?.on('data', (d) => {
    log = (log + d).slice(-8000);
  });
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  async function stop(): Promise<void> {
    if (exited()) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    const group = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        child.kill(sig);
      }
    };
    group('SIGTERM');
    if (await Promise.race([gone.then(() => true), sleep(5000).then(() => false)])) return;
    group('SIGKILL');
    await gone;
  }
  const clientConf = path.join(acc.dir, 'client.conf');
  async function client(
    share: string,
    user: { name: string; password: string } | undefined,
    commands: string,
    timeoutMs = 30_000,
  ) {
    const auth = user ? ['-U', `${user.name}%${user.password}`] : ['-N'];
    try {
      const r = await run(
        'smbclient',
        ['-s', clientConf, '-p', String(port), `//127.0.0.1/${share}`, ...auth, '-c', commands],
        {
          timeout: timeoutMs,
          env: { PATH: process.env.PATH ?? '/usr/bin' },
        },
      );
      // smbclient answers 0 even when one of several commands failed: read its messages too
      const out = `${r.stdout}${r.stderr}`;
      return { ok: !/NT_STATUS_\w+/.test(out), out };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
    }
  }
  function guestSession(share: string, user?: { name: string; password: string }) {
    const auth = user ? ['-U', `${user.name}%${user.password}`] : ['-N'];
    const c = spawn('smbclient', ['-s', clientConf, '-p', String(port), `//127.0.0.1/${share}`, ...auth], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin' },
    });
    let out = '';
    c.stdout?.on('data', (d) => {
      out += d;
    });
    c.stderr?.on('data', (d) => {
      out += d;
    });
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    return {
      send: (line: string) => c.stdin?.write(`${line}\n`),
      out: () => out,
      async close() {
        c.stdin?.end('quit\n');
        if (!(await Promise.race([gone.then(() => true), sleep(10_000).then(() => false)])))
          c.kill('SIGKILL');
        await gone;
      },
    };
  }
  try {
    for (let i = 0; ; i++) {
      if (exited()) throw new Error(`smbd exited at start: ${log}`);
      const up = await new Promise<boolean>((resolve) => {
        const s = connect({ port, host: '127.0.0.1' }, () => {
          s.end();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
      if (up) break;
      if (i > 150) throw new Error(`smbd did not listen on ${port}: ${log}`);
      await sleep(100);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { port, pid: child.pid!, stop, client, guestSession };
}

/** One reading of a metrics source as its families' series: family name → [labels, value][]. */
export async function seriesOf(src: MetricsSource<unknown>): Promise<Record<string, [Labels, number][]>> {
  const reading = await src.read();
  const got: Record<string, [Labels, number][]> = {};
  for (const f of src.families)
    f.collect(
      reading,
      (l, v) => {
        got[f.name] = [...(got[f.name] ?? []), [l, v]];
      },
      0,
    );
  return got;
}
