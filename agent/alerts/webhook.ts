/**
 * Webhook delivery, hardened (issue #28 items 7, 13, 14):
 * - where a webhook may point: http(s), no credentials, and never loopback, link-local
 *   (169.254.169.254, fe80::/10), unspecified or this agent's own listener — unless
 *   `notify.webhookAllow` in calypso.yaml names the host (or host:port). The URL parser already
 *   turns `2130706433`, `127.1` and `0x7f.1` into 127.0.0.1; names are resolved at delivery and
 *   every address checked, and the connection goes to the checked address (no rebinding);
 * - what is read back: at most `MAX_RESPONSE_BYTES` of any answer, then the connection is
 *   closed; one timeout bounds the whole exchange (connect, send, answer);
 * - what a failure says: `unavailable` with a reason in plain words, never an internal error;
 * - what is shown of a URL in audit records, history and logs: scheme, host and port only
 *   (`redactUrl`, applied by the RPC core to every `url` param): Slack-style URLs carry their
 *   secret in the path.
 */
import { isIP, type LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';
import { failed, unavailable } from '../../rpc/errors.js';
import { dnsPromises, httpModule, httpsModule } from '../util/lazy-modules.js';

export { redactUrl } from '../../rpc/redact.js';

/** Bytes of a receiver's answer read at most (the status line and headers are not counted). */
export const MAX_RESPONSE_BYTES = 4096;

export interface WebhookPolicy {
  /** hosts (`name`, `1.2.3.4`, `[::1]`) or `host:port` allowed even when loopback or local */
  allow: readonly string[];
  /** the agent's own listening ports (its WebSocket), refused on every local address */
  ownPorts: readonly number[];
}

/** Why an address may not be a webhook's, or undefined when it may. */
export function forbiddenAddress(addr: string): string | undefined {
  const a = addr.replace(/^\[|\]$/g, '').toLowerCase();
  // IPv4-mapped IPv6, dotted or as the URL parser writes it (::ffff:7f00:1)
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (dotted) return forbiddenAddress(dotted[1]!);
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (hex) {
    const [hi, lo] = [Number.parseInt(hex[1]!, 16), Number.parseInt(hex[2]!, 16)];
    return forbiddenAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  if (isIP(a) === 4) {
    const [x, y] = a.split('.').map(Number) as [number, number];
    if (x === 127) return 'a loopback address';
    if (x === 169 && y === 254) return 'a link-local address (cloud metadata lives there)';
    if (x === 0) return 'an unspecified address';
    return undefined;
  }
  if (isIP(a) === 6) {
    if (a === '::1') return 'a loopback address';
    if (a === '::') return 'an unspecified address';
    if (/^fe[89ab]/.test(a)) return 'a link-local address';
    return undefined;
  }
  return undefined;
}

function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces()))
    for (const i of list ?? []) out.add(i.address.toLowerCase());
  return out;
}

function allowed(policy: WebhookPolicy, host: string, port: number): boolean {
  const h = host.toLowerCase();
  const bare = h.replace(/^\[|\]$/g, '');
  return policy.allow.some((e) => {
    const x = e.toLowerCase();
    return x === h || x === bare || x === `${h}:${port}` || x === `[${bare}]:${port}`;
  });
}

const portOf = (u: URL) => Number(u.port || (u.protocol === 'https:' ? 443 : 80));

/** Why an address the URL's host resolved to may not be contacted (undefined: it may). */
function refuseAddress(policy: WebhookPolicy, host: string, addr: string, port: number): string | undefined {
  if (allowed(policy, host, port) || allowed(policy, addr, port)) return undefined;
  const why = forbiddenAddress(addr);
  if (why) return `${addr} is ${why}`;
  if (policy.ownPorts.includes(port) && localAddresses().has(addr.toLowerCase()))
    return `${addr}:${port} is this agent's own listener`;
  return undefined;
}

const ALLOW_HINT = 'name the host in notify.webhookAllow in calypso.yaml to allow it';

/**
 * The checks a schema cannot make, at `notify.target.set`: http(s), no credentials, and a host
 * that is not loopback, link-local or the agent's own listener (IP literals in any spelling, and
 * `localhost`). Names are checked again, resolved, at every delivery.
 */
export function checkWebhookUrl(url: string, policy: WebhookPolicy): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'the webhook URL is not a URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return `webhook URL scheme ${u.protocol} is not http or https`;
  if (u.username || u.password)
    return 'a webhook URL must not carry credentials: the secret signs the body instead (X-Calypso-Signature)';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = portOf(u);
  if (isIP(host)) {
    const why = refuseAddress(policy, u.hostname, host, port);
    if (why) return `a webhook may not point at ${why}; ${ALLOW_HINT}`;
  } else if (/^localhost\.?$|\.localhost\.?$/i.test(host) && !allowed(policy, u.hostname, port))
    return `a webhook may not point at ${host} (loopback); ${ALLOW_HINT}`;
  return undefined;
}

/** A lookup that resolves as usual but refuses any address the policy forbids. */
function guardedLookup(policy: WebhookPolicy, host: string, port: number): LookupFunction {
  return ((hostname: string, options: unknown, cb: (...a: unknown[]) => void) => {
    dnsPromises()
      .lookup(hostname, { all: true })
      .then(
        (addrs) => {
          for (const a of addrs) {
            const why = refuseAddress(policy, host, a.address, port);
            if (why)
              return cb(
                Object.assign(new Error(`${hostname} resolves to ${why}`), { code: 'EREFUSED_POLICY' }),
              );
          }
          const all = (options as { all?: boolean } | undefined)?.all;
          if (all) cb(null, addrs);
          else cb(null, addrs[0]!.address, addrs[0]!.family);
        },
        (err: Error) => cb(err),
      );
  }) as LookupFunction;
}

/** A network failure in plain words (the same for every closed or filtered port: no oracle). */
function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as { code?: string; name?: string; message?: string };
  if (e.code === 'EREFUSED_POLICY') return `refused by policy: ${e.message}; ${ALLOW_HINT}`;
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'ABORT_ERR')
    return `no answer within ${timeoutMs} ms`;
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return 'the host name does not resolve';
  if (typeof e.code === 'string' && e.code.startsWith('ERR_TLS')) return 'the TLS handshake failed';
  if (e.code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || e.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
    return 'the receiver’s certificate is not trusted';
  return 'the receiver could not be reached';
}

export interface WebhookPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  policy: WebhookPolicy;
  /** in messages: the target id */
  id: string;
}

/**
 * POST once; resolves with the HTTP status after reading at most MAX_RESPONSE_BYTES of the
 * answer. Throws `unavailable` (network, policy, timeout) or `failed` (a non-2xx answer).
 */
export async function postWebhook(o: WebhookPost): Promise<number> {
  const u = new URL(o.url);
  const why = checkWebhookUrl(o.url, o.policy);
  if (why) throw unavailable(`webhook ${o.id}: ${why}`);
  const port = portOf(u);
  const signal = AbortSignal.timeout(o.timeoutMs);
  const mod = u.protocol === 'https:' ? httpsModule() : httpModule();
  let status: number;
  try {
    status = await new Promise<number>((resolve, reject) => {
      const req = mod.request(
        u,
        {
          method: 'POST',
          headers: { ...o.headers, 'content-length': String(Buffer.byteLength(o.body)), connection: 'close' },
          agent: false,
          signal,
          lookup: guardedLookup(o.policy, u.hostname, port),
        },
        (res) => {
          let seen = 0;
          const done = () => {
            res.removeAllListeners('data');
            res.destroy();
            req.destroy();
            resolve(res.statusCode ?? 0);
          };
          res.on('data', (chunk: Buffer) => {
            seen += chunk.length;
            if (seen >= MAX_RESPONSE_BYTES) done();
          });
          res.on('end', done);
          res.on('error', (err) => (seen >= MAX_RESPONSE_BYTES ? undefined : reject(err)));
        },
      );
      req.on('error', reject);
      req.end(o.body);
    });
  } catch (err) {
    throw unavailable(`webhook ${o.id}: ${networkReason(err, o.timeoutMs)}`);
  }
  if (status < 200 || status > 299) throw failed(`webhook ${o.id}: HTTP ${status}`);
  return status;
}
