/**
 * The object-storage backend interface (RGW, external RGW, MinIO) and the one way a mutation
 * is carried out: a plan of steps — argv lists for the admin tool and S3 calls as data — that a
 * dry run returns and a real run executes, step by step, in order. Backends build plans with
 * the pure builders of commands.ts and policy.ts; the service never sees a tool's text.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DryRunPlan } from '../../rpc/registry.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { Bucket, Canned, Grant, NewKey, Quota, User } from './model.js';
import type { PolicyDocument } from './policy.js';

/** The S3 calls the agent makes as the admin user; `input` is the SDK command's input. */
export type S3Op =
  | 'CreateBucket'
  | 'PutBucketVersioning'
  | 'PutBucketPolicy'
  | 'DeleteBucketPolicy'
  | 'AbortMultipartUpload'
  | 'PutObjectLockConfiguration'
  | 'PutBucketLifecycleConfiguration'
  | 'DeleteBucketLifecycle';

export type Step =
  | {
      kind: 'argv';
      argv: string[];
      /** environment for this command only (mc's alias credentials); never shown by a dry run */
      env?: Record<string, string>;
      /**
       * The command prints a new key among the user's existing ones (listed here): the run
       * returns it, once. A dry run shows the argv only.
       */
      newKeyAmong?: string[];
      /**
       * The run generates a secret and writes it to the command's stdin (MinIO's `user add`);
       * it is returned once as the new key and appears in no argv, plan or log.
       */
      secretOnStdin?: boolean;
    }
  | { kind: 's3'; op: S3Op; input: Record<string, unknown> };

export interface Plan {
  steps: Step[];
  /** Files a real run writes (0600) before its steps (a policy document mc reads); shown by a dry run. */
  files?: { path: string; content: string }[];
  notes?: string[];
  /** Directories a real run needs before its steps (the gateway's run and data directories). */
  directories?: string[];
}

/** A dry run's answer: argv lists in `commands`; S3 calls as `s3 <Op> <input JSON>` notes. */
export function toDryRun(plan: Plan): DryRunPlan {
  return {
    dryRun: true,
    commands: plan.steps.filter((s) => s.kind === 'argv').map((s) => (s as { argv: string[] }).argv),
    notes: [
      ...(plan.files ?? []).map((f) => `write ${f.path}: ${f.content}`),
      ...plan.steps.map((s, i) =>
        s.kind === 's3'
          ? `step ${i + 1}: s3 ${s.op} ${JSON.stringify(s.input)}`
          : `step ${i + 1}: ${s.argv[0]}`,
      ),
      ...(plan.notes ?? []),
    ],
  };
}

export async function writePlanFiles(plan: Plan): Promise<void> {
  for (const f of plan.files ?? []) {
    await mkdir(path.dirname(f.path), { recursive: true, mode: 0o750 });
    await writeFileAtomic(f.path, f.content, { mode: 0o600 });
  }
}

export interface Health {
  up: boolean;
  /** why not, when down */
  reason?: string;
  endpoint: string;
}

export interface GatewayState {
  /** the agent manages the process (local RGW); false for external gateways */
  managed: boolean;
  running: boolean;
  pid?: number;
}

export type Versioning = 'off' | 'enabled' | 'suspended';

export interface ObjectBackend {
  readonly kind: 'rgw' | 'external-rgw' | 'minio';
  /** The S3 endpoint clients use. */
  readonly endpoint: string;
  /** Is the admin tool installed and the gateway answering? */
  health(): Promise<Health>;

  listBuckets(): Promise<Bucket[]>;
  getBucket(name: string): Promise<Bucket>;
  getVersioning(name: string): Promise<Versioning>;
  getPolicy(name: string): Promise<PolicyDocument | undefined>;
  listUsers(): Promise<User[]>;
  /** User ids only (one admin call; a policy check needs no more). */
  userIds(): Promise<string[]>;
  getUser(id: string): Promise<User>;

  /** `objectLock`: created with Object Lock enabled (and so versioned): it cannot be added later. */
  createBucket(name: string, owner: string, opts?: { objectLock?: boolean }): Promise<Plan>;
  /** `purge`: remove every object and version too. */
  deleteBucket(name: string, purge: boolean): Promise<Plan>;
  setVersioning(name: string, on: boolean): Promise<Plan>;
  setQuota(name: string, quota: Quota): Promise<Plan>;
  putPolicy(name: string, doc: PolicyDocument | undefined): Promise<Plan>;
  /** Canned grants: RGW keeps them in the bucket policy, MinIO as IAM policies attached to users. */
  listGrants(bucket: string): Promise<Grant[]>;
  setGrant(bucket: string, user: string, access: Canned | undefined): Promise<Plan>;
  createUser(u: { id: string; displayName: string; email?: string }): Promise<Plan>;
  setSuspended(id: string, suspended: boolean): Promise<Plan>;
  deleteUser(id: string, purge: boolean): Promise<Plan>;
  createKey(user: string): Promise<Plan>;
  revokeKey(user: string, accessKey: string): Promise<Plan>;

  /**
   * Run a plan. Returns the new key when the plan created one (user or key creation): its
   * secret goes to the caller once and is kept nowhere.
   */
  run(plan: Plan, signal?: AbortSignal): Promise<{ newKey?: NewKey }>;

  /** The S3 client of the agent's own admin user (reads of lock and lifecycle settings). */
  adminS3(): Promise<S3Client>;
  /** An S3 client acting as `user` (migration writes objects as the bucket's owner). */
  clientFor(user: string): Promise<S3Client>;

  gateway(): Promise<GatewayState>;
  startGateway(): Promise<Plan>;
  stopGateway(): Promise<Plan>;
  /** Called on agent shutdown: release clients and timers (the gateway keeps running). */
  close(): void;
}
