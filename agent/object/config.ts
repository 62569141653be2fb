/**
 * The `object` slice of calypso.yaml: which backend serves S3 and where. Admin credentials are
 * never here: they live in etc/calypso/secrets.env (`secrets.ts`).
 */
import { type Static, Type } from '@sinclair/typebox';
import { defineConfigSlice } from '../config.js';

/** secrets.env keys of the gateway's admin credentials */
export const ADMIN_ACCESS_KEY = 'OBJECT_ADMIN_ACCESS_KEY';
export const ADMIN_SECRET_KEY = 'OBJECT_ADMIN_SECRET_KEY';

const Address = Type.String({
  // an IPv4 or bracket-less IPv6 literal: it goes into rgw_frontends / MINIO_ADDRESS as is
  pattern: '^([0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9a-fA-F:]+)$',
  default: '127.0.0.1',
  description: 'bind address of the local gateway (an IP literal)',
});

/** An absolute path (it goes to radosgw-admin/radosgw as an argv value); no default: optional. */
const ConfPath = (def: string | undefined, description: string) =>
  Type.String({
    pattern: '^/[^\\x00-\\x1f\\x7f]*$',
    ...(def === undefined ? {} : { default: def }),
    description,
  });

export const objectConfigSlice = defineConfigSlice(
  'object',
  Type.Object(
    {
      backend: Type.Union([Type.Literal('rgw'), Type.Literal('minio'), Type.Literal('external-rgw')], {
        default: 'rgw',
        description:
          'rgw: a local Ceph RADOS Gateway the agent starts; external-rgw: the gateway of an external Ceph cluster; minio: a local MinIO where installed',
      }),
      address: Address,
      port: Type.Integer({ minimum: 1, maximum: 65535, default: 7480, description: 'local gateway port' }),
      tls: Type.Union([Type.Literal('auto'), Type.Literal('on'), Type.Literal('off')], {
        default: 'auto',
        description: 'auto: TLS from etc/calypso/tls (cert.pem, key.pem) when both exist',
      }),
      external: Type.String({
        pattern: '^https?://[A-Za-z0-9.:\\[\\]-]+(:[0-9]+)?/?$',
        default: 'http://127.0.0.1:7480',
        description: 'S3 endpoint of an external gateway (external-rgw)',
      }),
      ceph: Type.Object(
        {
          conf: ConfPath('/etc/ceph/ceph.conf', 'ceph.conf of the cluster radosgw-admin and radosgw use'),
          adminName: Type.String({
            pattern: '^client\\.[A-Za-z0-9_.-]+$',
            default: 'client.admin',
            description: 'cephx name radosgw-admin runs as',
          }),
          adminKeyring: Type.Optional(ConfPath(undefined, 'keyring of adminName; default: from ceph.conf')),
          gatewayName: Type.String({
            pattern: '^client\\.[A-Za-z0-9_.-]+$',
            default: 'client.rgw.calypso',
            description: 'cephx name of the local radosgw',
          }),
          gatewayKeyring: Type.Optional(
            ConfPath(undefined, 'keyring of gatewayName; default: from ceph.conf'),
          ),
        },
        { additionalProperties: false, default: {} },
      ),
      adminUser: Type.String({
        pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$',
        default: 'calypso-admin',
        description: 'the gateway user (RGW system user, MinIO root) the agent acts as',
      }),
    },
    { additionalProperties: false, default: {} },
  ),
);
export type ObjectConfig = Static<typeof objectConfigSlice.schema>;
