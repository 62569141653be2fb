/**
 * Debian's sshd for the replication tests: on a free loopback port, with its own sshd_config,
 * host key, authorized_keys and pid file under the test's directory (never /etc/ssh). Started in
 * the foreground (-D) as our child, stopped by stop() with its session processes.
 *
 * sshd insists on its privilege-separation directory /run/sshd (compiled in); it is made when
 * missing, as Debian's unit does, and left (an empty directory other tests may be using).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../sandbox/paths.js';
import { suiteTag } from '../leftovers.js';

export interface Sshd {
  port: number;
  /** the authorized_keys file sshd reads (for every user) */
  authorizedKeys: string;
  /** sshd's log (its stderr) so far */
  log(): string;
  stop(): Promise<void>;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** pids of the children of `pid` (sshd's per-connection processes) */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

export async function startSshd(dir: string): Promise<Sshd> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey], { timeout: 30_000 });
  const authorizedKeys = path.join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, '', { mode: 0o600 });
  let lastErr = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = path.join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        'StrictModes no',
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'AllowTcpForwarding no',
        'X11Forwarding no',
        'PrintMotd no',
        'LogLevel VERBOSE',
        // sshd runs each session's command through root's bash, which sources ~/.bashrc when it sees an ssh client
        // at shell level 1 (on this machine: pyenv init, ~100 processes per session; minutes under the lab's
        // TCG). Starting it at level 2 skips that (docs/lab.md, Pitfalls)
        'SetEnv SHLVL=1',
        // in the kernel lab's guest (TCG) OpenSSH's default post-quantum key exchange (sntrup761x25519) costs ~1.6 s
        // of a 2.6–3.3 s session; X25519 alone 0.9–1.3 s (measured idle, 2026-12-07). The agent's ssh keeps its
        // defaults: the server offers one of them. On the host the default stays.
        ...(existsSync('/calypso-lab-run/cmd.sh') ? ['KexAlgorithms curve25519-sha256'] : []),
        '',
      ].join('\n'),
    );
    let log = '';
    const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...suiteTag() },
    });
    child.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    for (let i = 0; i < 100 && !exited && !/Server listening/.test(log); i++) await sleep(100);
    if (exited || !/Server listening/.test(log)) {
      lastErr = log;
      if (!exited) child.kill('SIGKILL');
      continue;
    }
    const pid = child.pid!;
    return {
      port,
      authorizedKeys,
      log: () => log,
      stop: async () => {
        const kids = childrenOf(pid);
        if (alive(pid)) child.kill('SIGTERM');
        for (const k of kids) if (alive(k)) process.kill(k, 'SIGTERM');
        for (let i = 0; i < 50 && (!exited || kids.some(alive)); i++) await sleep(100);
        if (!exited) child.kill('SIGKILL');
        for (const k of kids) if (alive(k)) process.kill(k, 'SIGKILL');
      },
    };
  }
  throw new Error(`sshd did not start: ${lastErr.slice(-500)}`);
}
