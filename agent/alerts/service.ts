/**
 * The `alerts` subsystem: the engine's alerts and rules as methods. `alert.list` (filter and
 * page; active first), `alert.count` (the bell), `alert.ack` (audited like every mutation),
 * `alert.rules` / `alert.rules.set` (thresholds and disabled sources, in LMDB). It raises no
 * alert of another subsystem's: each raises its own through the alert port (`deps.alerts`).
 */
import { Type } from '@sinclair/typebox';
import { invalid, notFound } from '../../rpc/errors.js';
import { listResult } from '../../rpc/list.js';
import { defineMethod } from '../../rpc/registry.js';
import { checkRules, mergeRules, rulesSchema, sourceSchema, ThresholdsSchema } from '../alert-rules.js';
import type { Service, Subsystem } from '../deps.js';
import { alertsMetrics } from './metrics.js';

const Level = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]);
const State = Type.Union([Type.Literal('active'), Type.Literal('acknowledged'), Type.Literal('cleared')]);
const Key = Type.String({ minLength: 1, maxLength: 300, pattern: '^[\\x21-\\x7e]+$' });

export const AlertSchema = Type.Object({
  key: Type.String({ description: 'stable key: the same problem raised again updates this alert' }),
  level: Level,
  source: Type.String(),
  title: Type.String(),
  detail: Type.Optional(Type.String({ description: 'what happened and what to do' })),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  state: State,
  firstSeen: Type.String(),
  lastSeen: Type.String(),
  count: Type.Integer({ description: 'times raised since it became active' }),
  clearedAt: Type.Optional(Type.String()),
  ackedBy: Type.Optional(Type.String()),
  ackedAt: Type.Optional(Type.String()),
});

/** The schema without its defaults: a change names only what it changes. */
function noDefaults<T extends object>(s: T): T {
  const { default: _d, ...rest } = s as T & { default?: unknown };
  return rest as T;
}
const ThresholdsChange = Type.Object(
  Object.fromEntries(
    Object.entries(ThresholdsSchema.properties).map(([k, v]) => [k, Type.Optional(noDefaults(v))]),
  ),
  { additionalProperties: false, description: 'thresholds to change (the others stay)' },
);

function alertsService(deps: Parameters<Subsystem['service']>[0]): Service {
  const engine = deps.alerts;
  const RulesSchema = rulesSchema(deps.alertSources);
  deps.metrics.contribute(...alertsMetrics(async () => engine.count()));
  return {
    name: 'alerts',
    methods: [
      defineMethod({
        name: 'alert.list',
        summary: 'Alerts, active first (then acknowledged, then the cleared history), filtered and paged',
        params: Type.Object(
          {
            state: Type.Optional(
              Type.Union([State, Type.Literal('open')], { description: 'open: active or acknowledged' }),
            ),
            level: Type.Optional(Level),
            source: Type.Optional(sourceSchema(deps.alertSources)),
            since: Type.Optional(Type.String({ format: 'date-time', description: 'last seen at or after' })),
            limit: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'alerts per page' }),
            ),
            cursor: Type.Optional(
              Type.String({ pattern: '^[0-9]{1,7}$', description: 'from the previous page' }),
            ),
          },
          { additionalProperties: false },
        ),
        result: listResult(AlertSchema, {
          next: Type.Optional(Type.String({ description: 'the cursor of the next page' })),
        }),
        role: 'auditor',
        mutating: false,
        handler: async (p) => {
          const { alerts, ...page } = engine.query(p, { limit: p.limit ?? 100, cursor: p.cursor });
          return { items: alerts, ...page };
        },
      }),
      defineMethod({
        name: 'alert.count',
        summary: 'Active alerts by level (what the bell shows), and how many are acknowledged',
        params: Type.Object({}, { additionalProperties: false }),
        result: Type.Object({
          critical: Type.Integer(),
          warning: Type.Integer(),
          info: Type.Integer(),
          acknowledged: Type.Integer(),
        }),
        role: 'auditor',
        mutating: false,
        handler: async () => engine.count(),
      }),
      defineMethod({
        name: 'alert.ack',
        summary: 'Acknowledge open alerts: they stay until cleared but no longer count as news',
        params: Type.Object(
          {
            keys: Type.Array(Key, {
              minItems: 1,
              maxItems: 1000,
              uniqueItems: true,
              description: 'alert keys (all must be open, or nothing is acknowledged)',
            }),
          },
          { additionalProperties: false },
        ),
        result: Type.Object({ acknowledged: Type.Array(Type.String()) }),
        role: 'operator',
        mutating: true,
        handler: async (p, ctx) => {
          const missing = p.keys.filter((k) => {
            const a = engine.get(k);
            return !a || a.state === 'cleared';
          });
          if (missing.length)
            throw notFound(`no open alert ${missing.join(', ')}`, { keys: missing.slice(0, 50) });
          if (ctx.dryRun) return { acknowledged: p.keys };
          const r = await engine.ack(p.keys, ctx.identity.user);
          return { acknowledged: r.acked.map((a) => a.key) };
        },
      }),
      defineMethod({
        name: 'alert.rules',
        summary: 'Alert thresholds and the sources whose alerts are not raised',
        params: Type.Object({}, { additionalProperties: false }),
        result: RulesSchema,
        role: 'auditor',
        mutating: false,
        handler: async () => engine.rules(),
      }),
      defineMethod({
        name: 'alert.rules.set',
        summary: 'Change thresholds (those not given stay) or the disabled sources; dryRun shows the result',
        params: Type.Object(
          {
            disabledSources: Type.Optional(noDefaults(RulesSchema.properties.disabledSources)),
            thresholds: Type.Optional(ThresholdsChange),
          },
          { additionalProperties: false },
        ),
        result: RulesSchema,
        role: 'admin',
        mutating: true,
        handler: async (p, ctx) => {
          const next = mergeRules(engine.rules(), p);
          const problems = checkRules(next);
          if (problems.length) throw invalid(problems.join('; '), { problems });
          if (!ctx.dryRun) await engine.setRules(next);
          return next;
        },
      }),
    ],
  };
}

export const alertsSubsystem: Subsystem = { name: 'alerts', service: alertsService };
