/**
 * The object-storage service: buckets, users and keys, grants and policies, quotas and
 * versioning, the local gateway, and migration off another S3 server — on Ceph RGW (local or
 * an external cluster's gateway) or MinIO, chosen in calypso.yaml (`object.backend`).
 *
 * The method records live in methods-*.ts by topic around one context (context.ts); this file
 * declares the capability probes and, for MinIO, the managed-config target of its env file.
 */
import type { Service, ServiceFactory, Subsystem } from '../deps.js';
import { objectConfigSlice } from './config.js';
import { createObjectContext, type ObjectOptions } from './context.js';
import { accessMethods } from './methods-access.js';
import { bucketMethods, quotaAlerts } from './methods-bucket.js';
import { contentsMethods } from './methods-contents.js';
import { lockMethods } from './methods-lock.js';
import { migrateMethods } from './methods-migrate.js';
import { gatewayWanted, restoreGateway, serviceMethods } from './methods-service.js';
import { userMethods } from './methods-user.js';
import { objectMetrics } from './metrics.js';
import { registerMinioEnv } from './minio-env.js';

export function createObjectService(options: ObjectOptions = {}): ServiceFactory {
  return (deps): Service => {
    deps.capabilities.declare(
      {
        name: 'radosgw',
        bins: ['radosgw-admin', 'radosgw'],
        versionArgs: ['--version'],
        versionFrom: /ceph version (\S+)/,
      },
      { name: 'mc', bins: ['mc'], versionArgs: ['--version'], versionFrom: /mc version (\S+)/ },
      { name: 'minio', bins: ['minio'], versionArgs: ['--version'], versionFrom: /version (\S+)/ },
    );
    const o = createObjectContext(deps, options);
    deps.metrics.contribute(
      ...objectMetrics(async () => {
        await o.ready();
        const { buckets } = await o.buckets.list();
        await quotaAlerts(o, buckets);
        return buckets.map((b) => ({
          name: b.name,
          bytes: b.usage?.bytes ?? 0,
          objects: b.usage?.objects ?? 0,
          ...(b.quota?.enabled && b.quota.maxSize ? { quotaBytes: b.quota.maxSize } : {}),
        }));
      }),
    );
    let stopped = false;
    const minioEnv = o.cfg.backend === 'minio' ? registerMinioEnv(o) : undefined;
    if (o.cfg.backend !== 'external-rgw') {
      // the data layout's `<pool>/calypso/object` dataset (agent/zfs/layout-plan.ts) holds the
      // local gateway's data directory (MinIO's volume): while the gateway is in use (started
      // by the admin, or MinIO's environment applied), destroying it is refused
      const user = `object storage (${o.cfg.backend === 'minio' ? 'MinIO volume' : 'radosgw data directory'})`;
      const inUse = () =>
        o.cfg.backend === 'minio' ? minioEnv?.managed.head() !== undefined : gatewayWanted(o);
      deps.usage.register('dataset', (name, recursive) =>
        (name.endsWith('/calypso/object') ||
          (recursive && (name.endsWith('/calypso') || !name.includes('/')))) &&
        inUse()
          ? [user]
          : [],
      );
    }
    return {
      name: 'object',
      methods: [
        ...serviceMethods(o),
        ...bucketMethods(o),
        ...contentsMethods(o),
        ...userMethods(o),
        ...accessMethods(o),
        ...lockMethods(o),
        ...migrateMethods(o),
        ...(minioEnv ? minioEnv.methods : []),
      ],
      start() {
        // after detection (which shutdown cuts short): never touch LMDB once stop() has run
        void deps.capabilities
          .all()
          .then(() => (stopped ? undefined : restoreGateway(o)))
          .catch((err) => deps.log.error({ err, area: 'object' }, 'object: gateway restore failed'));
      },
      stop() {
        stopped = true;
        o.backend.close();
      },
    };
  };
}

export const objectService: ServiceFactory = createObjectService();

/** What the agent's subsystem list takes: the service and its calypso.yaml slice. */
export const objectSubsystem: Subsystem = {
  name: 'object',
  service: objectService,
  config: objectConfigSlice,
  alertSources: ['object'],
};
