/** The `notify` slice of calypso.yaml: retries, outbox, timeouts, concurrency, webhook allow-list. */
import { type Static, Type } from '@sinclair/typebox';
import { defineConfigSlice } from '../config.js';

export const notifyConfig = defineConfigSlice(
  'notify',
  Type.Object(
    {
      retryBaseMs: Type.Integer({
        minimum: 10,
        maximum: 3_600_000,
        default: 30_000,
        description: 'first retry delay; each next one doubles',
      }),
      maxAttempts: Type.Integer({ minimum: 1, maximum: 50, default: 8, description: 'attempts per message' }),
      tickMs: Type.Integer({
        minimum: 10,
        maximum: 60_000,
        default: 1000,
        description: 'outbox check interval',
      }),
      maxOutbox: Type.Integer({
        minimum: 10,
        maximum: 1_000_000,
        default: 10_000,
        description: 'messages kept waiting at most; the oldest are dropped beyond',
      }),
      sendmailPath: Type.String({ default: '/usr/sbin/sendmail', pattern: '^/[^\\s"]{1,255}$' }),
      timeoutMs: Type.Integer({
        minimum: 1000,
        maximum: 120_000,
        default: 15_000,
        description: 'per delivery: the whole exchange (connect, send, answer)',
      }),
      concurrency: Type.Integer({
        minimum: 1,
        maximum: 64,
        default: 8,
        description: 'targets delivered to at once (each target in order; a slow one delays only itself)',
      }),
      webhookAllow: Type.Array(Type.String({ minLength: 1, maxLength: 260, pattern: '^[^\\s/@]+$' }), {
        maxItems: 64,
        default: [],
        description:
          'hosts or host:port webhooks may reach although loopback, link-local or this agent’s own listener (e.g. 127.0.0.1:9000)',
      }),
    },
    { additionalProperties: false, default: {} },
  ),
);
export type NotifyConfig = Static<typeof notifyConfig.schema>;
