/**
 * The three methods every config-set target offers, under its area's name:
 * `<area>.config.history`, `<area>.config.diff` and `<area>.config.restore`. A subsystem adds
 * them with one call instead of writing them again.
 */
import { Type } from '@sinclair/typebox';
import { listed, listResult } from '../../rpc/list.js';
import { type AnyMethodDef, type CallContext, type DryRunPlan, defineMethod } from '../../rpc/registry.js';
import type { ManagedConfig } from './index.js';

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
      result: listResult(VersionInfoSchema),
      role: 'auditor',
      mutating: false,
      handler: async () => listed(o.config().history()),
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
