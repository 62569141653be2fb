/**
 * argv builders (pure) for radosgw-admin, radosgw and mc. Drivers run exactly these lists and a
 * dry run returns them. Client values are schema-checked (model.ts: none can start with '-') and
 * always given as the value of an option (`--uid X`): radosgw-admin takes its objects only as
 * option values, so there is no positional argument a `--` could protect.
 */
export type Argv = string[];

/** How radosgw-admin and radosgw reach the cluster (`-c` always: never an implicit /etc/ceph). */
export interface CephConn {
  conf: string;
  name: string;
  keyring?: string;
}

function rgwAdmin(c: CephConn, ...args: string[]): Argv {
  return [
    'radosgw-admin',
    '-c',
    c.conf,
    '-n',
    c.name,
    ...(c.keyring ? ['--keyring', c.keyring] : []),
    ...args,
    '--format',
    'json',
  ];
}

export const rgw = {
  userList: (c: CephConn) => rgwAdmin(c, 'user', 'list'),
  userInfo: (c: CephConn, uid: string) => rgwAdmin(c, 'user', 'info', '--uid', uid),
  /** A new user gets one generated S3 key (returned once by the method). */
  userCreate: (
    c: CephConn,
    u: { uid: string; displayName: string; email?: string; maxBuckets?: number; system?: boolean },
  ) =>
    rgwAdmin(
      c,
      'user',
      'create',
      '--uid',
      u.uid,
      '--display-name',
      u.displayName,
      ...(u.email ? ['--email', u.email] : []),
      ...(u.maxBuckets !== undefined ? ['--max-buckets', String(u.maxBuckets)] : []),
      // the agent's own user: --system lets it act on every bucket (versioning, policies)
      ...(u.system ? ['--system', '--admin'] : []),
    ),
  userSuspend: (c: CephConn, uid: string) => rgwAdmin(c, 'user', 'suspend', '--uid', uid),
  userEnable: (c: CephConn, uid: string) => rgwAdmin(c, 'user', 'enable', '--uid', uid),
  userRm: (c: CephConn, uid: string, purge: boolean) =>
    rgwAdmin(c, 'user', 'rm', '--uid', uid, ...(purge ? ['--purge-data'] : [])),
  keyCreate: (c: CephConn, uid: string) =>
    rgwAdmin(c, 'key', 'create', '--uid', uid, '--key-type', 's3', '--gen-access-key', '--gen-secret'),
  keyRm: (c: CephConn, uid: string, accessKey: string) =>
    rgwAdmin(c, 'key', 'rm', '--uid', uid, '--key-type', 's3', '--access-key', accessKey),
  bucketStats: (c: CephConn, bucket?: string) =>
    rgwAdmin(c, 'bucket', 'stats', ...(bucket ? ['--bucket', bucket] : [])),
  bucketLink: (c: CephConn, bucket: string, uid: string) =>
    rgwAdmin(c, 'bucket', 'link', '--bucket', bucket, '--uid', uid),
  /** `--purge-objects` removes every object and version; without it a non-empty bucket stays. */
  bucketRm: (c: CephConn, bucket: string, purge: boolean) =>
    rgwAdmin(c, 'bucket', 'rm', '--bucket', bucket, ...(purge ? ['--purge-objects'] : [])),
  /** RGW counts size in whole KiB and each object rounded up to 4 KiB when it checks. */
  quotaSet: (c: CephConn, bucket: string, maxSize: number | undefined, maxObjects: number | undefined) =>
    rgwAdmin(
      c,
      'quota',
      'set',
      '--quota-scope',
      'bucket',
      '--bucket',
      bucket,
      '--max-size',
      String(maxSize ?? -1),
      '--max-objects',
      String(maxObjects ?? -1),
    ),
  quotaEnable: (c: CephConn, bucket: string, on: boolean) =>
    rgwAdmin(c, 'quota', on ? 'enable' : 'disable', '--quota-scope', 'bucket', '--bucket', bucket),
};

export interface GatewayStart {
  conn: CephConn;
  address: string;
  port: number;
  /** data directory (srv/calypso/object) */
  data: string;
  pidFile: string;
  adminSocket: string;
  logFile: string;
  tls?: { cert: string; key: string };
}

/** `rgw_frontends` for beast: plain or TLS, never both on one port. */
export function rgwFrontends(g: GatewayStart): string {
  const host = g.address.includes(':') ? `[${g.address}]` : g.address;
  return g.tls
    ? `beast ssl_endpoint=${host}:${g.port} ssl_certificate=${g.tls.cert} ssl_private_key=${g.tls.key}`
    : `beast endpoint=${host}:${g.port}`;
}

/** radosgw daemonizes (it forks and the parent exits once the child runs); the pid file finds it. */
export function radosgwStart(g: GatewayStart): Argv {
  return [
    'radosgw',
    '-c',
    g.conn.conf,
    '-n',
    g.conn.name,
    ...(g.conn.keyring ? ['--keyring', g.conn.keyring] : []),
    '--rgw_frontends',
    rgwFrontends(g),
    '--rgw_data',
    g.data,
    '--pid_file',
    g.pidFile,
    '--admin_socket',
    g.adminSocket,
    '--log_file',
    g.logFile,
  ];
}

/**
 * mc with the alias `calypso`, whose URL and credentials come in the environment
 * (`MC_HOST_calypso`), never in argv where any local user could read them in /proc.
 */
export const MC_ALIAS = 'calypso';
const mc = (...args: string[]): Argv => ['mc', '--json', '--no-color', ...args];

export const mcAdmin = {
  userList: () => mc('admin', 'user', 'list', MC_ALIAS),
  /**
   * `mc admin user add ALIAS USER` reads the secret from stdin when it is not on the command
   * line (mc's fetchUserKeys): the generated secret never appears in argv.
   */
  userAdd: (user: string) => mc('admin', 'user', 'add', MC_ALIAS, user),
  userDisable: (user: string) => mc('admin', 'user', 'disable', MC_ALIAS, user),
  userEnable: (user: string) => mc('admin', 'user', 'enable', MC_ALIAS, user),
  userRemove: (user: string) => mc('admin', 'user', 'remove', MC_ALIAS, user),
  accessKeyCreate: (user: string) => mc('admin', 'accesskey', 'create', `${MC_ALIAS}/`, user),
  accessKeyList: (user: string) => mc('admin', 'accesskey', 'ls', `${MC_ALIAS}/`, user),
  accessKeyRm: (accessKey: string) => mc('admin', 'accesskey', 'rm', `${MC_ALIAS}/`, accessKey),
  removeBucket: (bucket: string, purge: boolean) =>
    mc('rb', ...(purge ? ['--force'] : []), `${MC_ALIAS}/${bucket}`),
  bucketQuotaSet: (bucket: string, size: number) =>
    mc('quota', 'set', `${MC_ALIAS}/${bucket}`, '--size', String(size)),
  bucketQuotaClear: (bucket: string) => mc('quota', 'clear', `${MC_ALIAS}/${bucket}`),
  bucketQuotaInfo: (bucket: string) => mc('quota', 'info', `${MC_ALIAS}/${bucket}`),
  policyCreate: (name: string, file: string) => mc('admin', 'policy', 'create', MC_ALIAS, name, file),
  policyAttach: (name: string, user: string) =>
    mc('admin', 'policy', 'attach', MC_ALIAS, name, '--user', user),
  policyDetach: (name: string, user: string) =>
    mc('admin', 'policy', 'detach', MC_ALIAS, name, '--user', user),
  /** Per-bucket usage (`mc admin info` has only totals). */
  du: (bucket: string) => mc('du', '--depth', '1', `${MC_ALIAS}/${bucket}`),
};
