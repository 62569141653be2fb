/**
 * The replication lab: zfs-fuse with one pool on a file vdev (unique name), sshd on a free
 * loopback port, a sending agent (ZFS + remote) and a receiving agent (remote only, whose
 * authorized_keys is sshd's), each under its own temporary prefix. stop() undoes all of it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createRemoteSubsystem } from '../../agent/remote/service.js';
import { sshArgv } from '../../agent/remote/ssh.js';
import { createZfsService } from '../../agent/zfs/service.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import {
  destroyPoolsChecked,
  FAST,
  poolName,
  type RecordingRunner,
  recordingRunner,
  useZfsFuse,
  vdevFiles,
} from '../zfs/helpers.js';
import { type Sshd, startSshd } from './sshd.js';

export interface ReplLab {
  sender: TestAgent;
  receiver: TestAgent;
  sshd: Sshd;
  /** the sender's runner, recording every argv */
  runner: RecordingRunner;
  pool: string;
  /** run argv locally (zfs), as a promise of its output */
  zfs(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** the ssh argv the sender's key and pinned host key make for a remote command */
  ssh(remote: string, argv: string[]): string[];
  stop(): Promise<void>;
}

export function run(
  argv: string[],
  input?: NodeJS.ReadableStream,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout?.on('data', (d) => (stdout += d));
    c.stderr?.on('data', (d) => (stderr += d));
    if (input && c.stdin) {
      c.stdin.on('error', () => {});
      input.pipe(c.stdin);
    }
    c.once('error', reject);
    c.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export async function startReplLab(
  tag: string,
  o: { tickMs?: number; poolBytes?: number; commandTimeoutSec?: number } = {},
): Promise<ReplLab> {
  const remoteSubsystem = createRemoteSubsystem({ tickMs: o.tickMs ?? 0 });
  const undo: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const u of undo.reverse()) await u().catch(() => {});
  };
  try {
    const fuse = await useZfsFuse();
    undo.push(() => fuse.release());
    const runner = recordingRunner();
    const sender = await startTestAgent({
      runner,
      services: [createZfsService(FAST), remoteSubsystem],
      ...(o.commandTimeoutSec ? { config: { remote: { commandTimeoutSec: o.commandTimeoutSec } } } : {}),
    });
    undo.push(() => sender.stop());
    const sshd = await startSshd(path.join(sender.prefix, 'sshd'));
    undo.push(() => sshd.stop());
    const receiver = await startTestAgent({
      services: [remoteSubsystem],
      config: { remote: { authorizedKeys: sshd.authorizedKeys } },
    });
    undo.push(() => receiver.stop());
    const pool = poolName(tag);
    const [file] = vdevFiles(
      path.join(sender.prefix, 'vdevs'),
      ['pool.img'],
      o.poolBytes ?? 256 * 1024 * 1024,
    );
    await sender.call('pool.create', {
      name: pool,
      topology: { data: [{ type: 'stripe', disks: [file] }] },
      altroot: path.join(sender.prefix, 'mnt'),
    });
    // undo runs in reverse: the pool goes after sshd and the receiver, before the sender and zfs-fuse
    undo.splice(2, 0, () => destroyPoolsChecked([pool]));
    const lab: ReplLab = {
      sender,
      receiver,
      sshd,
      runner,
      pool,
      zfs: (args) => run(['zfs', ...args]),
      ssh: (remote, argv) => {
        const dir = path.join(sender.deps.layout.stateDir, 'remote', remote);
        return sshArgv(
          { host: '127.0.0.1', port: sshd.port, user: 'root' },
          { key: path.join(dir, 'id_ed25519'), knownHosts: path.join(dir, 'known_hosts') },
          argv,
        );
      },
      stop,
    };
    return lab;
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Create `datasets` on the sender, pair the remote `dr` (this lab's sshd, receiving into
 * `prefix`) and authorize the sender's key on the receiver as `sender1`. Answers that key.
 */
export async function pairDr(lab: ReplLab, prefix: string, datasets: string[] = [prefix]): Promise<string> {
  for (const ds of datasets) await lab.sender.call('dataset.create', { name: ds });
  const { publicKey } = await lab.sender.call<{ publicKey: string }>('remote.pair', {
    name: 'dr',
    host: '127.0.0.1',
    port: lab.sshd.port,
    prefix,
  });
  await lab.receiver.call('remote.authorize', { name: 'sender1', publicKey, prefix });
  return publicKey;
}

/** The snapshots of `ds` as `@name<TAB>guid`, oldest first (none: an empty list). */
export const snapshotGuids = async (lab: ReplLab, ds: string): Promise<string[]> =>
  (await lab.zfs(['get', '-Hp', '-o', 'name,value', '-d', '1', 'guid', '--', ds])).stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith(`${ds}@`))
    .map((l) => l.replace(/^[^@]*/, ''));
