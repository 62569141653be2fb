/**
 * Redaction of secret-looking keys, for anything a transport or the core writes about a call
 * (logs, audit records). Lives in rpc/ because the core redacts before it hands params to the
 * agent's audit sink; the agent's logger uses the same key list.
 */
export const REDACT_KEYS = ['password', 'secret', 'token', 'passphrase', 'privateKey', 'authorization'];

/** Keys whose string values are URLs: only scheme, host and port are kept (issue #28 item 14). */
const URL_KEY = /^(url|.*Url)$/;

/**
 * A URL as audit records and logs show it: scheme, host and port; a path, query or fragment
 * becomes `/[redacted]` (a Slack-style webhook URL carries its secret in the path).
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const hidden = (u.pathname && u.pathname !== '/') || u.search || u.hash;
    return `${u.protocol}//${u.host}${hidden ? '/[redacted]' : '/'}`;
  } catch {
    return '[redacted]';
  }
}

/**
 * Redact secret-looking keys from a params object before it is logged or audited; URLs (keys
 * `url`, `…Url`) keep only their scheme, host and port.
 */
export function redactParams(value: unknown, extra: readonly string[] = [], depth = 0): unknown {
  if (depth > 8) return '[deep]';
  if (Array.isArray(value)) return value.map((v) => redactParams(v, extra, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const lower = k.toLowerCase();
      const secret = extra.includes(k) || REDACT_KEYS.some((r) => lower.includes(r.toLowerCase()));
      out[k] = secret
        ? '[redacted]'
        : typeof v === 'string' && URL_KEY.test(k)
          ? redactUrl(v)
          : redactParams(v, extra, depth + 1);
    }
    return out;
  }
  return value;
}
