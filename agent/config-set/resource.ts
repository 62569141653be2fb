/**
 * A resource's methods from one helper (docs/adding-a-subsystem.md): `<prefix>.list` answering
 * `{ items, total }`, `<prefix>.get` by its key with a plain not-found refusal, and its
 * mutations (`create`, `update`, `set`, `delete`, …) as mutating records with the write role.
 * A subsystem gives the resource's schema, how to list it and the mutations' own params and
 * handlers (each one change through its pipeline: `changeState` in config-set/change.ts); names,
 * roles, the list shape, dry runs (the core adds `dryRun` to every mutating record) and audit
 * (the core audits every mutating call) come out the same for every resource.
 */
import { type Static, type TObject, type TSchema, Type } from '@sinclair/typebox';
import { notFound } from '../../rpc/errors.js';
import { listed, listResult } from '../../rpc/list.js';
import { type AnyMethodDef, type CallContext, type DryRunPlan, defineMethod } from '../../rpc/registry.js';
import type { LeastRole } from '../../rpc/roles.js';

/** One mutation of a resource: `<prefix>.<verb>`. */
export interface ResourceMutation<P extends TObject = TObject, R extends TSchema = TSchema> {
  summary: string;
  description?: string;
  params: P;
  result: R;
  /** params fields that never reach logs or the audit log */
  secretParams?: string[];
  /** default: the resource's write role */
  role?: LeastRole;
  handler: (params: Static<P>, ctx: CallContext) => Promise<Static<R> | DryRunPlan>;
}

/** A mutation record, typed from its params and result schemas (then erased for the list). */
export function mutation<P extends TObject, R extends TSchema>(m: ResourceMutation<P, R>): ResourceMutation {
  return m as unknown as ResourceMutation;
}

export interface ResourceSpec<I extends TSchema, LP extends TObject> {
  /** `backup.client`, `iscsi.target`, `vtl.library` */
  prefix: string;
  /** the list's summary */
  listSummary: string;
  /** what one is, in plain words: `file daemon client` (for get's summary and refusal) */
  label: string;
  /** one item as listed and got */
  item: I;
  /** the list's filters (default: none) */
  listParams?: LP;
  list: (params: Static<LP>, ctx: CallContext) => Static<I>[] | Promise<Static<I>[]>;
  /** with a key: `<prefix>.get` finds one item of the list by it */
  key?: { field: string; schema: TSchema };
  /** default `auditor` */
  readRole?: LeastRole;
  /** default `admin` */
  writeRole?: LeastRole;
  /** the mutations by verb, in the order the registry lists them */
  mutations?: Record<string, ResourceMutation>;
}

const NoParams = Type.Object({}, { additionalProperties: false });

export function resourceMethods<I extends TSchema, LP extends TObject = TObject>(
  spec: ResourceSpec<I, LP>,
): AnyMethodDef[] {
  const read = spec.readRole ?? 'auditor';
  const out: AnyMethodDef[] = [
    defineMethod({
      name: `${spec.prefix}.list`,
      summary: spec.listSummary,
      params: (spec.listParams ?? NoParams) as LP,
      result: listResult(spec.item),
      role: read,
      mutating: false,
      handler: async (p, ctx) => listed(await spec.list(p, ctx)) as never,
    }),
  ];
  const key = spec.key;
  if (key)
    out.push(
      defineMethod({
        name: `${spec.prefix}.get`,
        summary: `One ${spec.label} by ${key.field}.`,
        params: Type.Object({ [key.field]: key.schema }, { additionalProperties: false }),
        result: spec.item,
        role: read,
        mutating: false,
        handler: async (p, ctx) => {
          const want = (p as Record<string, unknown>)[key.field];
          const all = (await spec.list({} as Static<LP>, ctx)) as Record<string, unknown>[];
          const found = all.find((o) => o[key.field] === want);
          if (!found) throw notFound(`${spec.label} ${String(want)} does not exist`, { [key.field]: want });
          return found as never;
        },
      }),
    );
  for (const [verb, m] of Object.entries(spec.mutations ?? {}))
    out.push(
      defineMethod({
        name: `${spec.prefix}.${verb}`,
        summary: m.summary,
        ...(m.description ? { description: m.description } : {}),
        params: m.params,
        result: m.result,
        role: m.role ?? spec.writeRole ?? 'admin',
        mutating: true,
        ...(m.secretParams ? { secretParams: m.secretParams } : {}),
        handler: m.handler as never,
      }),
    );
  return out;
}
