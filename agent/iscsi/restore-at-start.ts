/**
 * At agent start, a backend that keeps nothing across a reboot (LIO: configfs is empty until
 * written, as after a reboot or a module reload) gets the desired state back: the same re-apply
 * as `iscsi.apply` (the pipeline's `reapply`, serialised with every other change), with a log
 * line and an audit record (user `agent`, transport `internal`, method `iscsi.apply`). A backend
 * that runs something already is left alone — what differs is drift (`iscsi.drift`), undone only
 * on request — and so is an empty desired state (nothing to restore; a target made by hand stays).
 */
import type { ManagedConfig } from '../config-set/index.js';
import type { AgentDeps } from '../deps.js';
import type { IscsiBackend } from './backend.js';
import type { IscsiState } from './model.js';

export const RESTORE_SUMMARY = 'iscsi.apply at agent start (the backend kept nothing)';

export async function restoreAtStart(
  deps: AgentDeps,
  managed: ManagedConfig<IscsiState>,
  backend: IscsiBackend | undefined,
): Promise<void> {
  const targets = managed.state().targets.length;
  if (!targets || !backend?.emptyAfterRestart) return;
  if (!(await backend.emptyAfterRestart())) return;
  const t0 = Date.now();
  deps.log.info(
    { area: 'iscsi', backend: backend.name, targets },
    `iscsi: ${backend.name} runs no target; restoring the configured ${targets} target(s) at start`,
  );
  const audit = { user: 'agent', transport: 'internal', method: 'iscsi.apply' } as const;
  try {
    const r = await managed.reapply({ user: 'agent', summary: RESTORE_SUMMARY });
    const durationMs = Date.now() - t0;
    deps.audit.append({
      ...audit,
      outcome: 'ok',
      durationMs,
      detail: { reason: RESTORE_SUMMARY, backend: backend.name, targets, commands: r.commands.length },
    });
    deps.log.info(
      { area: 'iscsi', backend: backend.name, commands: r.commands.length, durationMs },
      `iscsi: ${targets} target(s) restored into ${backend.name} (${r.commands.length} operations, ${durationMs} ms)`,
    );
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    deps.audit.append({
      ...audit,
      outcome: 'error',
      durationMs: Date.now() - t0,
      error: { message },
      detail: { reason: RESTORE_SUMMARY, backend: backend.name, targets },
    });
    deps.log.error({ err, area: 'iscsi' }, `iscsi: restoring the targets into ${backend.name} failed`);
    await deps.alerts.raise({
      key: 'iscsi.drift',
      level: 'warning',
      source: 'iscsi',
      title: `iSCSI: ${backend.name} runs no target and restoring them at start failed`,
      detail: `${message}. Fix the cause, then run iscsi.apply.`,
    });
  }
}
