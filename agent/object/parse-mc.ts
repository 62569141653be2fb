/**
 * Parsers (pure) for `mc --json` output. mc prints one JSON value per message, indented
 * (`json.MarshalIndent`), so a listing is a *sequence* of JSON objects, not an array; errors
 * are messages too (`"status": "error"`). Checked against test/fixtures/minio (handwritten
 * from mc's message structs: no MinIO server runs in the tests — see the README there).
 */
import type { Bucket, NewKey, User } from './model.js';

/** Split concatenated JSON texts (`{…}\n{…}`) into values. */
export function jsonSequence(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth++ === 0) start = i;
    } else if (c === '}' || c === ']') {
      if (--depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  if (depth !== 0) throw new Error('mc: truncated JSON output');
  return out;
}

interface McMessage {
  status?: string;
  error?: { message?: string; cause?: { message?: string } };
  accessKey?: string;
  secretKey?: string;
  userStatus?: string;
  policyName?: string;
  parentUser?: string;
  size?: number;
  objects?: number;
  prefix?: string;
  quota?: number;
  quotatype?: string;
}

/** The first error message in mc's output, if any. */
export function mcError(text: string): string | undefined {
  for (const m of jsonSequence(text) as McMessage[]) {
    if (m.status === 'error') return m.error?.cause?.message ?? m.error?.message ?? 'mc: error';
  }
  return undefined;
}

function messages(text: string): McMessage[] {
  const err = mcError(text);
  if (err) throw new Error(`mc: ${err}`);
  return jsonSequence(text) as McMessage[];
}

/** `mc admin user list --json`: one message per user (accessKey is the user name). */
export function parseUserList(text: string): User[] {
  return messages(text)
    .filter((m) => typeof m.accessKey === 'string')
    .map((m) => ({
      id: m.accessKey!,
      displayName: m.accessKey!,
      suspended: m.userStatus === 'disabled',
      keys: [],
    }));
}

/** Policies attached to each user (`policyName` of the user list: comma-separated). */
export function parseUserPolicies(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of messages(text))
    if (m.accessKey)
      out.set(
        m.accessKey,
        (m.policyName ?? '')
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
      );
  return out;
}

/** `mc admin accesskey ls ALIAS/ USER --json`: the user's access keys (no secrets). */
export function parseAccessKeys(text: string, user: string): { accessKey: string; user: string }[] {
  const out: { accessKey: string; user: string }[] = [];
  for (const m of messages(text) as (McMessage & { svcaccs?: { accessKey?: string }[] })[]) {
    for (const k of m.svcaccs ?? []) if (k.accessKey) out.push({ accessKey: k.accessKey, user });
    if (m.accessKey && m.parentUser) out.push({ accessKey: m.accessKey, user: m.parentUser });
  }
  return out;
}

/** `mc admin accesskey create --json`: the only time MinIO prints the new secret. */
export function parseNewAccessKey(text: string, user: string): NewKey {
  const m = messages(text).find((x) => x.accessKey && x.secretKey);
  if (!m) throw new Error('mc admin accesskey create: no key in the output');
  return { user: m.parentUser ?? user, accessKey: m.accessKey!, secretKey: m.secretKey! };
}

/** `mc du --depth 1 --json ALIAS/BUCKET`: size and objects of the bucket. */
export function parseDu(text: string): { bytes: number; objects: number } {
  const ms = messages(text).filter((m) => typeof m.size === 'number');
  // the last message is the total for the prefix given
  const m = ms.at(-1);
  return { bytes: m?.size ?? 0, objects: m?.objects ?? 0 };
}

/** `mc quota info --json ALIAS/BUCKET`: a hard size quota, or none (quota 0). */
export function parseQuotaInfo(text: string): Bucket['quota'] {
  const m = messages(text).find((x) => x.quota !== undefined);
  return m && (m.quota ?? 0) > 0 ? { enabled: true, maxSize: m.quota } : { enabled: false };
}
