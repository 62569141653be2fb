/**
 * events.*: per-connection subscriptions to the agent's event bus (notifications `event`).
 */
import { Type } from '@sinclair/typebox';
import { notFound } from '../../rpc/errors.js';
import { type AnyMethodDef, defineMethod } from '../../rpc/registry.js';
import type { AgentDeps } from '../deps.js';
import { matchesAny } from '../events.js';
import { Topic } from './schemas.js';

export function eventMethods(deps: AgentDeps): AnyMethodDef[] {
  const { events } = deps;
  const subscriptions = new WeakMap<object, { patterns: Set<string>; off: () => void }>();
  return [
    defineMethod({
      name: 'events.subscribe',
      summary: 'Receive `event` notifications `{topic, data, time}` for these topics on this connection.',
      params: Type.Object(
        { topics: Type.Array(Topic, { minItems: 1, maxItems: 50 }) },
        { additionalProperties: false },
      ),
      result: Type.Object({ topics: Type.Array(Type.String()) }),
      role: 'auditor',
      mutating: false,
      handler: async (p, ctx) => {
        const session = ctx.session;
        if (!session) throw notFound('events need a connection');
        let sub = subscriptions.get(session);
        if (!sub) {
          const patterns = new Set<string>();
          const off = events.on(['*'], (ev) => {
            if (matchesAny([...patterns], ev.topic)) session.notify('event', ev);
          });
          sub = { patterns, off };
          subscriptions.set(session, sub);
          (session as { keepAlive?: number }).keepAlive =
            ((session as { keepAlive?: number }).keepAlive ?? 0) + 1;
          session.onClose(off);
        }
        for (const t of p.topics) sub.patterns.add(t);
        return { topics: [...sub.patterns] };
      },
    }),
    defineMethod({
      name: 'events.unsubscribe',
      summary: 'Stop notifications for these topics (all when omitted).',
      params: Type.Object(
        { topics: Type.Optional(Type.Array(Topic, { maxItems: 50 })) },
        { additionalProperties: false },
      ),
      result: Type.Object({ topics: Type.Array(Type.String()) }),
      role: 'auditor',
      mutating: false,
      handler: async (p, ctx) => {
        const sub = ctx.session ? subscriptions.get(ctx.session) : undefined;
        if (!sub) return { topics: [] };
        if (p.topics) for (const t of p.topics) sub.patterns.delete(t);
        else sub.patterns.clear();
        return { topics: [...sub.patterns] };
      },
    }),
  ];
}
