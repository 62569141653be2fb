/**
 * The audited side of the RPC core (rpc/core.ts): refusals of a mutation (role, params, a
 * missing capability) and mutations themselves — direct or as a job — each with its audit
 * record committed before the answer. A mutation that changes managed configuration gets its
 * success record written inside the pipeline's commit (`CallContext.commitAudit`), so the
 * change and its record are durable together; the core then writes no second one.
 */

import type { CoreOptions } from './core.js';
import { denied, InvalidParamsError, toWireError, type WireError } from './errors.js';
import { redactParams } from './redact.js';
import { type AnyMethodDef, callHandler, isDryRunPlan, type RegisteredMethod } from './registry.js';
import type { Identity } from './roles.js';
import { Ctx, type Session } from './session.js';

export class AuditedCalls {
  constructor(
    private opts: Pick<CoreOptions, 'audit' | 'jobs' | 'log' | 'checkResults'>,
    private checkResult: (m: RegisteredMethod, result: unknown) => void,
  ) {}

  /** A role denial (or a revoked token): audited, committed, then refused. */
  async deny(
    def: AnyMethodDef,
    rawParams: unknown,
    identity: Identity,
    stale: boolean | undefined,
  ): Promise<never> {
    this.opts.audit.append({
      ...auditWho(identity, def.name),
      params: redactParams(rawParams, def.secretParams),
      outcome: 'denied',
      ...dryRunFlag(rawParams),
      error: {
        kind: 'denied',
        message: stale ? 'token revoked or expired' : `role ${identity.role} may not call ${def.name}`,
      },
    });
    await this.opts.audit.committed();
    if (stale) throw denied('the API token was revoked or has expired', { method: def.name });
    throw denied(`${def.name} needs the ${def.role} role; ${identity.user} has ${identity.role}`, {
      method: def.name,
      need: def.role,
      have: identity.role,
    });
  }

  /**
   * A mutation refused before it ran (its params, a missing capability): audited with the
   * reason, so that probing a mutating method with bad input leaves a trace. Reads are not.
   */
  async refuseParams(
    def: AnyMethodDef,
    rawParams: unknown,
    identity: Identity,
    err: unknown,
  ): Promise<never> {
    if (def.mutating) {
      const wire = toWireError(err);
      this.opts.audit.append({
        ...auditWho(identity, def.name),
        params: redactParams(rawParams, def.secretParams),
        outcome: err instanceof InvalidParamsError ? 'invalid' : 'error',
        ...dryRunFlag(rawParams),
        error: { kind: (wire.data as { kind?: string } | undefined)?.kind, message: wire.message },
      });
      await this.opts.audit.committed();
    }
    throw err;
  }

  async invokeMutating(
    m: RegisteredMethod,
    params: Record<string, unknown>,
    session: Session,
    started: number,
  ): Promise<unknown> {
    const { def } = m;
    const identity = session.identity;
    const auditBase = auditWho(identity, def.name);
    const dryRun = def.mutating && params.dryRun === true;
    const handlerParams = { ...params };
    delete handlerParams.dryRun;
    const redacted = def.mutating ? redactParams(handlerParams, def.secretParams) : undefined;
    const ctx = new Ctx(identity, session, this.opts.log, def.name, dryRun);

    // a job's refusal that the params decide comes before the job (and its dry run) exists
    const refusal = (
      def.job?.refuse as ((p: unknown, i: typeof identity) => Error | undefined) | undefined
    )?.(handlerParams, identity);
    if (refusal) {
      if (def.mutating) {
        this.auditDone(auditBase, redacted, 'error', started, refusal, undefined, dryRun);
        await this.opts.audit.committed();
      }
      throw refusal;
    }

    if (def.job && !dryRun) {
      // a job outlives the connection that started it: it gets the job's own signal
      const spec = def.job;
      let jobId: string;
      try {
        jobId = this.opts.jobs.start(
          {
            method: def.name,
            user: identity.user,
            lock: (spec.lock as ((p: unknown) => string) | undefined)?.(handlerParams),
            title: (spec.title as ((p: unknown) => string) | undefined)?.(handlerParams),
          },
          async (j) => {
            const jobStarted = performance.now();
            let detail: Record<string, unknown> | undefined;
            let audited = false;
            const okRecord = () => {
              if (audited) return;
              this.auditDone(auditBase, redacted, 'ok', jobStarted, undefined, j.id, false, detail);
              audited = true;
            };
            try {
              const r = await callHandler(def, handlerParams, {
                identity,
                log: ctx.log,
                dryRun: false,
                session,
                signal: j.signal,
                progress: j.progress,
                jobId: j.id,
                auditDetail: (d) => {
                  detail = { ...detail, ...d };
                },
                ...(def.mutating ? { commitAudit: okRecord } : {}),
              });
              if (def.mutating) okRecord();
              return r;
            } catch (err) {
              if (def.mutating)
                this.auditDone(auditBase, redacted, 'error', jobStarted, err, j.id, false, detail);
              throw err;
            }
          },
        );
      } catch (err) {
        // refused before it started (its lock is held: busy)
        if (def.mutating) {
          this.auditDone(auditBase, redacted, 'error', started, err);
          await this.opts.audit.committed();
        }
        throw err;
      }
      if (def.mutating) this.auditDone(auditBase, redacted, 'accepted', started, undefined, jobId);
      // an acknowledged job survives a kill -9 (it is then `interrupted`, never unknown)
      await Promise.all([def.mutating && this.opts.audit.committed(), this.opts.jobs.committed?.()]);
      return { job: jobId };
    }

    // the success's record, written by the pipeline inside its commit or else after the handler
    let audited = false;
    const okRecord = () => {
      if (audited) return;
      this.auditDone(auditBase, redacted, 'ok', started, undefined, undefined, false, ctx.detail);
      audited = true;
    };
    if (def.mutating && !dryRun) ctx.commitAudit = okRecord;
    let result: unknown;
    try {
      result = await ctx.settle(callHandler(def, handlerParams, ctx));
      if (this.opts.checkResults && !dryRun && !isDryRunPlan(result)) this.checkResult(m, result);
    } catch (err) {
      if (def.mutating) {
        this.auditDone(auditBase, redacted, 'error', started, err, undefined, dryRun, ctx.detail);
        await this.opts.audit.committed();
      }
      throw err;
    }
    if (def.mutating) {
      if (dryRun)
        this.auditDone(auditBase, redacted, 'dry-run', started, undefined, undefined, true, ctx.detail);
      else okRecord();
      // the record is durable before the caller hears of the mutation
      await this.opts.audit.committed();
    }
    return result;
  }

  private auditDone(
    base: { user: string; uid?: number; transport: string; method: string },
    params: unknown,
    outcome: 'ok' | 'error' | 'accepted' | 'dry-run',
    started: number,
    err?: unknown,
    job?: string,
    dryRun?: boolean,
    detail?: Record<string, unknown>,
  ) {
    const wire: WireError | undefined = err === undefined ? undefined : toWireError(err);
    const kind = (wire?.data as { kind?: string } | undefined)?.kind;
    this.opts.audit.append({
      ...base,
      params,
      ...(detail ? { detail } : {}),
      // a refusal is audited as what it is: a wrong confirm is `invalid`, a role check `denied`
      outcome: outcome === 'error' && (kind === 'invalid' || kind === 'denied') ? kind : outcome,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      job,
      ...(dryRun ? { dryRun: true } : {}),
      error: wire ? { kind, message: wire.message } : undefined,
    });
  }
}

function auditWho(identity: Identity, method: string) {
  return { user: identity.user, uid: identity.uid, transport: identity.transport, method };
}

function dryRunFlag(params: unknown): { dryRun?: true } {
  return params && typeof params === 'object' && (params as { dryRun?: unknown }).dryRun === true
    ? { dryRun: true }
    : {};
}
