/** The `remote` slice of calypso.yaml: where the receiving side keeps the keys it authorizes. */
import { Type } from '@sinclair/typebox';
import { defineConfigSlice } from '../config.js';

export const remoteConfig = defineConfigSlice(
  'remote',
  Type.Object(
    {
      authorizedKeys: Type.String({
        default: '/root/.ssh/authorized_keys',
        description:
          'the authorized_keys file sshd reads for the replication user; remote.authorize adds forced-command lines to it',
      }),
      commandTimeoutSec: Type.Integer({ minimum: 1, maximum: 3600, default: 60 }),
    },
    { additionalProperties: false, default: {} },
  ),
);
