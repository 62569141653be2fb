/**
 * The member's winbindd (issue #26): started by the agent once a join holds, on the shares'
 * own smb.conf (`security = ads`, the idmap ranges of the join), stopped on leave and when the
 * agent stops. It listens on Samba's built-in socket, /run/samba/winbindd — the only one
 * Debian's libwbclient (wbinfo, nss_winbind, smbd) connects to — so there is one winbindd per
 * machine: the agent's. Domain users and groups are read through it with `wbinfo` (never the
 * machine's NSS configuration, which the agent does not edit).
 */

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentDeps } from '../deps.js';
import type { SpawnedCommand } from '../runner.js';

/** The argv of the member's winbindd: in the foreground, in the process group the runner gave it. */
export const winbinddArgv = (conf: string) => ['winbindd', '-s', conf, '--foreground', '--no-process-group'];
export const WBINFO_PING = ['wbinfo', '-p'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Winbindd {
  private proc: { cmd: SpawnedCommand; abort: AbortController; log: string[] } | undefined;

  constructor(
    private readonly deps: Pick<AgentDeps, 'runner' | 'log' | 'sysroot'>,
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
    await this.stopRpcHelpers();
  }

  /**
   * winbindd (and smbd) start Samba's RPC helpers on demand (`samba-dcerpcd --np-helper` and its
   * `rpcd_*` workers, on the same `--configfile`); they leave the process group and outlive
   * winbindd, so they are ended here: SIGTERM, then SIGKILL after 5 s.
   */
  private async stopRpcHelpers(): Promise<void> {
    const proc = path.join(this.deps.sysroot, 'proc');
    const mine = async () => {
      const out: number[] = [];
      for (const e of await readdir(proc).catch(() => [] as string[])) {
        if (!/^\d+$/.test(e)) continue;
        const argv = (await readFile(path.join(proc, e, 'cmdline'), 'utf8').catch(() => '')).split('\0');
        const bin = path.basename(argv[0] ?? '');
        if (
          (bin === 'samba-dcerpcd' || bin.startsWith('rpcd_')) &&
          argv.includes(`--configfile=${this.conf}`)
        )
          out.push(Number(e));
      }
      return out;
    };
    const signal = (pids: number[], sig: NodeJS.Signals) => {
      for (const pid of pids)
        try {
          process.kill(pid, sig);
        } catch {
          /* gone */
        }
    };
    let pids = await mine();
    if (!pids.length) return;
    signal(pids, 'SIGTERM');
    for (let i = 0; i < 50 && pids.length; i++) {
      await sleep(100);
      pids = await mine();
    }
    signal(pids, 'SIGKILL');
  }
}
