/** Parameter schemas shared by several ZFS methods. */
import { Type } from '@sinclair/typebox';
import { DevicePath } from './names.js';

export const Empty = Type.Object({}, { additionalProperties: false });
export const Ok = Type.Object({}, { description: 'nothing to report' });

/** A device as zpool status prints it: a path, a short device name, or the guid of a missing one. */
export const VdevRef = Type.Union(
  [
    DevicePath,
    Type.String({ pattern: '^[0-9]{6,20}$', description: 'guid of a missing device' }),
    Type.String({
      pattern: '^[A-Za-z][A-Za-z0-9_.:+@=,-]*$',
      maxLength: 255,
      description: 'device name as zpool status prints it (sda, ata-…)',
    }),
  ],
  { description: 'a device of the pool: path, name or guid as `pool.get` shows it' },
);

const GroupType = Type.Union(
  [
    Type.Literal('stripe'),
    Type.Literal('mirror'),
    Type.Literal('raidz1'),
    Type.Literal('raidz2'),
    Type.Literal('raidz3'),
  ],
  { description: 'stripe (plain disks), mirror, raidz1, raidz2 or raidz3' },
);

export const VdevGroupSchema = Type.Object(
  {
    type: GroupType,
    disks: Type.Array(DevicePath, {
      minItems: 1,
      maxItems: 255,
      description: 'device paths from disk.list, or files',
    }),
  },
  { additionalProperties: false },
);

export const TopologySchema = Type.Object(
  {
    data: Type.Array(VdevGroupSchema, { minItems: 1, maxItems: 256, description: 'data vdevs' }),
    log: Type.Optional(
      Type.Array(VdevGroupSchema, { maxItems: 16, description: 'separate intent log (stripe or mirror)' }),
    ),
    special: Type.Optional(
      Type.Array(VdevGroupSchema, { maxItems: 16, description: 'special allocation class (OpenZFS)' }),
    ),
    dedup: Type.Optional(
      Type.Array(VdevGroupSchema, { maxItems: 16, description: 'dedup table class (OpenZFS)' }),
    ),
    cache: Type.Optional(
      Type.Array(DevicePath, { maxItems: 16, description: 'L2ARC devices (block devices only)' }),
    ),
    spares: Type.Optional(Type.Array(DevicePath, { maxItems: 32, description: 'hot spares' })),
  },
  { additionalProperties: false, description: 'the vdevs of a pool by class' },
);

/** Smallest member count per group type (zpool's own minimums). */
export const MIN_DISKS: Record<string, number> = { stripe: 1, mirror: 2, raidz1: 2, raidz2: 3, raidz3: 4 };

export const Confirm = Type.String({
  maxLength: 255,
  description: 'must repeat the name of what is destroyed',
});
