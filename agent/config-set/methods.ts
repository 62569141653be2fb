/**
 * The three methods every config-set target offers, under its area's name:
 * `<area>.config.history`, `<area>.config.diff` and `<area>.config.restore`. A subsystem adds
 * them with one call instead of writing them again.
 */
import { Type } from '@sinclair/typebox';
import { invalid } from '../../rpc/errors.js';
import { type AnyMethodDef, type CallContext, type DryRunPlan, defineMethod } from '../../rpc/registry.js';
import type { ApplyResult, ManagedConfig, Updater } from './index.js';

export const VersionInfoSchema = Type.Object({
  version: Type.Integer({ description: 'version number, from 1' }),
  time: Type.String({ description: 'when it was applied (ISO 8601)' }),
  user: Type.String({ description: 'who applied it' }),
  summary: Type.String({ description: 'what the change was' }),
  changed: Type.Array(Type.String(), { description: 'files it changed' }),
});

export const FileDiffsSchema = Type.Array(
  Type.Object({ path: Type.String(), diff: Type.String({ description: 'unified diff, secrets redacted' }) }),
  { description: 'unified diffs' },
);

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

export interface ChangeOptions<S> {
  /** the state's problems in plain words (none: it may be applied); refused as `invalid` */
  check: (state: S) => string[];
  /** for a real change only, before anything is read: the backend must run (`unavailable`) */
  require?: () => Promise<void>;
}

/**
 * One change of a subsystem's desired state, the way every subsystem makes it: for real, its
 * requirement first; then, inside the pipeline's lock, `fn` makes the next state of the
 * committed one and the state is checked; then the pipeline plans (dry run) or applies it.
 */
export async function changeState<S>(
  managed: ManagedConfig<S>,
  ctx: { dryRun: boolean; identity: { user: string } },
  summary: string,
  fn: Updater<S>,
  o: ChangeOptions<S>,
): Promise<ApplyResult> {
  if (!ctx.dryRun) await o.require?.();
  return managed.update(
    async (current, uctx) => {
      const c = await fn(current, uctx);
      const problems = o.check(c.state);
      if (problems.length) throw invalid(problems.join('; '), { problems });
      return c;
    },
    { user: ctx.identity.user, summary, dryRun: ctx.dryRun },
  );
}

export interface ConfigMethodsOptions<S, R> {
  /** `backup`, `iscsi`, `vtl`, `object` */
  area: string;
  /** what the files are, for summaries: "the Bacula configuration" */
  label: string;
  config: () => ManagedConfig<S>;
  /** Restore: check and apply an old state as the subsystem applies any change. */
  restore: (state: S, ctx: CallContext, summary: string) => Promise<R | DryRunPlan>;
  restoreResult: Parameters<typeof defineMethod>[0]['result'];
}

export function configMethods<S, R>(o: ConfigMethodsOptions<S, R>): AnyMethodDef[] {
  return [
    defineMethod({
      name: `${o.area}.config.history`,
      summary: `Applied versions of ${o.label}, newest first.`,
      params: Type.Object({}, { additionalProperties: false }),
      result: Type.Object({ items: Type.Array(VersionInfoSchema) }),
      role: 'auditor',
      mutating: false,
      handler: async () => ({ items: o.config().history() }),
    }),
    defineMethod({
      name: `${o.area}.config.diff`,
      summary: `Diff between two versions of ${o.label}, or a version and the files in place (secrets redacted).`,
      params: Type.Object(
        {
          from: Type.Integer({ minimum: 1, description: 'older version' }),
          to: Type.Optional(
            Type.Integer({ minimum: 1, description: 'newer version; default: the files in place' }),
          ),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({ files: FileDiffsSchema }),
      role: 'auditor',
      mutating: false,
      handler: async (p) => ({ files: await o.config().diff(p.from, p.to) }),
    }),
    defineMethod({
      name: `${o.area}.config.restore`,
      summary: `Bring back the desired state of an earlier version of ${o.label} and apply it.`,
      params: Type.Object(
        {
          version: Type.Integer({ minimum: 1, description: `version from ${o.area}.config.history` }),
        },
        { additionalProperties: false },
      ),
      result: o.restoreResult,
      role: 'admin',
      mutating: true,
      handler: async (p, ctx) =>
        (await o.restore(
          o.config().versionState(p.version),
          ctx,
          `${o.area}.config.restore ${p.version}`,
        )) as never,
    }),
  ];
}
