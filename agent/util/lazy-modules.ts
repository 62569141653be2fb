/**
 * Packages the agent loads on first use, shared by every subsystem that needs them (one loader
 * each, so one chunk load and one `unavailable` reason; see lazy.ts).
 */
import { lazyModule } from './lazy.js';

/** systeminformation (~10 MB resident): system.info and network.list. */
export const systemInformation = lazyModule<typeof import('systeminformation')>(
  'the system information library (systeminformation)',
  () => import('systeminformation'),
  'osInfo',
);

/** nodemailer: the first mail a notification target sends (most appliances never send one). */
export const nodemailer = lazyModule<typeof import('nodemailer')>(
  'the mail library (nodemailer)',
  () => import('nodemailer'),
  'createTransport',
);

/** node-pty (a native addon, ~5 MB of an idle agent's RSS): the first terminal session. */
export const nodePty = lazyModule<typeof import('node-pty')>(
  'the terminal library (node-pty)',
  () => import('node-pty'),
  'spawn',
);

/**
 * Node built-ins the agent needs only for some calls (webhooks, S3), taken on first use with
 * `process.getBuiltinModule` instead of a static `import`:
 *
 * - `node:https`/`node:tls` set up OpenSSL's TLS contexts when loaded: about 9 MB of an idle
 *   agent's RSS on Node 24, for an appliance that may never send a webhook or make an S3 call;
 * - a static ESM `import … from 'node:http'` makes Node 24 build the module's ESM facade, which
 *   reads every export, lazy ones included (`WebSocket`, `MessageEvent`…): that loads undici and
 *   http2, about 14 MB more. `getBuiltinModule` returns the CommonJS module without a facade.
 *
 * Measured with `npm run bench -- core` (docs/benchmarks.md). Type-only imports stay as they are.
 */
export const httpModule = (): typeof import('node:http') => process.getBuiltinModule('node:http');
export const httpsModule = (): typeof import('node:https') => process.getBuiltinModule('node:https');
export const tlsModule = (): typeof import('node:tls') => process.getBuiltinModule('node:tls');
export const dnsPromises = (): typeof import('node:dns/promises') =>
  process.getBuiltinModule('node:dns/promises');
