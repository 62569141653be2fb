/**
 * Users and access keys. A secret key leaves the agent once, in the result of the call that
 * created it (user.create, key.create, key.rotate): results are neither logged nor audited by
 * the RPC core, these methods are not jobs (a job's result is kept in LMDB), and the agent
 * keeps no copy.
 */
import { Type } from '@sinclair/typebox';
import { conflict, invalid, notFound } from '../../rpc/errors.js';
import { type DryRunPlan, defineMethod, isDryRunPlan } from '../../rpc/registry.js';
import { mutation, resourceMethods } from '../config-set/resource.js';
import type { ObjectContext } from './context.js';
import { AccessKeyId, DisplayName, Email, type NewKey, NewKeySchema, UserId, UserSchema } from './model.js';

const Ok = Type.Object({});

function keyOf(r: DryRunPlan | { newKey?: NewKey }): NewKey {
  const k = (r as { newKey?: NewKey }).newKey;
  if (!k) throw new Error('object: the backend returned no new key');
  return k;
}

export function userMethods(o: ObjectContext) {
  return [
    ...resourceMethods({
      prefix: 'object.user',
      listSummary: 'Object-storage users with their access key ids (never secrets)',
      label: 'object-storage user',
      item: UserSchema,
      list: async () => (await o.ready()).listUsers(),
      mutations: {
        create: mutation({
          summary: 'Create a user with a first access key; the secret is returned once',
          params: Type.Object(
            { id: UserId, displayName: DisplayName, email: Type.Optional(Email) },
            { additionalProperties: false },
          ),
          result: Type.Object({ user: UserSchema, key: NewKeySchema }),
          handler: async (p, ctx) => {
            const b = await o.ready();
            if (p.id === o.cfg.adminUser) throw conflict(`${p.id} is the agent’s own user`, { user: p.id });
            if ((await b.userIds()).includes(p.id))
              throw conflict(`user ${p.id} exists already`, { user: p.id });
            const r = await o.apply(await b.createUser(p), ctx.dryRun);
            if (isDryRunPlan(r)) return r;
            return { user: await b.getUser(p.id), key: keyOf(r) };
          },
        }),

        suspend: mutation({
          summary: 'Suspend a user (every key stops working) or enable it again',
          params: Type.Object(
            {
              id: UserId,
              suspended: Type.Optional(Type.Boolean({ description: 'default true; false enables' })),
            },
            { additionalProperties: false },
          ),
          result: UserSchema,
          handler: async (p, ctx) => {
            const b = await o.ready();
            await b.getUser(p.id);
            const r = await o.apply(await b.setSuspended(p.id, p.suspended !== false), ctx.dryRun);
            return isDryRunPlan(r) ? r : b.getUser(p.id);
          },
        }),

        delete: mutation({
          summary: 'Delete a user; refused while it owns buckets unless purge, with confirm = id',
          params: Type.Object(
            {
              id: UserId,
              purge: Type.Optional(
                Type.Boolean({ description: 'delete the user’s buckets and objects too' }),
              ),
              confirm: Type.Optional(Type.String({ description: 'must equal id when purge is set' })),
            },
            { additionalProperties: false },
          ),
          result: Ok,
          handler: async (p, ctx) => {
            if (p.purge && p.confirm !== p.id)
              throw invalid('purge needs confirm equal to the user id', { user: p.id });
            const b = await o.ready();
            await b.getUser(p.id);
            const owned = (await b.listBuckets()).filter((x) => x.owner === p.id).map((x) => x.name);
            if (owned.length && !p.purge)
              throw conflict(`user ${p.id} owns buckets: ${owned.join(', ')}`, {
                user: p.id,
                buckets: owned,
              });
            const r = await o.apply(await b.deleteUser(p.id, p.purge === true), ctx.dryRun);
            return isDryRunPlan(r) ? r : {};
          },
        }),
      },
    }),

    defineMethod({
      name: 'object.key.create',
      summary: 'Create an access key for a user; the secret is returned once',
      params: Type.Object({ user: UserId }, { additionalProperties: false }),
      result: NewKeySchema,
      role: 'admin',
      mutating: true,
      handler: async (p, ctx) => {
        const b = await o.ready();
        const r = await o.apply(await b.createKey(p.user), ctx.dryRun);
        return isDryRunPlan(r) ? r : keyOf(r);
      },
    }),

    defineMethod({
      name: 'object.key.rotate',
      summary: 'Replace an access key by a new one (the old one stops working); the secret is returned once',
      params: Type.Object({ user: UserId, accessKey: AccessKeyId }, { additionalProperties: false }),
      result: NewKeySchema,
      role: 'admin',
      mutating: true,
      handler: async (p, ctx) => {
        const b = await o.ready();
        await requireKey(o, p.user, p.accessKey);
        const create = await b.createKey(p.user);
        const revoke = await b.revokeKey(p.user, p.accessKey);
        const plan = { steps: [...create.steps, ...revoke.steps] };
        const r = await o.apply(plan, ctx.dryRun);
        return isDryRunPlan(r) ? r : keyOf(r);
      },
    }),

    defineMethod({
      name: 'object.key.revoke',
      summary: 'Revoke an access key',
      params: Type.Object({ user: UserId, accessKey: AccessKeyId }, { additionalProperties: false }),
      result: Ok,
      role: 'admin',
      mutating: true,
      handler: async (p, ctx) => {
        const b = await o.ready();
        await requireKey(o, p.user, p.accessKey);
        const r = await o.apply(await b.revokeKey(p.user, p.accessKey), ctx.dryRun);
        return isDryRunPlan(r) ? r : {};
      },
    }),
  ];
}

async function requireKey(o: ObjectContext, user: string, accessKey: string): Promise<void> {
  const u = await o.backend.getUser(user);
  if (!u.keys.some((k) => k.accessKey === accessKey))
    throw notFound(`user ${user} has no key ${accessKey}`, { user, accessKey });
}
