/**
 * MinIO, where it is installed, through `mc --json` (admin calls) and the AWS SDK (buckets,
 * versioning, policies) as MinIO's root user. mc gets the endpoint and root credentials in
 * its environment (`MC_HOST_calypso`), never in argv. MinIO itself runs from its own service
 * unit with the environment file this agent renders (minio-env.ts); the agent does not start
 * or stop the process.
 *
 * Differences from RGW, answered plainly: buckets have no owner (the root user creates them;
 * access is by grant), a quota limits size only (maxObjects is `invalid`), and the secret of a
 * new user is generated here and handed to mc on stdin (its `user add` reads it from there).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { invalid, notFound, RpcError, unavailable } from '../../rpc/errors.js';
import type { AgentDeps } from '../deps.js';
import type { Runner } from '../runner.js';
import {
  type GatewayState,
  type Health,
  type ObjectBackend,
  type Plan,
  type Versioning,
  writePlanFiles,
} from './backend.js';
import { MC_ALIAS, mcAdmin } from './commands.js';
import { ADMIN_SECRET_KEY, type ObjectConfig } from './config.js';
import type { Bucket, Canned, Grant, NewKey, Quota, User } from './model.js';
import {
  parseAccessKeys,
  parseDu,
  parseNewAccessKey,
  parseQuotaInfo,
  parseUserList,
  parseUserPolicies,
} from './parse-mc.js';
import { iamGrantName, iamGrantPolicy, type PolicyDocument, parseIamGrantName } from './policy.js';
import { answers, fromS3, readPolicy, readVersioning, runS3Step, s3Client, s3Steps } from './s3.js';
import { loadSdk } from './sdk.js';

export interface MinioBackendOptions {
  deps: AgentDeps;
  cfg: ObjectConfig;
  runner: Runner;
  endpoint: string;
}

export class MinioBackend implements ObjectBackend {
  readonly kind = 'minio' as const;
  readonly endpoint: string;
  private root: S3Client | undefined;

  constructor(private o: MinioBackendOptions) {
    this.endpoint = o.endpoint;
  }

  private creds() {
    const secretKey = this.o.deps.secrets.get(ADMIN_SECRET_KEY);
    if (!secretKey)
      throw unavailable('MinIO root credentials are not in secrets.env yet: apply the MinIO configuration');
    return { accessKey: this.o.cfg.adminUser, secretKey };
  }

  /** MC_HOST_<alias> = scheme://user:secret@host:port (URL-encoded), per command. */
  mcEnv(): Record<string, string> {
    const c = this.creds();
    const u = new URL(this.endpoint);
    u.username = encodeURIComponent(c.accessKey);
    u.password = encodeURIComponent(c.secretKey);
    return { [`MC_HOST_${MC_ALIAS}`]: u.toString().replace(/\/$/, '') };
  }

  private async mc(argv: string[], input?: string): Promise<string> {
    try {
      return (await this.o.runner.run(argv, { env: this.mcEnv(), input, timeoutMs: 60_000 })).stdout;
    } catch (err) {
      if (err instanceof RpcError && err.kind === 'failed') {
        const out = String(err.data.stderr ?? '');
        if (/does not exist|not found|NoSuch/i.test(out))
          throw notFound(out.trim().split('\n').pop() ?? 'not found');
      }
      throw err;
    }
  }

  private async client(): Promise<S3Client> {
    this.root ??= await s3Client(this.endpoint, this.creds());
    return this.root;
  }

  async health(): Promise<Health> {
    if (!this.o.runner.which('mc'))
      return { up: false, reason: 'mc (MinIO client) is not installed', endpoint: this.endpoint };
    if (!this.o.deps.secrets.get(ADMIN_SECRET_KEY))
      return {
        up: false,
        reason: 'MinIO root credentials missing: apply the MinIO configuration',
        endpoint: this.endpoint,
      };
    const why = await answers(this.endpoint);
    if (why)
      return {
        up: false,
        reason: `MinIO at ${this.endpoint} does not answer (${why})`,
        endpoint: this.endpoint,
      };
    return { up: true, endpoint: this.endpoint };
  }

  async listBuckets(): Promise<Bucket[]> {
    const { ListBucketsCommand } = await loadSdk();
    const r = await (await this.client()).send(new ListBucketsCommand({})).catch((e) => {
      throw fromS3(e, 'list buckets');
    });
    const out: Bucket[] = [];
    for (const b of r.Buckets ?? [])
      if (b.Name) out.push(await this.getBucket(b.Name, b.CreationDate?.toISOString()));
    return out;
  }

  async getBucket(name: string, created?: string): Promise<Bucket> {
    const usage = parseDu(await this.mc(mcAdmin.du(name)));
    const quota = parseQuotaInfo(await this.mc(mcAdmin.bucketQuotaInfo(name)));
    return { name, owner: this.o.cfg.adminUser, usage, quota, ...(created ? { created } : {}) };
  }

  async getVersioning(name: string): Promise<Versioning> {
    return readVersioning(await this.client(), name);
  }
  async getPolicy(name: string): Promise<PolicyDocument | undefined> {
    return readPolicy(await this.client(), name);
  }

  async listUsers(): Promise<User[]> {
    const users = parseUserList(await this.mc(mcAdmin.userList()));
    for (const u of users) u.keys = parseAccessKeys(await this.mc(mcAdmin.accessKeyList(u.id)), u.id);
    return users;
  }

  async userIds(): Promise<string[]> {
    return parseUserList(await this.mc(mcAdmin.userList())).map((u) => u.id);
  }

  async getUser(id: string): Promise<User> {
    const u = (await this.listUsers()).find((x) => x.id === id);
    if (!u) throw notFound(`user ${id} does not exist`, { user: id });
    return u;
  }

  async createBucket(name: string, _owner: string, opts: { objectLock?: boolean } = {}): Promise<Plan> {
    return {
      steps: [s3Steps.createBucket(name, opts.objectLock)],
      notes: ['MinIO buckets have no owner: give the user access with object.grant.set'],
    };
  }
  async deleteBucket(name: string, purge: boolean): Promise<Plan> {
    return { steps: [{ kind: 'argv', argv: mcAdmin.removeBucket(name, purge) }] };
  }
  async setVersioning(name: string, on: boolean): Promise<Plan> {
    return { steps: [s3Steps.versioning(name, on)] };
  }
  async setQuota(name: string, q: Quota): Promise<Plan> {
    if (q.enabled && q.maxObjects !== undefined)
      throw invalid('MinIO quotas limit size only, not the number of objects');
    const argv =
      q.enabled && q.maxSize !== undefined
        ? mcAdmin.bucketQuotaSet(name, q.maxSize)
        : mcAdmin.bucketQuotaClear(name);
    return { steps: [{ kind: 'argv', argv }] };
  }
  async putPolicy(name: string, doc: PolicyDocument | undefined): Promise<Plan> {
    return { steps: [s3Steps.policy(name, doc)] };
  }
  async listGrants(bucket: string): Promise<Grant[]> {
    const out: Grant[] = [];
    for (const [user, policies] of parseUserPolicies(await this.mc(mcAdmin.userList())))
      for (const p of policies) {
        const g = parseIamGrantName(p);
        if (g?.bucket === bucket) out.push({ bucket, user, access: g.access });
      }
    return out;
  }

  /** Detach the user's current grant on the bucket, then create (or update) and attach the new one. */
  async setGrant(bucket: string, user: string, access: Canned | undefined): Promise<Plan> {
    const current = (await this.listGrants(bucket)).filter((g) => g.user === user && g.access !== access);
    const plan: Plan = {
      steps: current.map((g) => ({
        kind: 'argv' as const,
        argv: mcAdmin.policyDetach(iamGrantName(bucket, g.access), user),
      })),
    };
    if (access) {
      const name = iamGrantName(bucket, access);
      const file = path.join(this.o.deps.layout.runDir, 'object', `${name}.json`);
      plan.files = [{ path: file, content: JSON.stringify(iamGrantPolicy(bucket, access)) }];
      plan.steps.push(
        { kind: 'argv', argv: mcAdmin.policyCreate(name, file) },
        { kind: 'argv', argv: mcAdmin.policyAttach(name, user) },
      );
    }
    return plan;
  }

  async createUser(u: { id: string }): Promise<Plan> {
    return { steps: [{ kind: 'argv', argv: mcAdmin.userAdd(u.id), secretOnStdin: true }] };
  }
  async setSuspended(id: string, suspended: boolean): Promise<Plan> {
    return { steps: [{ kind: 'argv', argv: suspended ? mcAdmin.userDisable(id) : mcAdmin.userEnable(id) }] };
  }
  async deleteUser(id: string, _purge: boolean): Promise<Plan> {
    return { steps: [{ kind: 'argv', argv: mcAdmin.userRemove(id) }] };
  }
  async createKey(user: string): Promise<Plan> {
    return { steps: [{ kind: 'argv', argv: mcAdmin.accessKeyCreate(user), newKeyAmong: [] }] };
  }
  async revokeKey(_user: string, accessKey: string): Promise<Plan> {
    return { steps: [{ kind: 'argv', argv: mcAdmin.accessKeyRm(accessKey) }] };
  }

  async run(plan: Plan): Promise<{ newKey?: NewKey }> {
    let newKey: NewKey | undefined;
    await writePlanFiles(plan);
    for (const step of plan.steps) {
      if (step.kind === 's3') {
        await runS3Step(await this.client(), step);
        continue;
      }
      if (step.secretOnStdin) {
        // user add ALIAS USER, secret on stdin: the user name is the access key
        const secretKey = randomBytes(30).toString('base64url');
        await this.mc(step.argv, `${secretKey}\n`);
        const user = step.argv.at(-1)!;
        newKey = { user, accessKey: user, secretKey };
        continue;
      }
      const out = await this.mc(step.argv);
      if (step.newKeyAmong) newKey = parseNewAccessKey(out, step.argv.at(-1)!);
    }
    return newKey ? { newKey } : {};
  }

  adminS3(): Promise<S3Client> {
    return this.client();
  }

  async clientFor(_user: string): Promise<S3Client> {
    // MinIO objects have no per-user owner: the root user writes them
    return this.client();
  }

  async gateway(): Promise<GatewayState> {
    return { managed: false, running: (await answers(this.endpoint)) === undefined };
  }
  async startGateway(): Promise<Plan> {
    throw unavailable(
      'MinIO runs from its own service unit with the rendered environment file (object.minio.env.apply)',
    );
  }
  async stopGateway(): Promise<Plan> {
    throw unavailable('MinIO runs from its own service unit; the agent does not stop it');
  }
  close(): void {
    this.root?.destroy();
  }
}
