/**
 * auth.*: who am I, and API tokens (created by an admin, stored as hashes).
 *
 * A token that is revoked or expires is announced on the event bus (`auth.token.invalidated`,
 * `{id, name, reason}`): the WebSocket transport closes its connections (and with them their
 * subscriptions) and the terminal manager its shells, at once (issue #15 item 3).
 */
import { Type } from '@sinclair/typebox';
import { listed, listResult } from '../../rpc/list.js';
import { type AnyMethodDef, defineMethod } from '../../rpc/registry.js';
import { ROLES } from '../../rpc/roles.js';
import type { AgentDeps } from '../deps.js';
import { TOKEN_INVALIDATED } from '../events.js';
import type { CoreExtra } from './extra.js';
import { Empty, RoleName, TokenInfo } from './schemas.js';

const EXPIRY_CHECK_MS = 1000;

/** Announce tokens as they expire; returns the function that stops watching. */
export function watchTokens(deps: AgentDeps, tokens: CoreExtra['tokens']): () => void {
  const announced = new Set<string>();
  const timer = setInterval(() => {
    const now = deps.clock.now();
    for (const t of tokens.list()) {
      if (t.revokedAt || t.expiresAt === undefined || t.expiresAt >= now || announced.has(t.id)) continue;
      announced.add(t.id);
      deps.events.publish(TOKEN_INVALIDATED, { id: t.id, name: t.name, reason: 'expired' });
    }
  }, EXPIRY_CHECK_MS).unref();
  return () => clearInterval(timer);
}

export function authMethods(_deps: AgentDeps, extra: CoreExtra): AnyMethodDef[] {
  return [
    defineMethod({
      name: 'auth.whoami',
      summary: 'The caller’s identity and role as the agent sees it.',
      params: Empty,
      result: Type.Object({
        user: Type.String(),
        uid: Type.Optional(Type.Integer()),
        role: Type.Union(ROLES.map((r) => Type.Literal(r))),
        transport: Type.String(),
      }),
      role: 'public',
      mutating: false,
      handler: async (_p, ctx) => ({
        user: ctx.identity.user,
        ...(ctx.identity.uid !== undefined ? { uid: ctx.identity.uid } : {}),
        role: ctx.identity.role,
        transport: ctx.identity.transport,
      }),
    }),
    defineMethod({
      name: 'auth.token.create',
      summary: 'Create a bearer API token for the WebSocket transport; the secret is shown only now.',
      params: Type.Object(
        {
          name: Type.String({
            minLength: 1,
            maxLength: 64,
            pattern: '^[A-Za-z0-9][A-Za-z0-9 ._@-]*$',
            description: 'label',
          }),
          role: RoleName,
          expiresInDays: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 3650, description: 'default: never' }),
          ),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({ token: Type.String({ description: 'shown once' }), info: TokenInfo }),
      role: 'admin',
      mutating: true,
      handler: async (p, ctx) => {
        if (ctx.dryRun)
          return { dryRun: true, commands: [], notes: [`would create a ${p.role} token "${p.name}"`] };
        return extra.tokens.create({ ...p, createdBy: ctx.identity.user }, ctx);
      },
    }),
    defineMethod({
      name: 'auth.token.list',
      summary: 'API tokens (never their secrets).',
      params: Empty,
      result: listResult(TokenInfo),
      role: 'admin',
      mutating: false,
      handler: async () => listed(await extra.tokens.list()),
    }),
    defineMethod({
      name: 'auth.token.revoke',
      summary: 'Revoke an API token.',
      params: Type.Object(
        { id: Type.String({ pattern: '^[0-9a-f]{12}$', description: 'token id' }) },
        { additionalProperties: false },
      ),
      result: TokenInfo,
      role: 'admin',
      mutating: true,
      handler: async (p, ctx) => {
        if (ctx.dryRun) return { dryRun: true, commands: [], notes: [`would revoke token ${p.id}`] };
        const info = await extra.tokens.revoke(p.id, ctx);
        // its WebSocket connections, subscriptions and terminals are closed at once
        _deps.events.publish(TOKEN_INVALIDATED, { id: info.id, name: info.name, reason: 'revoked' });
        return info;
      },
    }),
  ];
}
