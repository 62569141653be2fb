/**
 * The Linux tgt backend: tgtd (user space, no kernel target module) driven by tgtadm over
 * its control socket (`-C <port>`); a CHAP account, whose password tgtadm takes only on its
 * argv, is created over that socket directly (tgt-mgmt.ts). The pipeline writes targets.conf (render-tgt.ts, the
 * record of what runs and what `tgt-admin` would read); activation reads what tgtd runs and
 * issues the tgtadm commands that converge it (tgt-plan.ts) — the dry run lists the same
 * commands from the same reading. Available when tgtadm is installed and tgtd answers.
 */
import path from 'node:path';
import { RpcError, unavailable } from '../../rpc/errors.js';
import type { ConfigTarget, Step } from '../config-set/index.js';
import type { Runner } from '../runner.js';
import type { BackendAvailability, BackingPath, IscsiBackend, LiveState } from './backend.js';
import * as cmd from './commands.js';
import { EMPTY_ISCSI, type IscsiState } from './model.js';
import { parseTgtAccounts, parseTgtadmShow, parseTgtPortals } from './parse-tgtadm-show.js';
import { redactTgt, renderTargetsConf } from './render-tgt.js';
import type { BackendContext } from './service.js';
import { tgtMgmt } from './tgt-mgmt.js';
import { planTgt, type TgtCommand, type TgtRunning, tgtLive } from './tgt-plan.js';

export interface TgtBackendOptions {
  runner: Runner;
  /** tgtd's control port (tgtadm -C); 0 is tgtd's default */
  control: number;
  /** where targets.conf is written (layout.generated('tgt')) */
  configDir: string;
  secrets: { get(key: string): string | undefined };
  backingPath: BackingPath;
  timeoutMs?: number;
  /** tgtd's management socket without the `.port` (default /var/run/tgtd/socket) */
  socketBase?: string;
}

export interface TgtBackend extends IscsiBackend {
  name: 'tgt';
  confPath: string;
  /** what tgtd runs, as tgtadm reports it */
  running(): Promise<TgtRunning>;
  /** the tgtadm commands from what runs to `state` (secrets redacted) */
  plan(state: IscsiState): Promise<string[][]>;
}

export function createTgtBackend(o: TgtBackendOptions): TgtBackend {
  const confPath = path.join(o.configDir, 'targets.conf');
  const timeoutMs = o.timeoutMs ?? 60_000;
  /** user → fingerprint of the secret set on tgtd by this process */
  const applied = new Map<string, string>();

  async function adm(argv: string[]): Promise<string> {
    try {
      return (await o.runner.run(argv, { timeoutMs: Math.min(timeoutMs, 15_000) })).stdout;
    } catch (err) {
      if (err instanceof RpcError && (err.kind === 'failed' || err.kind === 'timeout'))
        throw unavailable(`tgtd does not answer on control port ${o.control}: ${err.message}`, {
          reason: err.message,
        });
      throw err;
    }
  }

  async function running(): Promise<TgtRunning> {
    const [targets, accounts, portals] = await Promise.all([
      adm(cmd.showTargets(o.control)),
      adm(cmd.showAccounts(o.control)),
      adm(cmd.showPortals(o.control)),
    ]);
    return {
      targets: parseTgtadmShow(targets),
      accounts: parseTgtAccounts(accounts),
      portals: parseTgtPortals(portals),
    };
  }

  async function commands(state: IscsiState): Promise<TgtCommand[]> {
    return planTgt(state, await running(), {
      control: o.control,
      backingPath: o.backingPath,
      secret: (k) => o.secrets.get(k),
      applied,
    });
  }

  function step(c: TgtCommand): Step {
    return {
      argv: c.argv,
      shown: c.shown,
      timeoutMs,
      run: async () => {
        if (c.mgmt) await tgtMgmt(o.control, c.mgmt, { timeoutMs, socketBase: o.socketBase });
        else await o.runner.run(c.argv, { timeoutMs, shownArgv: c.shown });
        if (c.account) applied.set(c.account.user, c.account.fingerprint);
      },
    };
  }

  async function probe(): Promise<BackendAvailability> {
    if (!o.runner.which('tgtadm')) return { available: false, reason: 'tgt is not installed (no tgtadm)' };
    try {
      await o.runner.run(cmd.showTargets(o.control), { timeoutMs: 5000 });
      return { available: true };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return {
        available: false,
        reason: `tgtd is not running (tgtadm -C ${o.control} got no answer: ${why})`,
      };
    }
  }

  const render = { backingPath: o.backingPath, secrets: o.secrets };
  const target: ConfigTarget<IscsiState> = {
    name: 'tgt',
    initial: () => EMPTY_ISCSI,
    render: (s) => new Map([[confPath, renderTargetsConf(s, render)]]),
    redact: (text) => redactTgt(text),
    mode: () => 0o600,
    activate: async (ctx) => (await commands(ctx.state)).map(step),
  };

  return {
    name: 'tgt',
    confPath,
    probe,
    configTarget: () => target,
    running,
    live: async (): Promise<LiveState> => tgtLive((await running()).targets),
    plan: async (state) => (await commands(state)).map((c) => c.shown),
  };
}

/** The factory the iSCSI service takes (service.ts BackendFactory). */
export function tgtBackendFactory(c: BackendContext): TgtBackend {
  return createTgtBackend({
    runner: c.deps.runner,
    control: c.cfg.tgtControlPort,
    configDir: c.configDir('tgt'),
    secrets: { get: c.secret },
    backingPath: c.backingPath,
    timeoutMs: c.cfg.commandTimeoutSec * 1000,
  });
}
