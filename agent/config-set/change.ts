/**
 * One change of a subsystem's desired state, written once for every subsystem (iSCSI, VTL,
 * Bacula): check → dry-run plan → require → apply → the answer. A handler gives what is its
 * own (the state's check, what must run, the next state) and gets the pipeline's plan or result.
 */
import { invalid } from '../../rpc/errors.js';
import type { DryRunPlan } from '../../rpc/registry.js';
import type { ApplyOptions, ApplyResult, ManagedConfig, Updater } from './index.js';

/** A dry run's answer from a pipeline plan. */
export function planOf(r: ApplyResult): DryRunPlan {
  return { dryRun: true, commands: r.commands, files: r.files, notes: r.notes };
}

/** What most subsystems answer for a change: files written, the version, argv run, notes. */
export function appliedOf(r: ApplyResult) {
  return {
    changed: r.changed,
    ...(r.version !== undefined ? { version: r.version } : {}),
    commands: r.commands,
    notes: r.notes,
  };
}

/** The answer of a change: its plan for a dry run, else what applying it did. */
export function answerOf(ctx: { dryRun: boolean }, r: ApplyResult) {
  return ctx.dryRun ? planOf(r) : appliedOf(r);
}

/** The caller of a change: who, whether it is a dry run, and its audit record's writer. */
export interface ChangeCaller {
  dryRun: boolean;
  identity: { user: string };
  commitAudit?: () => void;
}

/** The pipeline's options for a call's change: its record is committed with it (ApplyOptions.audit). */
export function changeOptions(ctx: ChangeCaller, summary: string): ApplyOptions {
  return {
    user: ctx.identity.user,
    summary,
    dryRun: ctx.dryRun,
    ...(ctx.commitAudit && !ctx.dryRun ? { audit: ctx.commitAudit } : {}),
  };
}

export interface ChangeOptions<S, P = string> {
  /** the state's problems (none: it may be applied); refused as `invalid` */
  check: (state: S) => P[];
  /** the refusal's words for the problems; default: each one (strings), joined by "; " */
  refusal?: (problems: P[]) => string;
  /** for a real change only, before anything is read: the backend must run (`unavailable`) */
  require?: () => Promise<void>;
  /** for a real change only, inside the lock once the state passed its check (`unavailable`) */
  requireChecked?: () => Promise<void>;
}

/**
 * One change, the way every subsystem makes it: for real, its requirement first; then, inside
 * the pipeline's lock, `fn` makes the next state of the committed one and the state is checked
 * (a refusal changes nothing); then the pipeline plans (dry run) or applies it.
 */
export async function changeState<S, P = string>(
  managed: ManagedConfig<S>,
  ctx: ChangeCaller,
  summary: string,
  fn: Updater<S>,
  o: ChangeOptions<S, P>,
): Promise<ApplyResult> {
  if (!ctx.dryRun) await o.require?.();
  return managed.update(
    async (current, uctx) => {
      const c = await fn(current, uctx);
      const problems = o.check(c.state);
      if (problems.length) throw invalid(o.refusal ? o.refusal(problems) : problems.join('; '), { problems });
      if (!ctx.dryRun) await o.requireChecked?.();
      return c;
    },
    changeOptions(ctx, summary),
  );
}

/**
 * `<area>.apply`: render the committed state again and activate it (files that drifted are
 * rewritten). A dry run plans it; for real, `require` first (`unavailable`).
 */
export async function reapplyState<S>(
  managed: ManagedConfig<S>,
  ctx: ChangeCaller,
  summary: string,
  require: () => Promise<unknown>,
): Promise<ApplyResult> {
  const { dryRun, ...opts } = changeOptions(ctx, summary);
  if (dryRun) return managed.plan(managed.state(), { ...opts, forceActivate: true });
  await require();
  return managed.reapply(opts);
}
