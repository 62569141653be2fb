/**
 * API tokens for the WebSocket transport. The secret is shown once at creation; LMDB keeps
 * only its SHA-256, with the role and expiry. Token text: `cal_<id>_<secret>`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from 'lmdb';
import { invalid, notFound } from '../rpc/errors.js';
import type { LeastRole } from '../rpc/roles.js';
import { type AuditedCaller, commitAudited } from './util/audited-commit.js';

export interface TokenRecord {
  id: string;
  name: string;
  role: Exclude<LeastRole, 'public'>;
  hash: string;
  createdAt: number;
  createdBy: string;
  expiresAt?: number;
  revokedAt?: number;
  lastUsedAt?: number;
}

export type TokenInfo = Omit<TokenRecord, 'hash'>;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class TokenStore {
  constructor(
    private db: Database,
    private now: () => number = Date.now,
  ) {}

  async create(
    opts: { name: string; role: TokenRecord['role']; expiresInDays?: number; createdBy: string },
    caller?: AuditedCaller,
  ) {
    if (opts.expiresInDays !== undefined && opts.expiresInDays <= 0)
      throw invalid('expiresInDays must be positive');
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(24).toString('base64url');
    const now = this.now();
    const rec: TokenRecord = {
      id,
      name: opts.name,
      role: opts.role,
      hash: sha256(secret),
      createdAt: now,
      createdBy: opts.createdBy,
      ...(opts.expiresInDays ? { expiresAt: now + opts.expiresInDays * 86_400_000 } : {}),
    };
    await commitAudited(this.db, caller, () => {
      this.db.put(id, rec);
    });
    return { token: `cal_${id}_${secret}`, info: info(rec) };
  }

  list(): TokenInfo[] {
    return [...this.db.getRange({})].map(({ value }) => info(value as TokenRecord));
  }

  async revoke(id: string, caller?: AuditedCaller): Promise<TokenInfo> {
    const rec = this.db.get(id) as TokenRecord | undefined;
    if (!rec) throw notFound(`token ${id} does not exist`, { id });
    rec.revokedAt = this.now();
    await commitAudited(this.db, caller, () => {
      this.db.put(id, rec);
    });
    return info(rec);
  }

  /** Whether a token id is still usable (neither revoked nor expired). */
  isValid(id: string): boolean {
    const rec = this.db.get(id) as TokenRecord | undefined;
    return Boolean(rec && !rec.revokedAt && (rec.expiresAt === undefined || rec.expiresAt >= this.now()));
  }

  /** The token's record if the text is valid, unexpired and not revoked. */
  verify(text: string): TokenRecord | undefined {
    const m = /^cal_([0-9a-f]{12})_([A-Za-z0-9_-]{32})$/.exec(text);
    if (!m) return undefined;
    const rec = this.db.get(m[1]!) as TokenRecord | undefined;
    if (!rec || rec.revokedAt || (rec.expiresAt !== undefined && rec.expiresAt < this.now()))
      return undefined;
    const a = Buffer.from(rec.hash, 'hex');
    const b = Buffer.from(sha256(m[2]!), 'hex');
    if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
    return rec;
  }
}

function info(rec: TokenRecord): TokenInfo {
  const { hash: _h, ...rest } = rec;
  return rest;
}
