/**
 * Ceph RADOS Gateway through radosgw-admin (local gateway or an external cluster's).
 *
 * Why radosgw-admin rather than the admin-ops HTTP API: it is Ceph's reference tool, it speaks
 * to RADOS directly (users, keys, quotas and bucket statistics can be read and fixed even when
 * no gateway answers), its JSON output is stable across releases, and every change is an argv
 * list — exactly what a dry run shows and the runner runs. The admin-ops API would add a second
 * HTTP client signed outside the S3 client and needs a gateway that answers. It is faster for
 * one thing, measured on the lab: bucket stats of 1,000 buckets in ~1.5 s against ~3.5 s; the
 * listing is sampled (bucket-cache.ts) either way. S3-level settings (versioning, bucket
 * policies, creating a bucket) go through the AWS SDK as the agent's RGW *system* user, whose
 * credentials are in secrets.env.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type https from 'node:https';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { conflict, notFound, RpcError, unavailable } from '../../rpc/errors.js';
import type { Runner } from '../runner.js';
import {
  type GatewayState,
  type Health,
  type ObjectBackend,
  type Plan,
  type Versioning,
  writePlanFiles,
} from './backend.js';
import { type CephConn, type GatewayStart, radosgwStart, rgw } from './commands.js';
import type { Bucket, Canned, Grant, NewKey, Quota, User } from './model.js';
import {
  firstSecretOf,
  isExists,
  isNoSuchBucket,
  isNoSuchUser,
  newKeyOf,
  parseBucketStats,
  parseUser,
  parseUserList,
} from './parse-rgw.js';
import { grantsOf, type PolicyDocument, withGrant } from './policy.js';
import {
  answers,
  readPolicy,
  readVersioning,
  runS3Step,
  type S3Credentials,
  s3Client,
  s3Steps,
  trustingAgent,
} from './s3.js';

export interface AdminSecrets {
  get(): S3Credentials | undefined;
  set(c: S3Credentials): Promise<void>;
}

export interface RgwBackendOptions {
  kind: 'rgw' | 'external-rgw';
  runner: Runner;
  conn: CephConn;
  /** the local gateway the agent starts and stops (kind 'rgw') */
  gateway?: GatewayStart;
  endpoint: string;
  adminUser: string;
  secrets: AdminSecrets;
  timeoutMs?: number;
  /** extra CA for an https endpoint (the appliance's own certificate) */
  ca?: string;
}

/** Alive and not a zombie (an exited daemon whose parent has not reaped it keeps its /proc entry). */
function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export class RgwBackend implements ObjectBackend {
  readonly kind: 'rgw' | 'external-rgw';
  readonly endpoint: string;
  private admin: S3Client | undefined;
  private clients = new Map<string, S3Client>();
  private agent: https.Agent | undefined;

  constructor(private o: RgwBackendOptions) {
    this.kind = o.kind;
    this.endpoint = o.endpoint;
    this.agent = trustingAgent(o.ca);
  }

  private async exec(argv: string[], signal?: AbortSignal): Promise<string> {
    try {
      return (await this.o.runner.run(argv, { timeoutMs: this.o.timeoutMs ?? 60_000, signal })).stdout;
    } catch (err) {
      if (err instanceof RpcError && err.kind === 'failed') {
        const stderr = String(err.data.stderr ?? '');
        const code = Number(err.data.exitCode ?? 0);
        if (isNoSuchUser(stderr)) throw notFound('no such user', { argv });
        if (argv.includes('--bucket') && isNoSuchBucket(code, stderr))
          throw notFound('no such bucket', { argv });
        if (isExists(stderr)) throw conflict(`already exists: ${stderr.trim().split('\n').pop()}`, { argv });
      }
      throw err;
    }
  }

  async health(): Promise<Health> {
    if (!this.o.runner.which('radosgw-admin'))
      return {
        up: false,
        reason: 'radosgw-admin is not installed (package radosgw)',
        endpoint: this.endpoint,
      };
    if (this.kind === 'rgw' && !this.o.runner.which('radosgw'))
      return { up: false, reason: 'radosgw is not installed (package radosgw)', endpoint: this.endpoint };
    const why = await answers(this.endpoint, 2000, this.agent);
    if (why)
      return {
        up: false,
        reason: `the gateway at ${this.endpoint} does not answer (${why})`,
        endpoint: this.endpoint,
      };
    return { up: true, endpoint: this.endpoint };
  }

  /** The agent's system user: created on first use, its key kept in secrets.env only. */
  private async adminClient(): Promise<S3Client> {
    if (this.admin) return this.admin;
    let creds = this.o.secrets.get();
    if (!creds) {
      let text: string;
      try {
        text = await this.exec(rgw.userInfo(this.o.conn, this.o.adminUser));
      } catch (err) {
        if (!(err instanceof RpcError && err.kind === 'not_found')) throw err;
        text = await this.exec(
          rgw.userCreate(this.o.conn, { uid: this.o.adminUser, displayName: 'Calypso agent', system: true }),
        );
      }
      creds = firstSecretOf(text);
      if (!creds) throw new RpcError('failed', `${this.o.adminUser}: the admin user has no S3 key`);
      await this.o.secrets.set(creds);
    }
    this.admin = await s3Client(this.endpoint, creds, undefined, this.agent);
    return this.admin;
  }

  async listBuckets(): Promise<Bucket[]> {
    return parseBucketStats(await this.exec(rgw.bucketStats(this.o.conn)));
  }

  async getBucket(name: string): Promise<Bucket> {
    const [b] = parseBucketStats(await this.exec(rgw.bucketStats(this.o.conn, name)));
    if (!b) throw notFound(`bucket ${name} does not exist`, { bucket: name });
    return b;
  }

  adminS3(): Promise<S3Client> {
    return this.adminClient();
  }

  async getVersioning(name: string): Promise<Versioning> {
    return readVersioning(await this.adminClient(), name);
  }

  async getPolicy(name: string): Promise<PolicyDocument | undefined> {
    return readPolicy(await this.adminClient(), name);
  }

  async userIds(): Promise<string[]> {
    return parseUserList(await this.exec(rgw.userList(this.o.conn))).filter((u) => u !== this.o.adminUser);
  }

  async listUsers(): Promise<User[]> {
    const ids = await this.userIds();
    const out: User[] = [];
    // a few radosgw-admin processes at a time: each is a cluster client of its own
    for (let i = 0; i < ids.length; i += 4) {
      out.push(...(await Promise.all(ids.slice(i, i + 4).map((id) => this.getUser(id)))));
    }
    return out;
  }

  async getUser(id: string): Promise<User> {
    if (id === this.o.adminUser) throw notFound(`user ${id} does not exist`, { user: id });
    try {
      return parseUser(await this.exec(rgw.userInfo(this.o.conn, id)));
    } catch (err) {
      if (err instanceof RpcError && err.kind === 'not_found')
        throw notFound(`user ${id} does not exist`, { user: id });
      throw err;
    }
  }

  async createBucket(name: string, owner: string, opts: { objectLock?: boolean } = {}): Promise<Plan> {
    // created by the system user, then handed to its owner (the owner's secret is not needed)
    return {
      steps: [
        s3Steps.createBucket(name, opts.objectLock),
        { kind: 'argv', argv: rgw.bucketLink(this.o.conn, name, owner) },
      ],
    };
  }

  async deleteBucket(name: string, purge: boolean): Promise<Plan> {
    return { steps: [{ kind: 'argv', argv: rgw.bucketRm(this.o.conn, name, purge) }] };
  }

  async setVersioning(name: string, on: boolean): Promise<Plan> {
    return { steps: [s3Steps.versioning(name, on)] };
  }

  async setQuota(name: string, q: Quota): Promise<Plan> {
    return {
      steps: [
        { kind: 'argv', argv: rgw.quotaSet(this.o.conn, name, q.maxSize, q.maxObjects) },
        { kind: 'argv', argv: rgw.quotaEnable(this.o.conn, name, q.enabled) },
      ],
      notes: ['RGW checks size in KiB, each object counted rounded up to 4 KiB'],
    };
  }

  async putPolicy(name: string, doc: PolicyDocument | undefined): Promise<Plan> {
    return { steps: [s3Steps.policy(name, doc)] };
  }

  async listGrants(bucket: string): Promise<Grant[]> {
    return grantsOf(bucket, await this.getPolicy(bucket));
  }

  async setGrant(bucket: string, user: string, access: Canned | undefined): Promise<Plan> {
    return this.putPolicy(bucket, withGrant(bucket, await this.getPolicy(bucket), user, access));
  }

  async createUser(u: { id: string; displayName: string; email?: string }): Promise<Plan> {
    return {
      steps: [
        {
          kind: 'argv',
          argv: rgw.userCreate(this.o.conn, { uid: u.id, displayName: u.displayName, email: u.email }),
          newKeyAmong: [],
        },
      ],
    };
  }

  async setSuspended(id: string, suspended: boolean): Promise<Plan> {
    const argv = suspended ? rgw.userSuspend(this.o.conn, id) : rgw.userEnable(this.o.conn, id);
    return { steps: [{ kind: 'argv', argv }] };
  }

  async deleteUser(id: string, purge: boolean): Promise<Plan> {
    return { steps: [{ kind: 'argv', argv: rgw.userRm(this.o.conn, id, purge) }] };
  }

  async createKey(user: string): Promise<Plan> {
    const before = (await this.getUser(user)).keys.map((k) => k.accessKey);
    return { steps: [{ kind: 'argv', argv: rgw.keyCreate(this.o.conn, user), newKeyAmong: before }] };
  }

  async revokeKey(user: string, accessKey: string): Promise<Plan> {
    return { steps: [{ kind: 'argv', argv: rgw.keyRm(this.o.conn, user, accessKey) }] };
  }

  async run(plan: Plan, signal?: AbortSignal): Promise<{ newKey?: NewKey }> {
    let newKey: NewKey | undefined;
    for (const d of plan.directories ?? []) await mkdir(d, { recursive: true, mode: 0o750 });
    await writePlanFiles(plan);
    for (const step of plan.steps) {
      if (step.kind === 's3') await runS3Step(await this.adminClient(), step);
      else {
        const out = await this.exec(step.argv, signal);
        if (step.newKeyAmong) newKey = newKeyOf(out, step.newKeyAmong);
      }
    }
    // keys and owners changed: drop cached per-user clients
    this.clients.clear();
    return newKey ? { newKey } : {};
  }

  async clientFor(user: string): Promise<S3Client> {
    const cached = this.clients.get(user);
    if (cached) return cached;
    await this.getUser(user);
    const creds = firstSecretOf(await this.exec(rgw.userInfo(this.o.conn, user)));
    if (!creds) throw conflict(`user ${user} has no access key; create one first`, { user });
    const c = await s3Client(this.endpoint, creds, undefined, this.agent);
    this.clients.set(user, c);
    return c;
  }

  private pid(): number | undefined {
    const f = this.o.gateway?.pidFile;
    if (!f || !existsSync(f)) return undefined;
    const pid = Number(readFileSync(f, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && pidAlive(pid) ? pid : undefined;
  }

  async gateway(): Promise<GatewayState> {
    if (!this.o.gateway)
      return { managed: false, running: (await answers(this.endpoint, 2000, this.agent)) === undefined };
    const pid = this.pid();
    return pid ? { managed: true, running: true, pid } : { managed: true, running: false };
  }

  async startGateway(): Promise<Plan> {
    if (!this.o.gateway) throw unavailable('the gateway is external: the agent does not start it');
    if (this.pid()) return { steps: [], notes: ['radosgw is already running'] };
    const g = this.o.gateway;
    return {
      steps: [{ kind: 'argv', argv: radosgwStart(g) }],
      directories: [g.data, path.dirname(g.pidFile), path.dirname(g.adminSocket), path.dirname(g.logFile)],
    };
  }

  async stopGateway(): Promise<Plan> {
    if (!this.o.gateway) throw unavailable('the gateway is external: the agent does not stop it');
    const pid = this.pid();
    if (!pid) return { steps: [], notes: ['radosgw is not running'] };
    return { steps: [{ kind: 'argv', argv: ['kill', '-s', 'TERM', String(pid)] }] };
  }

  close(): void {
    this.agent?.destroy();
    this.admin?.destroy();
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }
}
