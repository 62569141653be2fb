/**
 * The `tape` slice of calypso.yaml. By default changers and drives come from the hardware
 * inventory (probes/tape.ts: stable by-id identities); `changers` replaces discovery where the
 * kernel cannot tell which drive is which element of the robot, or where the devices are not
 * in sysfs at all. `toolEnv` is extra environment for mtx, mt, tapeinfo and sg_* (a wrapper's
 * settings or a preload library); it never holds secrets (calypso.yaml is not secret).
 */
import { type Static, Type } from '@sinclair/typebox';
import { defineConfigSlice } from '../config.js';
import { ChangerId, DevicePath, DriveId } from './schemas.js';

const DriveConfig = Type.Object(
  {
    device: DevicePath,
    sg: Type.Optional(
      Type.Unsafe<string>({ ...DevicePath, description: 'generic SCSI node for tapeinfo/sg_*' }),
    ),
    id: Type.Optional(DriveId),
  },
  { additionalProperties: false },
);

const ChangerConfig = Type.Object(
  {
    id: ChangerId,
    device: DevicePath,
    drives: Type.Array(DriveConfig, {
      default: [],
      maxItems: 64,
      description: 'the changer’s drives in mtx order (Data Transfer Element 0, 1, …)',
    }),
  },
  { additionalProperties: false },
);

export const tapeConfig = defineConfigSlice(
  'tape',
  Type.Object(
    {
      toolEnv: Type.Record(
        Type.String({ pattern: '^[A-Z_][A-Z0-9_]{0,63}$' }),
        Type.String({ maxLength: 4096 }),
        {
          default: {},
          description: 'extra environment for mtx/mt/tapeinfo/sg_* (wrappers, preload libraries)',
        },
      ),
      changers: Type.Optional(
        Type.Array(ChangerConfig, {
          maxItems: 32,
          description: 'changers and their drives; replaces discovery from the hardware inventory',
        }),
      ),
      commandTimeoutSec: Type.Integer({
        minimum: 1,
        maximum: 86400,
        default: 900,
        description: 'deadline of one mtx/mt command (a robot move or an inventory can take minutes)',
      }),
      cleaningSeconds: Type.Integer({
        minimum: 0,
        maximum: 3600,
        default: 180,
        description: 'how long a cleaning cartridge stays in the drive before it is put back',
      }),
    },
    { additionalProperties: false },
  ),
);

export type TapeConfig = Static<typeof tapeConfig.schema>;
