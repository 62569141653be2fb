/**
 * What the object method modules share: the configured backend, the admin credentials in
 * secrets.env, the gate that answers `unavailable` while the backend is missing or down, and
 * the one place a plan is either returned (dry run) or run.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { unavailable } from '../../rpc/errors.js';
import type { DryRunPlan } from '../../rpc/registry.js';
import { configOf } from '../config.js';
import type { AgentDeps } from '../deps.js';
import type { Runner } from '../runner.js';
import { type ObjectBackend, type Plan, toDryRun } from './backend.js';
import { MinioBackend } from './backend-minio.js';
import { type AdminSecrets, RgwBackend } from './backend-rgw.js';
import { BucketCache } from './bucket-cache.js';
import type { GatewayStart } from './commands.js';
import { ADMIN_ACCESS_KEY, ADMIN_SECRET_KEY, type ObjectConfig, objectConfigSlice } from './config.js';
import type { NewKey } from './model.js';

export { ADMIN_ACCESS_KEY, ADMIN_SECRET_KEY };

export interface ObjectOptions {
  /** Replace the calypso.yaml slice (tests that build agents without the slice registered). */
  config?: Partial<ObjectConfig>;
  runner?: Runner;
  /** Build the backend yourself (tests of the service above a fake backend). */
  backend?: (ctx: ObjectContext) => ObjectBackend;
}

export interface ObjectContext {
  deps: AgentDeps;
  cfg: ObjectConfig;
  runner: Runner;
  backend: ObjectBackend;
  /** The backend, once its tool is installed and its gateway answers; `unavailable` otherwise. */
  ready(): Promise<ObjectBackend>;
  /** A dry run's plan, or the run's outcome. */
  apply(plan: Plan, dryRun: boolean, signal?: AbortSignal): Promise<DryRunPlan | { newKey?: NewKey }>;
  adminSecrets: AdminSecrets;
  /** the bucket listing with usage, sampled (bucket-cache.ts); dropped by every apply */
  buckets: BucketCache;
}

export function objectConfig(deps: AgentDeps, override?: Partial<ObjectConfig>): ObjectConfig {
  const base = configOf(deps.config, objectConfigSlice);
  return { ...base, ...override, ceph: { ...base.ceph, ...override?.ceph } } as ObjectConfig;
}

/** TLS from etc/calypso/tls when configured (or, with `auto`, when both files exist). */
export function gatewayTls(deps: AgentDeps, cfg: ObjectConfig): { cert: string; key: string } | undefined {
  const cert = path.join(deps.layout.tlsDir, 'cert.pem');
  const key = path.join(deps.layout.tlsDir, 'key.pem');
  if (cfg.tls === 'off') return undefined;
  if (cfg.tls === 'on' || (existsSync(cert) && existsSync(key))) return { cert, key };
  return undefined;
}

export function localGateway(deps: AgentDeps, cfg: ObjectConfig): GatewayStart {
  const run = path.join(deps.layout.runDir, 'object');
  return {
    conn: { conf: cfg.ceph.conf, name: cfg.ceph.gatewayName, keyring: cfg.ceph.gatewayKeyring },
    address: cfg.address,
    port: cfg.port,
    data: deps.layout.data.object,
    pidFile: path.join(run, 'radosgw.pid'),
    adminSocket: path.join(run, 'radosgw.asok'),
    logFile: path.join(deps.layout.logDir, 'radosgw.log'),
    tls: gatewayTls(deps, cfg),
  };
}

/** The S3 endpoint the agent itself calls (a wildcard bind address is reached on loopback). */
export function localEndpoint(cfg: ObjectConfig, tls: boolean): string {
  const a = cfg.address === '0.0.0.0' ? '127.0.0.1' : cfg.address === '::' ? '::1' : cfg.address;
  return `${tls ? 'https' : 'http'}://${a.includes(':') ? `[${a}]` : a}:${cfg.port}`;
}

export function createObjectContext(deps: AgentDeps, options: ObjectOptions = {}): ObjectContext {
  const cfg = objectConfig(deps, options.config);
  const runner = options.runner ?? deps.runner;
  const adminSecrets: AdminSecrets = {
    get() {
      const accessKey = deps.secrets.get(ADMIN_ACCESS_KEY);
      const secretKey = deps.secrets.get(ADMIN_SECRET_KEY);
      return accessKey && secretKey ? { accessKey, secretKey } : undefined;
    },
    async set(c) {
      await deps.secrets.update([
        { key: ADMIN_ACCESS_KEY, value: c.accessKey },
        { key: ADMIN_SECRET_KEY, value: c.secretKey },
      ]);
    },
  };
  const ctx = { deps, cfg, runner, adminSecrets } as ObjectContext;
  ctx.backend = options.backend ? options.backend(ctx) : defaultBackend(ctx);
  ctx.ready = async () => {
    const h = await ctx.backend.health();
    if (!h.up) throw unavailable(h.reason ?? 'the object gateway is down', { backend: ctx.backend.kind });
    return ctx.backend;
  };
  ctx.buckets = new BucketCache(() => ctx.backend.listBuckets(), { now: deps.clock.now });
  ctx.apply = async (plan, dryRun, signal) => {
    if (dryRun) return toDryRun(plan);
    try {
      return await ctx.backend.run(plan, signal);
    } finally {
      ctx.buckets.invalidate();
    }
  };
  return ctx;
}

function defaultBackend(ctx: ObjectContext): ObjectBackend {
  const { deps, cfg, runner } = ctx;
  const conn = { conf: cfg.ceph.conf, name: cfg.ceph.adminName, keyring: cfg.ceph.adminKeyring };
  if (cfg.backend === 'minio')
    return new MinioBackend({ deps, cfg, runner, endpoint: localEndpoint(cfg, !!gatewayTls(deps, cfg)) });
  if (cfg.backend === 'external-rgw')
    return new RgwBackend({
      kind: 'external-rgw',
      runner,
      conn,
      endpoint: cfg.external.replace(/\/$/, ''),
      adminUser: cfg.adminUser,
      secrets: ctx.adminSecrets,
    });
  const gateway = localGateway(deps, cfg);
  return new RgwBackend({
    kind: 'rgw',
    runner,
    conn,
    gateway,
    endpoint: localEndpoint(cfg, !!gateway.tls),
    adminUser: cfg.adminUser,
    secrets: ctx.adminSecrets,
    ca: gateway.tls && existsSync(gateway.tls.cert) ? readFileSync(gateway.tls.cert, 'utf8') : undefined,
  });
}
