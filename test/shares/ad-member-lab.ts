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
import type { MemberNs } from '../../sandbox/samba-dc.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
