/**
 * Access to buckets: canned grants (read-only, read-write, write-only) and custom bucket-policy
 * JSON, both stored in the bucket's policy on the gateway (policy.ts). A custom policy is
 * checked before anything is sent: JSON, known principals, S3 actions, resources inside the
 * bucket. Canned grants survive a custom policy change (they are merged back in), and so does
 * the Deny of an immutable target (object.target.immutable.create): a custom policy is merged
 * with it, never replaces it, so its writer's key still cannot delete, re-lock or re-policy.
 */
import { Type } from '@sinclair/typebox';
import { invalid } from '../../rpc/errors.js';
import { listed, listResult } from '../../rpc/list.js';
import { defineMethod, isDryRunPlan } from '../../rpc/registry.js';
import type { ObjectContext } from './context.js';
import { claimsImmutableSid, isWriterDeny } from './lock.js';
import { BucketName, CannedGrant, GrantSchema, UserId } from './model.js';
import { checkPolicy, grantsOf, type PolicyDocument, withGrant } from './policy.js';

const Ok = Type.Object({});

async function knownUsers(o: ObjectContext): Promise<Set<string>> {
  return new Set(await o.backend.userIds());
}

export function accessMethods(o: ObjectContext) {
  return [
    defineMethod({
      name: 'object.grant.list',
      summary: 'Canned grants of a bucket',
      params: Type.Object({ bucket: BucketName }, { additionalProperties: false }),
      result: listResult(GrantSchema),
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        const b = await o.ready();
        await b.getBucket(p.bucket);
        return listed(await b.listGrants(p.bucket));
      },
    }),

    defineMethod({
      name: 'object.grant.set',
      summary: 'Give a user canned access to a bucket (replaces the user’s earlier grant)',
      params: Type.Object(
        { bucket: BucketName, user: UserId, access: CannedGrant },
        { additionalProperties: false },
      ),
      result: Type.Array(GrantSchema),
      role: 'operator',
      mutating: true,
      handler: async (p, ctx) => {
        const b = await o.ready();
        await b.getBucket(p.bucket);
        await b.getUser(p.user);
        const r = await o.apply(await b.setGrant(p.bucket, p.user, p.access), ctx.dryRun);
        return isDryRunPlan(r) ? r : b.listGrants(p.bucket);
      },
    }),

    defineMethod({
      name: 'object.grant.revoke',
      summary: 'Remove a user’s canned grant on a bucket',
      params: Type.Object({ bucket: BucketName, user: UserId }, { additionalProperties: false }),
      result: Type.Array(GrantSchema),
      role: 'operator',
      mutating: true,
      handler: async (p, ctx) => {
        const b = await o.ready();
        await b.getBucket(p.bucket);
        if (!(await b.listGrants(p.bucket)).some((g) => g.user === p.user))
          throw invalid(`user ${p.user} has no grant on ${p.bucket}`, { bucket: p.bucket, user: p.user });
        const r = await o.apply(await b.setGrant(p.bucket, p.user, undefined), ctx.dryRun);
        return isDryRunPlan(r) ? r : b.listGrants(p.bucket);
      },
    }),

    defineMethod({
      name: 'object.policy.get',
      summary: 'The bucket policy (custom statements and canned grants), or null',
      params: Type.Object({ bucket: BucketName }, { additionalProperties: false }),
      result: Type.Object({ policy: Type.Union([Type.String(), Type.Null()]) }),
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        const b = await o.ready();
        await b.getBucket(p.bucket);
        const doc = await b.getPolicy(p.bucket);
        return { policy: doc ? JSON.stringify(doc, null, 2) : null };
      },
    }),

    defineMethod({
      name: 'object.policy.set',
      summary: 'Set a custom bucket policy (JSON text, checked first); null removes the custom statements',
      params: Type.Object(
        {
          bucket: BucketName,
          policy: Type.Union([Type.String({ maxLength: 20_480 }), Type.Null()], {
            description: 'bucket policy JSON (S3 syntax; principals arn:aws:iam:::user/<id>)',
          }),
        },
        { additionalProperties: false },
      ),
      result: Ok,
      role: 'admin',
      mutating: true,
      handler: async (p, ctx) => {
        const b = await o.ready();
        await b.getBucket(p.bucket);
        let custom: PolicyDocument | undefined;
        if (p.policy !== null) {
          const checked = checkPolicy(p.policy, p.bucket, await knownUsers(o));
          if ('problems' in checked)
            throw invalid(`policy for ${p.bucket}: ${checked.problems[0]}`, { problems: checked.problems });
          custom = checked.doc;
          const claimed = custom.Statement.findIndex(claimsImmutableSid);
          if (claimed >= 0)
            throw invalid(
              `policy for ${p.bucket}: Statement[${claimed}].Sid ${custom.Statement[claimed]!.Sid} is reserved for the immutable target's own statement`,
              { sid: custom.Statement[claimed]!.Sid },
            );
        }
        const current = await b.getPolicy(p.bucket);
        // an immutable target's Deny stays: merged after the custom statements, never replaced
        // (an explicit Deny wins over any Allow, so no custom statement can undo it)
        const kept = (current?.Statement ?? []).filter(isWriterDeny);
        let next: PolicyDocument | undefined =
          custom || kept.length
            ? { Version: custom?.Version ?? '2012-10-17', Statement: [...(custom?.Statement ?? []), ...kept] }
            : undefined;
        // canned grants stay: they are put back after the custom statements
        for (const g of grantsOf(p.bucket, current)) next = withGrant(p.bucket, next, g.user, g.access);
        if (kept.length) ctx.auditDetail?.({ keptImmutableDeny: kept.map((s) => s.Sid) });
        const r = await o.apply(await b.putPolicy(p.bucket, next), ctx.dryRun);
        return isDryRunPlan(r) ? r : {};
      },
    }),
  ];
}
