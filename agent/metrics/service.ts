/**
 * Prometheus metrics: `GET /metrics` on the agent's HTTP/WebSocket listener, in Prometheus'
 * text format (prom-client, one registry per agent). It needs a bearer token like every route
 * of that listener (an `auditor` token is enough; Prometheus sends it with
 * `authorization: {type: Bearer, credentials: …}`), so it shares the listener's failed-token
 * rate limit and connection caps; a scraper without one gets 401.
 *
 * Figures come from the sources the subsystems contribute (`deps.metrics.contribute`, each in
 * its own `agent/<name>/metrics.ts`), read at scrape time with the same code and caches their
 * methods use; a subsystem that is absent or unavailable just has no series. One scrape's
 * reading is reused for `cacheMs` so that several scrapers do not multiply the work; the text
 * format is agent/metrics/exposition.ts.
 */
import { type Static, Type } from '@sinclair/typebox';
import { configOf, defineConfigSlice } from '../config.js';
import type { Service, Subsystem } from '../deps.js';
import type { createMetrics, Reading } from './exposition.js';
import { ScrapeLimiter } from './limiter.js';

export const metricsConfig = defineConfigSlice(
  'metrics',
  Type.Object(
    {
      enabled: Type.Boolean({ default: true, description: 'serve /metrics on the WebSocket listener' }),
      cacheMs: Type.Integer({
        minimum: 0,
        maximum: 60_000,
        default: 1000,
        description: 'how long one reading of the subsystems (and its rendered text) serves scrapes',
      }),
      scrapesPerMinute: Type.Integer({
        minimum: 1,
        default: 120,
        description:
          'scrapes per token per minute; more get HTTP 429 (Prometheus scrapes every 15 s by default)',
      }),
    },
    { additionalProperties: false, default: {} },
  ),
);
export type MetricsConfig = Static<typeof metricsConfig.schema>;

export const METRICS_PATH = '/metrics';
function metricsService(deps: Parameters<Subsystem['service']>[0]): Service {
  const cfg: MetricsConfig = configOf(deps.config, metricsConfig);
  const sources = () => deps.metrics.list();
  let cached: { at: number; value: Promise<Reading> } | undefined;
  // prom-client (with what it pulls in: ~150 KB of code, a few MB of an idle agent's RSS) loads
  // only where /metrics can be served: when the WebSocket/HTTP transport registers the route.
  // Calls observed meanwhile wait in `early` (bounded) and are counted once it has loaded.
  let m: ReturnType<typeof createMetrics> | undefined;
  let loading: Promise<ReturnType<typeof createMetrics>> | undefined;
  const early: [string, number, boolean][] = [];
  const load = () => {
    loading ??= import('./exposition.js').then((x) => {
      const read = () => {
        const now = deps.clock.now();
        if (!cached || now - cached.at > cfg.cacheMs) cached = { at: now, value: x.readSources(sources()) };
        return cached.value;
      };
      m = x.createMetrics(sources, read, deps.clock.now);
      for (const [method, seconds, ok] of early.splice(0)) m.observe(method, seconds, ok);
      return m;
    });
    return loading;
  };
  // One rendered text per cache period, shared by every scrape meanwhile; a rendering still
  // running serves the scrapes that arrive, however long it takes (readings cannot pile up).
  let rendered: { at: number; done: boolean; text: Promise<string> } | undefined;
  const render = (): Promise<string> => {
    if (rendered && (!rendered.done || deps.clock.now() - rendered.at <= cfg.cacheMs)) return rendered.text;
    const r = { at: deps.clock.now(), done: false, text: load().then((x) => x.scrape()) };
    r.text.then(
      () => {
        r.done = true;
        r.at = deps.clock.now();
      },
      () => {
        r.done = true;
        r.at = Number.NEGATIVE_INFINITY; // a failed rendering is not reused
      },
    );
    rendered = r;
    return r.text;
  };
  const limiter = new ScrapeLimiter(cfg.scrapesPerMinute, deps.clock.now);
  return {
    name: 'metrics',
    methods: [],
    observeRpc: (method, seconds, ok) => {
      if (m) m.observe(method, seconds, ok);
      else if (loading && early.length < 10_000) early.push([method, seconds, ok]);
    },
    wsRoutes: (app, authenticate) => {
      if (!cfg.enabled) return;
      void load();
      app.get(METRICS_PATH, async (req, reply) => {
        // the listener already refused requests without a valid token; belt and braces
        const who = authenticate(req.raw);
        if (!who) {
          await reply.code(401).send({ error: 'a valid bearer token is required' });
          return;
        }
        const wait = limiter.refusal(who.tokenId ?? who.user);
        if (wait !== undefined) {
          await reply
            .code(429)
            .header('retry-after', String(wait))
            .send({
              error: `more than ${cfg.scrapesPerMinute} scrapes a minute with this token (metrics.scrapesPerMinute); try again in ${wait} s`,
              kind: 'limit',
            });
          return;
        }
        const text = await render();
        await reply.header('content-type', (await load()).register.contentType).send(text);
      });
    },
  };
}

export const metricsSubsystem: Subsystem = {
  name: 'metrics',
  service: metricsService,
  config: metricsConfig,
};
