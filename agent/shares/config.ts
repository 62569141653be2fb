/**
 * The `shares` slice of calypso.yaml: where smbd listens, which account database users go to, and
 * where the NFS exports file is.
 */
import { type Static, Type } from '@sinclair/typebox';
import { defineConfigSlice } from '../config.js';

export const sharesConfig = defineConfigSlice(
  'shares',
  Type.Object(
    {
      smbPort: Type.Integer({ minimum: 1, maximum: 65535, default: 445, description: 'smbd’s TCP port' }),
      smbInterfaces: Type.Array(Type.String({ pattern: '^[A-Za-z0-9_.:/-]{1,64}$' }), {
        default: [],
        description: 'addresses or interfaces smbd binds to (empty: all)',
      }),
      workgroup: Type.String({ pattern: '^[A-Za-z0-9_-]{1,15}$', default: 'WORKGROUP' }),
      guestAccount: Type.String({ pattern: '^[a-z_][a-z0-9_-]{0,31}$', default: 'nobody' }),
      accounts: Type.Object(
        {
          backend: Type.Union([Type.Literal('system'), Type.Literal('nss-wrapper')], {
            default: 'system',
            description:
              'system: useradd/groupadd on the machine; nss-wrapper: passwd and group files (tests, cwrap)',
          }),
          passwd: Type.Optional(Type.String({ description: 'nss-wrapper: the passwd file' })),
          group: Type.Optional(Type.String({ description: 'nss-wrapper: the group file' })),
          uidMin: Type.Integer({ minimum: 1000, maximum: 4294967294, default: 20000 }),
          uidMax: Type.Integer({ minimum: 1000, maximum: 4294967294, default: 29999 }),
        },
        { additionalProperties: false, default: {} },
      ),
      pool: Type.Optional(
        Type.String({
          pattern: '^[A-Za-z][A-Za-z0-9_.:-]{0,63}$',
          description: 'the pool whose <pool>/calypso/shares/<name> datasets hold shares (none: directories)',
        }),
      ),
      exportsFile: Type.Optional(
        Type.String({
          pattern: '^/[A-Za-z0-9_.,+@=/-]*\\.exports$',
          description:
            'the NFS exports file the agent renders (default <prefix>/etc/exports.d/calypso.exports; exportfs reads /etc/exports.d/*.exports)',
        }),
      ),
      commandTimeoutSec: Type.Integer({ minimum: 1, maximum: 3600, default: 60 }),
    },
    { additionalProperties: false, default: {} },
  ),
);

export type SharesConfig = Static<typeof sharesConfig.schema>;
