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
import { createMetrics, type Reading, readSources } from './exposition.js';
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
  const read = () => {
    const now = deps.clock.now();
    if (!cached || now - cached.at > cfg.cacheMs) cached = { at: now, value: readSources(sources()) };
    return cached.value;
  };
  const m = createMetrics(sources, read, deps.clock.now);
  // One rendered text per cache period, shared by every scrape meanwhile; a rendering still
  // running serves the scrapes that arrive, however long it takes (readings cannot pile up).
  let rendered: { at: number; done: boolean; text: Promise<string> } | undefined;
  const render = (): Promise<string> => {
    if (rendered && (!rendered.done || deps.clock.now() - rendered.at <= cfg.cacheMs)) return rendered.text;
    const r = { at: deps.clock.now(), done: false, text: m.scrape() };
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
    observeRpc: (method, seconds, ok) => m.observe(method, seconds, ok),
    wsRoutes: (app, authenticate) => {
      if (!cfg.enabled) return;
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
        await reply.header('content-type', m.register.contentType).send(text);
      });
    },
  };
}

export const metricsSubsystem: Subsystem = {
  name: 'metrics',
  service: metricsService,
  config: metricsConfig,
};
