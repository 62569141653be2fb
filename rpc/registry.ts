/**
 * The method registry (STYLE.md conventions 1–3).
 *
 * A method is one declarative record: wire name, summary, params and result schemas, least
 * role, whether it mutates and whether it runs as a job (with a lock). Handlers are thin and
 * call plain functions; inside the agent nobody calls a method by its name string.
 */
import { type Static, type TObject, type TSchema, Type } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import type { Logger } from 'pino';
import { hasRequiredDefaults } from './params-defaults.js';
import type { Identity, LeastRole } from './roles.js';

export interface Progress {
  percent: number;
  description: string;
}

export interface CallContext {
  identity: Identity;
  signal: AbortSignal;
  log: Logger;
  /** True when the caller asked for a dry run: return a plan, change nothing. */
  dryRun: boolean;
  /** Report progress (jobs only; a no-op otherwise). */
  progress(percent: number, description?: string): void;
  /** Set inside a job. */
  jobId?: string;
  /**
   * Add facts to this mutation's audit record (`detail`): what the call did that its params do
   * not say (where an unloaded cartridge went). Merged; a no-op for reads.
   */
  auditDetail?(detail: Record<string, unknown>): void;
  /**
   * Write this mutation's `ok` audit record now, synchronously: the managed-config pipeline
   * calls it inside the LMDB transaction that commits the change, so that the change and its
   * record are durable together (a crash can leave neither alone). Once called, the core
   * writes no second record for the success. Unset for reads and dry runs.
   */
  commitAudit?(): void;
  /** The connection's session, for methods that keep per-connection state (events, terminal). */
  session?: SessionHandle;
}

export interface SessionHandle {
  id: string;
  notify(method: string, params: unknown): void;
  /** Run fn when the connection closes; returns a function that cancels the registration. */
  onClose(fn: () => void): () => void;
  readonly closed: boolean;
  /** Bytes queued for this connection and not yet taken by the peer (where the transport knows). */
  queuedBytes?(): number;
  /** Run fn once the queue has drained; returns a function that cancels it. */
  onDrain?(fn: () => void): () => void;
}

export interface JobSpec<P> {
  /** Named lock taken before the job is accepted; a second job with the same lock is `busy`. */
  lock?: (params: P) => string;
  /** Description shown before the first progress report. */
  title?: (params: P) => string;
  /**
   * A refusal decided from the params and the caller alone, before the job is accepted (the
   * caller gets it as the call's error, never as a failed job); the dry run runs it too.
   */
  refuse?: (params: P, identity: Identity) => Error | undefined;
}

export interface MethodDef<P extends TObject = TObject, R extends TSchema = TSchema> {
  name: string;
  summary: string;
  description?: string;
  params: P;
  result: R;
  role: LeastRole;
  mutating: boolean;
  /** Runs as a job: the call returns `{job}` at once and the handler's result becomes the job's. */
  job?: JobSpec<Static<P>>;
  /** Mutating methods that cannot be dry-run (none should) say why here. */
  noDryRun?: string;
  /** Params fields whose values never reach logs or the audit log. */
  secretParams?: string[];
  /**
   * Capabilities (tools, kernel features) the method needs, by name (`system.capabilities`):
   * when one is missing the core answers `unavailable` with the reason before the handler runs.
   */
  requires?: string[];
  handler: (params: Static<P>, ctx: CallContext) => Promise<Static<R> | DryRunPlan>;
}

/** What a dry run returns: the exact argv lists and file diffs the call would apply. */
export const DryRunPlanSchema = Type.Object(
  {
    dryRun: Type.Literal(true),
    commands: Type.Array(Type.Array(Type.String()), { description: 'argv lists, in order' }),
    files: Type.Optional(
      Type.Array(
        Type.Object({
          path: Type.String(),
          diff: Type.String({ description: 'unified diff of the file as it would be written' }),
        }),
      ),
    ),
    console: Type.Optional(
      Type.Array(Type.String(), { description: 'console lines (bconsole) sent, in order, after the argv' }),
    ),
    notes: Type.Optional(Type.Array(Type.String())),
  },
  { description: 'the plan of a dry run' },
);
export type DryRunPlan = Static<typeof DryRunPlanSchema>;

export function isDryRunPlan(v: unknown): v is DryRunPlan {
  return typeof v === 'object' && v !== null && (v as { dryRun?: unknown }).dryRun === true;
}

/**
 * A result already serialised: the core splices `text` into the response instead of
 * serialising `value` again (rpc.discover answers every call from one cached string; 100 of
 * them in a batch re-serialised 888 KB each). In-process calls get `value`.
 */
export class RawJson {
  readonly text: string;
  constructor(readonly value: unknown) {
    this.text = JSON.stringify(value);
  }
}

export const JobRefSchema = Type.Object({
  job: Type.String({ description: 'job id; follow it with job.get' }),
});

/** A method record with its types erased, as the registry holds it. */
export interface AnyMethodDef {
  name: string;
  summary: string;
  description?: string;
  params: TObject;
  result: TSchema;
  role: LeastRole;
  mutating: boolean;
  job?: {
    lock?: (params: never) => string;
    title?: (params: never) => string;
    refuse?: (params: never, identity: Identity) => Error | undefined;
  };
  noDryRun?: string;
  secretParams?: string[];
  requires?: string[];
  handler: (params: never, ctx: CallContext) => Promise<unknown>;
}

/** Typed helper: handler params are inferred from the schema, then the record is erased for the registry. */
export function defineMethod<P extends TObject, R extends TSchema>(def: MethodDef<P, R>): AnyMethodDef {
  return def;
}

/** Call an erased record's handler with params that the registry has validated against its schema. */
export function callHandler(def: AnyMethodDef, params: unknown, ctx: CallContext): Promise<unknown> {
  return (def.handler as (p: unknown, c: CallContext) => Promise<unknown>)(params, ctx);
}

export interface RegisteredMethod {
  def: AnyMethodDef;
  /** params schema as published (mutating methods gain `dryRun`). */
  params: TObject;
  check: TypeCheck<TObject>;
  /** whether params have required properties with documented defaults (rpc/params-defaults.ts) */
  fillsDefaults: boolean;
}

export class Registry {
  readonly methods = new Map<string, RegisteredMethod>();

  register(defs: readonly AnyMethodDef[]): void {
    for (const def of defs) {
      if (this.methods.has(def.name)) throw new Error(`registry: ${def.name} registered twice`);
      if (!/^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)+$/.test(def.name))
        throw new Error(`registry: bad name ${def.name}`);
      const params =
        def.mutating && !def.noDryRun
          ? Type.Object(
              {
                ...def.params.properties,
                dryRun: Type.Optional(
                  Type.Boolean({
                    description: 'return the commands and file diffs that would be applied; change nothing',
                  }),
                ),
              },
              { ...stripTypebox(def.params), additionalProperties: false },
            )
          : def.params;
      // validators are compiled on a method's first call: compiling all of them at start costs
      // start-up time and resident memory for methods most agents never see called
      let compiled: TypeCheck<TObject> | undefined;
      this.methods.set(def.name, {
        def,
        params,
        fillsDefaults: hasRequiredDefaults(params),
        get check() {
          compiled ??= TypeCompiler.Compile(params);
          return compiled;
        },
      });
    }
  }

  get(name: string): RegisteredMethod | undefined {
    return this.methods.get(name);
  }

  list(): RegisteredMethod[] {
    return [...this.methods.values()].sort((a, b) => a.def.name.localeCompare(b.def.name));
  }
}

function stripTypebox(schema: TObject): Record<string, unknown> {
  const { properties: _p, required: _r, type: _t, ...rest } = schema as unknown as Record<string, unknown>;
  return rest;
}
