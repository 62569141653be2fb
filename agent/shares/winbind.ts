/**
 * The member's winbindd (issue #26): started by the agent once a join holds, on the shares'
 * own smb.conf (`security = ads`, the idmap ranges of the join), stopped on leave and when the
 * agent stops. It listens on Samba's built-in socket, /run/samba/winbindd — the only one
 * Debian's libwbclient (wbinfo, nss_winbind, smbd) connects to — so there is one winbindd per
 * machine: the agent's. Domain users and groups are read through it with `wbinfo` (never the
 * machine's NSS configuration, which the agent does not edit).
 */

import type { AgentDeps } from '../deps.js';
import type { SpawnedCommand } from '../runner.js';

/** The argv of the member's winbindd: in the foreground, in the process group the runner gave it. */
export const winbinddArgv = (conf: string) => ['winbindd', '-s', conf, '--foreground', '--no-process-group'];
export const WBINFO_PING = ['wbinfo', '-p'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Winbindd {
  private proc: { cmd: SpawnedCommand; abort: AbortController; log: string[] } | undefined;

  constructor(
    private readonly deps: Pick<AgentDeps, 'runner' | 'log'>,
    private readonly conf: string,
    private readonly env: () => Record<string, string>,
  ) {}

  running(): boolean {
    const c = this.proc?.cmd.child;
    return !!c && c.exitCode === null && c.signalCode === null;
  }

  /** Start it (when it does not run) and wait until it answers `wbinfo -p`. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (!this.running()) {
      const abort = new AbortController();
      const cmd = this.deps.runner.spawn(winbinddArgv(this.conf), {
        timeoutMs: 0,
        signal: abort.signal,
        dieWithParent: true,
        env: this.env(),
      });
      const log: string[] = [];
      cmd.child.stdout?.resume();
      cmd.child.stderr?.on('data', (d: Buffer) => {
        log.push(String(d));
        if (log.length > 20) log.shift();
      });
      cmd.done.catch(() => {});
      this.proc = { cmd, abort, log };
    }
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running())
        throw new Error(`winbindd exited: ${this.proc?.log.join('').trim() || 'see its log file'}`);
      const r = await this.deps.runner.run(WBINFO_PING, { timeoutMs: 10_000, okCodes: [0, 1, 255] });
      if (r.code === 0) return;
      if (Date.now() > end)
        throw new Error(`winbindd does not answer: ${r.stderr.trim() || r.stdout.trim()}`);
      await sleep(200);
    }
  }

  /** Stop it (SIGTERM to its process group, SIGKILL after the runner's grace) and wait. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p) return;
    p.abort.abort();
    await p.cmd.done.catch(() => {});
  }
}
