/**
 * The agent's own methods: system.*, auth.*, job.*, audit.*, events.*, rpc.discover.
 */
import os from 'node:os';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../rpc/errors.js';
import { buildOpenRpc } from '../../rpc/openrpc.js';
import { defineMethod, type Registry } from '../../rpc/registry.js';
import type { AgentDeps, Service } from '../deps.js';
import { matchesAny } from '../events.js';
import { JOB_STATES } from '../jobs.js';
import type { TokenStore } from '../tokens.js';

const Empty = Type.Object({}, { additionalProperties: false });
const Progress = Type.Object({ percent: Type.Number(), description: Type.String() });
const WireErr = Type.Object({
  code: Type.Integer(),
  message: Type.String(),
  data: Type.Optional(Type.Unknown()),
});
const Job = Type.Object(
  {
    id: Type.String(),
    method: Type.String(),
    state: Type.Union(JOB_STATES.map((s) => Type.Literal(s))),
    progress: Progress,
    user: Type.String(),
    lock: Type.Optional(Type.String()),
    createdAt: Type.Number(),
    startedAt: Type.Optional(Type.Number()),
    finishedAt: Type.Optional(Type.Number()),
    result: Type.Optional(Type.Unknown()),
    error: Type.Optional(WireErr),
    log: Type.Array(Type.Object({ time: Type.Number(), message: Type.String() })),
  },
  { description: 'a job' },
);
const JobId = Type.String({ pattern: '^[0-9a-z]{6,32}$', description: 'job id' });
const RoleName = Type.Union([Type.Literal('admin'), Type.Literal('operator'), Type.Literal('auditor')]);
const TokenInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: RoleName,
  createdAt: Type.Number(),
  createdBy: Type.String(),
  expiresAt: Type.Optional(Type.Number()),
  revokedAt: Type.Optional(Type.Number()),
  lastUsedAt: Type.Optional(Type.Number()),
});
const Topic = Type.String({
  pattern: '^(\\*|[a-z][a-zA-Z0-9]*(\\.[a-z][a-zA-Z0-9]*)*(\\.\\*)?)$',
  maxLength: 100,
  description: 'a topic (`disk.added`), a prefix (`disk.*`) or `*`',
});

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function coreService(
  deps: AgentDeps,
  extra: { registry: Registry; tokens: TokenStore; startedAt: number },
): Service {
  const { jobs, audit, events } = deps;
  let openRpcDoc: { openrpc: string } | undefined;
  const subscriptions = new WeakMap<object, { patterns: Set<string>; off: () => void }>();

  return {
    name: 'core',
    methods: [
      defineMethod({
        name: 'system.ping',
        summary: 'Liveness check; returns the agent version and uptime.',
        params: Empty,
        result: Type.Object({ version: Type.String(), uptime: Type.Number({ description: 'seconds' }) }),
        role: 'public',
        mutating: false,
        handler: async () => ({
          version: deps.version,
          uptime: Math.round((deps.clock.now() - extra.startedAt) / 100) / 10,
        }),
      }),
      defineMethod({
        name: 'system.info',
        summary: 'Host, OS, CPU, memory and uptime.',
        params: Empty,
        result: Type.Object({
          hostname: Type.String(),
          os: Type.Object({
            distro: Type.String(),
            release: Type.String(),
            kernel: Type.String(),
            arch: Type.String(),
          }),
          cpu: Type.Object({ model: Type.String(), cores: Type.Integer(), physicalCores: Type.Integer() }),
          memory: Type.Object({ total: Type.Number(), available: Type.Number(), used: Type.Number() }),
          uptime: Type.Number({ description: 'host uptime in seconds' }),
          agentUptime: Type.Number(),
          version: Type.String(),
        }),
        role: 'auditor',
        mutating: false,
        handler: async () => {
          const si = (await import('systeminformation')).default; // loaded on first use: ~10 MB
          const [osInfo, cpu, mem] = await Promise.all([si.osInfo(), si.cpu(), si.mem()]);
          return {
            hostname: os.hostname(),
            os: { distro: osInfo.distro, release: osInfo.release, kernel: osInfo.kernel, arch: osInfo.arch },
            cpu: {
              model: `${cpu.manufacturer} ${cpu.brand}`.trim(),
              cores: cpu.cores,
              physicalCores: cpu.physicalCores,
            },
            memory: { total: mem.total, available: mem.available, used: mem.active },
            uptime: si.time().uptime,
            agentUptime: Math.round((deps.clock.now() - extra.startedAt) / 1000),
            version: deps.version,
          };
        },
      }),
      defineMethod({
        name: 'system.capabilities',
        summary: 'Which storage tools and kernel features exist, with versions, and why not where missing.',
        params: Empty,
        result: Type.Array(
          Type.Object({
            name: Type.String(),
            available: Type.Boolean(),
            version: Type.Optional(Type.String()),
            path: Type.Optional(Type.String()),
            reason: Type.Optional(Type.String()),
            variant: Type.Optional(Type.String()),
          }),
        ),
        role: 'auditor',
        mutating: false,
        handler: () => deps.capabilities.all(),
      }),
      defineMethod({
        name: 'system.selftest',
        summary: 'A job that exercises the job machinery: reports progress each step for the given time.',
        description:
          'Useful to check that progress events reach a client, and that abort and restart handling work.',
        params: Type.Object(
          {
            seconds: Type.Number({ minimum: 0, maximum: 3600, description: 'how long to run' }),
            steps: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 1000, description: 'progress reports; default 10' }),
            ),
          },
          { additionalProperties: false },
        ),
        result: Type.Object({ steps: Type.Integer() }),
        role: 'admin',
        mutating: false,
        job: { lock: () => 'system.selftest', title: (p) => `self-test for ${p.seconds} s` },
        handler: async (p, ctx) => {
          const steps = p.steps ?? 10;
          for (let i = 1; i <= steps; i++) {
            await sleep((p.seconds * 1000) / steps, ctx.signal);
            ctx.progress((i / steps) * 100, `step ${i} of ${steps}`);
          }
          return { steps };
        },
      }),
      defineMethod({
        name: 'rpc.discover',
        summary: 'The OpenRPC document of every method.',
        params: Empty,
        result: Type.Object({ openrpc: Type.String() }, { additionalProperties: true }),
        role: 'public',
        mutating: false,
        handler: async () => {
          // the registry is fixed once the agent runs: build the document once
          openRpcDoc ??= buildOpenRpc(extra.registry, deps.version) as { openrpc: string };
          return openRpcDoc;
        },
      }),
      defineMethod({
        name: 'auth.whoami',
        summary: 'The caller’s identity and role as the agent sees it.',
        params: Empty,
        result: Type.Object({
          user: Type.String(),
          uid: Type.Optional(Type.Integer()),
          role: Type.String(),
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
          return extra.tokens.create({ ...p, createdBy: ctx.identity.user });
        },
      }),
      defineMethod({
        name: 'auth.token.list',
        summary: 'API tokens (never their secrets).',
        params: Empty,
        result: Type.Array(TokenInfo),
        role: 'admin',
        mutating: false,
        handler: async () => extra.tokens.list(),
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
          return extra.tokens.revoke(p.id);
        },
      }),
      defineMethod({
        name: 'job.get',
        summary: 'One job with its state, progress, result or error and log.',
        params: Type.Object({ id: JobId }, { additionalProperties: false }),
        result: Job,
        role: 'auditor',
        mutating: false,
        handler: async (p) => jobs.get(p.id),
      }),
      defineMethod({
        name: 'job.list',
        summary: 'Jobs, newest first.',
        params: Type.Object(
          {
            state: Type.Optional(Type.Union(JOB_STATES.map((s) => Type.Literal(s)))),
            method: Type.Optional(Type.String({ maxLength: 100, description: 'only jobs of this method' })),
            limit: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 1000, description: 'page size, default 50' }),
            ),
            offset: Type.Optional(Type.Integer({ minimum: 0, description: 'skip this many' })),
          },
          { additionalProperties: false },
        ),
        result: Type.Object({ items: Type.Array(Job), total: Type.Integer() }),
        role: 'auditor',
        mutating: false,
        handler: async (p) => jobs.list(p),
      }),
      defineMethod({
        name: 'job.abort',
        summary: 'Abort a running job (its state becomes aborted once the work has stopped).',
        params: Type.Object({ id: JobId }, { additionalProperties: false }),
        result: Job,
        role: 'operator',
        mutating: true,
        handler: async (p, ctx) => {
          if (ctx.dryRun) {
            jobs.get(p.id);
            return { dryRun: true, commands: [], notes: [`would abort job ${p.id}`] };
          }
          return jobs.abort(p.id);
        },
      }),
      defineMethod({
        name: 'audit.query',
        summary: 'Audit records, newest first, with filters and pagination.',
        params: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'default 50' })),
            offset: Type.Optional(Type.Integer({ minimum: 0, description: 'skip this many' })),
            method: Type.Optional(
              Type.String({ maxLength: 100, description: 'exact, or a prefix ending in *' }),
            ),
            user: Type.Optional(Type.String({ maxLength: 100, description: 'only this user' })),
            outcome: Type.Optional(
              Type.Union(['ok', 'error', 'denied', 'accepted', 'dry-run'].map((o) => Type.Literal(o))),
            ),
            since: Type.Optional(Type.Number({ description: 'ms since the epoch' })),
            until: Type.Optional(Type.Number({ description: 'ms since the epoch' })),
          },
          { additionalProperties: false },
        ),
        result: Type.Object({
          items: Type.Array(
            Type.Object({ seq: Type.Integer(), time: Type.Number() }, { additionalProperties: true }),
          ),
          total: Type.Integer(),
        }),
        role: 'auditor',
        mutating: false,
        handler: async (p) => {
          await audit.flushed(); // appends are batched: include the ones still in flight
          return audit.query(p);
        },
      }),
      defineMethod({
        name: 'audit.verify',
        summary: 'Walk the hash chain of the audit log and report the first altered or missing record.',
        params: Empty,
        result: Type.Object({
          ok: Type.Boolean(),
          checked: Type.Integer(),
          firstBad: Type.Optional(Type.Integer()),
          reason: Type.Optional(Type.String()),
        }),
        role: 'auditor',
        mutating: false,
        handler: async () => {
          await audit.flushed();
          return audit.verify();
        },
      }),
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
    ],
  };
}
