/** The `iscsi` slice of calypso.yaml: which backend, and where tgtd listens for its control. */
import { type Static, Type } from '@sinclair/typebox';
import { defineConfigSlice } from '../config.js';
import { PortalSchema } from './model.js';

export const iscsiConfig = defineConfigSlice(
  'iscsi',
  Type.Object(
    {
      backend: Type.Union(
        [Type.Literal('auto'), Type.Literal('scst'), Type.Literal('lio'), Type.Literal('tgt')],
        {
          default: 'auto',
          description:
            'auto: SCST when its sysfs tree and scstadmin exist, else LIO when loaded, else tgt when tgtd answers, else LIO when its modules can be loaded',
        },
      ),
      tgtControlPort: Type.Integer({
        minimum: 0,
        maximum: 65535,
        default: 0,
        description: 'tgtd’s control port (tgtadm -C); 0 is tgtd’s default',
      }),
      defaultPortal: Type.Optional(PortalSchema),
      commandTimeoutSec: Type.Integer({ minimum: 1, maximum: 3600, default: 60 }),
    },
    { additionalProperties: false, default: {} },
  ),
);

export type IscsiConfig = Static<typeof iscsiConfig.schema>;
