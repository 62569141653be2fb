/**
 * The domain member's smbd for the AD test: Debian's smbd on the agent's smb.conf (security =
 * ads), run in the member's namespaces (sandbox/samba-dc.ts `MemberNs`: the DC's network, a mount
 * namespace whose /run/samba/winbindd is the agent's winbindd), and smbclient run there as a
 * domain user. `stop()` ends smbd's process group and waits for it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Runner } from '../../agent/runner.js';
import type { ResolveSrv } from '../../agent/shares/directory-ad-dns.js';
import type { MemberNs } from '../../sandbox/samba-dc.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The agent's runner with each command in the member's namespaces (inside the DC's network): the
 * argv as the agent asked it is recorded in `ran` and shown, `nsenter` put before it.
 */
export function memberRunner(member: () => MemberNs, inner: Runner, ran: string[][] = []): Runner {
  return {
    run: (argv, o) => {
      ran.push([...argv]);
      return inner.run(member().wrap(argv), { ...o, shownArgv: argv });
    },
    spawn: (argv, o) => {
      ran.push([...argv]);
      return inner.spawn(member().wrap(argv), { ...o, shownArgv: argv });
    },
    which: (n) => inner.which(n),
  };
}

/** The agent's own DNS module (directory-ad-dns.ts), run in the network namespace of `pid` (the DC's). */
export function resolveSrvIn(pid: () => number): ResolveSrv {
  return async (name, server) => {
    const here = import.meta.url;
    const mod = new URL(`../../agent/shares/directory-ad-dns.${here.endsWith('.ts') ? 'ts' : 'js'}`, here)
      .href;
    const code = `import(${JSON.stringify(mod)}).then((m) => m.resolveSrv(${JSON.stringify(name)}, ${server === undefined ? 'undefined' : JSON.stringify(server)})).then((r) => console.log(JSON.stringify({ r })), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })))`;
    const { stdout } = await run(
      'nsenter',
      [
        '-t',
        String(pid()),
        '-n',
        '--',
        process.execPath,
        ...(here.endsWith('.ts') ? ['--import', 'tsx'] : []),
        '-e',
        code,
      ],
      { timeout: 30_000 },
    );
    const o = JSON.parse(stdout) as { r?: { name: string; port: number }[]; code?: string; message?: string };
    if (o.r) return o.r;
    throw Object.assign(new Error(o.message), { code: o.code });
  };
}

export interface MemberSmbd {
  stop(): Promise<void>;
  client(
    share: string,
    user: { name: string; password: string },
    commands: string,
  ): Promise<{ ok: boolean; out: string }>;
}

/** TCP ports listening in the network namespace of `pid`. */
function listening(pid: number): Set<number> {
  const out = new Set<number>();
  try {
    for (const l of readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1)) {
      const f = l.trim().split(/\s+/);
      if (f[3] === '0A') out.add(Number.parseInt(f[1]?.split(':')[1] ?? '0', 16));
    }
  } catch {
    /* gone */
  }
  return out;
}

export async function startMemberSmbd(
  member: MemberNs,
  conf: string,
  port: number,
  dir: string,
): Promise<MemberSmbd> {
  const [bin, ...args] = member.wrap([
    'smbd',
    '-s',
    conf,
    '--foreground',
    '--no-process-group',
    '--debug-stdout',
  ]);
  const child: ChildProcess = spawn(bin as string, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    // its own process group: smbd's shutdown signals its whole group
    detached: true,
  });
  let log = '';
  const keep = (d: Buffer) => {
    log = (log + d).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  async function stop(): Promise<void> {
    if (exited()) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    const group = (sig: NodeJS.Signals) => {
      try {
        process.kill(-(child.pid as number), sig);
      } catch {
        child.kill(sig);
      }
    };
    group('SIGTERM');
    if (await Promise.race([gone.then(() => true), sleep(5000).then(() => false)])) return;
    group('SIGKILL');
    await gone;
  }
  try {
    for (let i = 0; !listening(member.pid).has(port); i++) {
      if (exited()) throw new Error(`smbd exited at start: ${log}`);
      if (i > 300) throw new Error(`smbd did not listen on ${port}: ${log}`);
      await sleep(100);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const clientConf = path.join(dir, 'member-client.conf');
  writeFileSync(clientConf, '[global]\n');
  return {
    stop,
    async client(share, user, commands) {
      const [b, ...rest] = member.wrap([
        'smbclient',
        '-s',
        clientConf,
        '-p',
        String(port),
        `//127.0.0.1/${share}`,
        '-U',
        `${user.name}%${user.password}`,
        '-c',
        commands,
      ]);
      try {
        const r = await run(b as string, rest, { timeout: 30_000 });
        const out = `${r.stdout}${r.stderr}`;
        return { ok: !/NT_STATUS_\w+/.test(out), out };
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string };
        return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
      }
    },
  };
}
