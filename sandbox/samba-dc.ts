/**
 * A real Samba Active Directory domain controller for tests: provisioned under a temporary
 * prefix (`samba-tool domain provision --targetdir`) and run in the foreground (`samba -i -M
 * single`) inside namespaces of its own — a network namespace (the DC insists on ports 53, 88,
 * 389, 445: there they never meet the host's), a pid namespace (stopping it takes smbd and
 * winbindd with it, reaped) and a mount namespace in which /etc is a throwaway overlay and
 * /run/samba, /var/lib/samba, /var/log/samba and /var/cache/samba are empty tmpfs: whatever a
 * Samba tool writes to its built-in paths (a keytab to /etc/krb5.keytab, pid files) never
 * reaches the host. The member side (`net ads`, `kinit`, `klist`) runs in the same namespaces
 * through `nsenter` (`wrap(argv)`); there /etc/resolv.conf names the DC's DNS server.
 *
 * Field notes (Debian 12, Samba 4.17): `samba-tool domain provision` needs the
 * `samba-ad-provision` package (the AD schema files); the DC binds nothing useful on loopback
 * alone (provision with no address says "No IPv4 address will be assigned"), so the namespace's
 * lo gets a second address, 10.53.0.1, as the DC's; no dummy interfaces here ("Unknown device
 * type"); `net ads join` resolves the DC's host name through the system resolver, hence the
 * namespace's own resolv.conf.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './paths.js';

export interface SambaDc {
  dir: string;
  realm: string;
  domain: string;
  /** the DC's address (and DNS server) inside its network namespace */
  ip: string;
  adminPassword: string;
  /** the pid nsenter targets (the namespaces' first process, samba itself) */
  pid: number;
  /** argv run in the DC's network and mount namespaces */
  wrap(argv: readonly string[]): string[];
  /** samba-tool against the DC's own database (no network, no password) */
  tool(...args: string[]): string;
  /**
   * A domain member's namespaces: the DC's network, a mount namespace of its own (see
   * `startMember`). Stopped with the DC too.
   */
  member(): Promise<MemberNs>;
  stop(): Promise<void>;
}

/** A member's mount namespace inside the DC's network namespace (`startMember`). */
export interface MemberNs {
  /** the holder process nsenter targets */
  pid: number;
  /** argv run in the member's network and mount namespaces */
  wrap(argv: readonly string[]): string[];
  stop(): Promise<void>;
}

export interface SambaDcOptions {
  realm?: string;
  domain?: string;
  parent?: string;
  /** ms to wait for the DC's ports; default 60 s (a loaded machine) */
  timeoutMs?: number;
}

const IP = '10.53.0.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why a Samba AD DC cannot run here, or undefined when the tools are there. */
export function sambaDcMissing(): string | undefined {
  const need: [string, string][] = [
    ['/usr/sbin/samba', 'samba-ad-dc'],
    ['/usr/bin/samba-tool', 'samba-ad-dc'],
    ['/usr/bin/net', 'samba-common-bin'],
    ['/usr/bin/kinit', 'krb5-user'],
    ['/usr/bin/nsenter', 'util-linux'],
    ['/usr/bin/unshare', 'util-linux'],
  ];
  for (const [bin, pkg] of need) if (!existsSync(bin)) return `${bin} is missing (apt-get install ${pkg})`;
  if (!existsSync('/usr/share/samba/setup/ad-schema'))
    return 'the AD schema files are missing (apt-get install samba-ad-provision)';
  if (process.getuid?.() !== 0) return 'namespaces and a DC need root';
  return undefined;
}

/** The mounts and addresses every process of the lab sees (run first in the new namespaces). */
function setupScript(dir: string): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    'set -e',
    'ip link set lo up',
    `ip addr add ${IP}/32 dev lo`,
    `mount -t overlay calypso-ad-etc -o lowerdir=/etc,upperdir=${q(`${dir}/etc-up`)},workdir=${q(`${dir}/etc-work`)} /etc`,
    `mount --bind ${q(`${dir}/resolv.conf`)} /etc/resolv.conf`,
    `mount --bind ${q(`${dir}/hosts`)} /etc/hosts`,
    'for d in /run/samba /var/lib/samba /var/log/samba /var/cache/samba; do mkdir -p "$d"; mount -t tmpfs -o mode=755 calypso-ad "$d"; done',
  ].join('\n');
}

/**
 * The DC's own paths under its prefix. Not `winbindd socket directory`: the DC's smbd reaches
 * winbindd through libwbclient, which knows only the built-in /run/samba/winbindd (with it
 * moved, every NTLM logon failed "SPNEGO login failed: An internal error occurred"); the
 * namespace's tmpfs /run/samba keeps that socket off the host.
 */
function dcOptions(dir: string): string[] {
  const o = {
    interfaces: 'lo',
    'bind interfaces only': 'yes',
    'pid directory': `${dir}/run`,
    'ncalrpc dir': `${dir}/run/ncalrpc`,
    'ntp signd socket directory': `${dir}/run/ntp_signd`,
    'log file': `${dir}/log/log.%m`,
    // nowhere (no route in the namespace): a name the DC does not know fails at once. Its own
    // address made every unknown name (a wrong realm's SRV record) loop through the single
    // process until it answered nothing at all
    'dns forwarder': '10.53.0.2',
  };
  return Object.entries(o).map(([k, v]) => `--option=${k}=${v}`);
}

function childOf(pid: number): number | undefined {
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const c = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/)[0];
      if (c) return Number(c);
    }
  } catch {
    /* gone */
  }
  return undefined;
}

/** TCP ports listening in the namespace of `pid` (its /proc/net/tcp). */
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

export async function startSambaDc(o: SambaDcOptions = {}): Promise<SambaDc> {
  const missing = sambaDcMissing();
  if (missing) throw new Error(`no Samba AD DC here: ${missing}`);
  const realm = (o.realm ?? 'CALYPSO.TEST').toUpperCase();
  const domain = o.domain ?? 'CALYPSO';
  const adminPassword = 'Calypso-Admin-1!';
  const { dir, cleanup } = tempDir('calypso-addc-', o.parent);
  for (const d of ['etc-up', 'etc-work', 'run', 'log', 'dc']) mkdirSync(path.join(dir, d));
  writeFileSync(path.join(dir, 'resolv.conf'), `nameserver ${IP}\n`);
  writeFileSync(path.join(dir, 'hosts'), `127.0.0.1 localhost\n${IP} dc1.${realm.toLowerCase()} dc1\n`);
  const setup = setupScript(dir);
  const target = path.join(dir, 'dc');
  const conf = path.join(target, 'etc/smb.conf');
  let proc: ChildProcess | undefined;
  let pid = 0;
  const stop = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise((r) => proc?.once('exit', r));
      // samba first (the pid namespace's first process): the kernel takes every other process of
      // the namespace with it, and unshare, its parent, reaps it and exits. A SIGTERM to unshare
      // instead left samba to pdeathsig, a zombie of the host's pid 1 (which reaps nothing here)
      const signal = (s: NodeJS.Signals) => {
        try {
          if (pid) process.kill(pid, s);
          else proc?.kill(s);
        } catch {
          /* gone */
        }
      };
      signal('SIGTERM');
      await Promise.race([gone, sleep(10_000)]);
      if (proc.exitCode === null && proc.signalCode === null) {
        signal('SIGKILL');
        await Promise.race([gone, sleep(5_000)]);
        proc.kill('SIGKILL');
        await gone;
      }
    }
    cleanup();
  };
  try {
    // provisioned inside namespaces too: it writes nothing but its target directory, and looks up
    // no address of the host's
    execFileSync(
      'unshare',
      [
        '-mn',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        `${setup}\nexec "$@"`,
        'provision',
        'samba-tool',
        'domain',
        'provision',
        `--targetdir=${target}`,
        `--realm=${realm}`,
        `--domain=${domain}`,
        '--server-role=dc',
        '--dns-backend=SAMBA_INTERNAL',
        '--host-name=dc1',
        `--host-ip=${IP}`,
        `--adminpass=${adminPassword}`,
        ...dcOptions(dir),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 180_000 },
    );
    proc = spawn(
      'unshare',
      [
        '-mnpf',
        '--mount-proc',
        '--kill-child',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        `${setup}\nexec "$@"`,
        'dc',
        'samba',
        '-i',
        '-M',
        'single',
        '-s',
        conf,
        '--debuglevel=1',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    const deadline = Date.now() + (o.timeoutMs ?? 60_000);
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`samba exited ${proc.exitCode}: see ${dir}/log`);
      if (!pid && proc.pid) pid = childOf(proc.pid) ?? 0;
      const ports = pid ? listening(pid) : new Set<number>();
      if ([53, 88, 389, 445].every((p) => ports.has(p))) break;
      if (Date.now() > deadline)
        throw new Error(`the DC did not listen on 53, 88, 389, 445 in time (see ${dir}/log)`);
      await sleep(250);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const wrap = (argv: readonly string[]) => ['nsenter', '-t', String(pid), '-n', '-m', '--', ...argv];
  const members: MemberNs[] = [];
  const stopAll = async () => {
    for (const m of members.splice(0)) await m.stop();
    await stop();
  };
  return {
    dir,
    realm,
    domain,
    ip: IP,
    adminPassword,
    pid,
    wrap,
    tool: (...args) => {
      const [bin, ...rest] = wrap([
        'samba-tool',
        ...args,
        '-s',
        conf,
        '-H',
        path.join(target, 'private/sam.ldb'),
      ]);
      return execFileSync(bin as string, rest, { encoding: 'utf8', stdio: 'pipe', timeout: 60_000 });
    },
    member: async () => {
      const m = await startMember(pid, dir);
      members.push(m);
      return m;
    },
    stop: stopAll,
  };
}

/**
 * A domain member beside the DC: a holder process (`sleep`) in the DC's network namespace and a
 * mount namespace of its own, made from the DC's (its /etc overlay, resolv.conf naming the DC)
 * with fresh tmpfs over /run/samba, /var/lib/samba, /var/cache/samba and /var/log/samba, and an
 * nsswitch.conf that asks winbind. Debian's libwbclient (wbinfo, nss_winbind, smbd) knows only
 * the built-in /run/samba/winbindd: here that socket is the member's winbindd, and the DC's
 * smbd keeps its own in the DC's namespace.
 */
async function startMember(dcPid: number, dcDir: string): Promise<MemberNs> {
  const nss = path.join(dcDir, 'member-nsswitch.conf');
  writeFileSync(nss, 'passwd: files winbind\ngroup: files winbind\nshadow: files\nhosts: files dns\n');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = [
    'set -e',
    'for d in /run/samba /var/lib/samba /var/cache/samba /var/log/samba; do mount -t tmpfs -o mode=755 calypso-member "$d"; done',
    `mount --bind ${q(nss)} /etc/nsswitch.conf`,
    'exec sleep infinity',
  ].join('\n');
  const proc = spawn(
    'nsenter',
    [
      '-t',
      String(dcPid),
      '-n',
      '-m',
      '--',
      'unshare',
      '-m',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      script,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  proc.stderr?.on('data', (d) => {
    err += d;
  });
  const pid = proc.pid ?? 0;
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await gone;
  };
  // ready once the holder is `sleep` (the mounts made) in a mount namespace not the DC's
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the member's namespace failed: ${err}`);
    const comm = (() => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        return '';
      }
    })();
    if (comm === 'sleep') break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the member's namespace did not come up: ${err}`);
    }
    await sleep(50);
  }
  return {
    pid,
    wrap: (argv) => ['nsenter', '-t', String(pid), '-n', '-m', '--', ...argv],
    stop,
  };
}
