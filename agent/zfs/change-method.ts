/**
 * A ZFS method that makes one planned change: ZFS is ready, the method's own checks pass, the
 * plan runs (or a dry run answers it, built by the same `plan`), and the answer is read back
 * from ZFS. Pool, dataset and snapshot methods of that shape are declared with it, so each one
 * states only its checks, its argv and what it answers with.
 */
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { type AnyMethodDef, defineMethod } from '../../rpc/registry.js';
import type { LeastRole } from '../../rpc/roles.js';
import type { ZfsContext } from './context.js';
import type { Dialect } from './dialect.js';

export interface ChangeMethod<P extends TObject, R extends TSchema> {
  name: string;
  summary: string;
  params: P;
  result: R;
  role: LeastRole;
  /** refusals before anything runs (the dry run makes them too) */
  check?: (p: Static<P>, d: Dialect) => unknown;
  /** the argv lists, in order */
  plan: (p: Static<P>, d: Dialect) => string[][];
  /** the answer after the real run */
  answer: (p: Static<P>) => Promise<Static<R>>;
}

export function changeMethod<P extends TObject, R extends TSchema>(
  z: ZfsContext,
  m: ChangeMethod<P, R>,
): AnyMethodDef {
  const { check, plan, answer, ...def } = m;
  return defineMethod({
    ...def,
    mutating: true,
    handler: async (p, ctx) => {
      const d = await z.ready();
      await check?.(p, d);
      const dry = await z.apply(plan(p, d), ctx.dryRun);
      return dry ?? answer(p);
    },
  });
}
