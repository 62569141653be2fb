/** Named identifier schemas of the tape area (STYLE.md convention 2) and the result shapes. */
import { Type } from '@sinclair/typebox';

export const ChangerId = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$',
  description: 'changer id: its stable identity (wwn-…, scsi-<serial>) or the id given in tape.changers',
  examples: ['wwn-0x5000e11156240001'],
});

export const DriveId = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$',
  description: 'drive id: its stable identity or `<changer>:<index>`',
});

export const DevicePath = Type.String({
  pattern: '^/dev/[A-Za-z0-9._:@/+-]{1,240}$',
  description: 'device node under /dev (prefer /dev/tape/by-id/… paths: kernel names change across boots)',
});

export const Barcode = Type.String({
  pattern: '^[A-Za-z0-9._-]{1,32}$',
  description: 'cartridge barcode (volume tag, SMC-3 primary volume identifier, up to 32 characters)',
});

export const DriveIndex = Type.Integer({
  minimum: 0,
  maximum: 255,
  description: 'drive number (mtx: from 0)',
});
export const SlotIndex = Type.Integer({
  minimum: 1,
  maximum: 65535,
  description: 'slot number (mtx: from 1; mailslots after the storage slots)',
});

export const DriveElementSchema = Type.Object({
  index: DriveIndex,
  full: Type.Boolean(),
  volumeTag: Type.Optional(Type.String()),
  sourceSlot: Type.Optional(Type.Integer({ description: 'slot the cartridge was loaded from' })),
  mediaType: Type.Optional(Type.String()),
  cleaning: Type.Optional(Type.Boolean()),
});

export const SlotElementSchema = Type.Object({
  index: SlotIndex,
  full: Type.Boolean(),
  volumeTag: Type.Optional(Type.String()),
  importExport: Type.Boolean({ description: 'a mailslot (import/export element)' }),
  mediaType: Type.Optional(Type.String()),
  cleaning: Type.Optional(Type.Boolean()),
});

export const ChangerStatusSchema = Type.Object({
  changer: ChangerId,
  drives: Type.Array(DriveElementSchema),
  slots: Type.Array(SlotElementSchema),
  time: Type.String({ description: 'when the status was read (ISO 8601)' }),
});

const Element = Type.Object({
  drive: Type.Optional(DriveIndex),
  slot: Type.Optional(SlotIndex),
});

/** What a move did: the cartridge, where it came from and where it went (and why, if not where asked). */
export const MovedSchema = Type.Object(
  {
    volumeTag: Type.Optional(Type.String()),
    from: Element,
    to: Element,
    home: Type.Optional({ ...SlotIndex, description: 'unload: the slot the cartridge was loaded from' }),
    elsewhere: Type.Optional(
      Type.String({
        description: 'unload: set when the cartridge went to another slot than its home, with the reason',
      }),
    ),
  },
  { description: 'the cartridge moved' },
);

/** A move's answer: the changer status after it, and the move itself. */
export const MoveResultSchema = Type.Object({ ...ChangerStatusSchema.properties, moved: MovedSchema });

export const ChangerInfoSchema = Type.Object({
  id: ChangerId,
  device: Type.String(),
  source: Type.Union([Type.Literal('config'), Type.Literal('inventory')]),
  vendor: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  serial: Type.Optional(Type.String()),
  drives: Type.Array(
    Type.Object({ id: DriveId, index: DriveIndex, device: Type.String(), sg: Type.Optional(Type.String()) }),
  ),
  lock: Type.String({ description: 'the named lock its moves take' }),
  holder: Type.Optional(Type.String({ description: 'what holds the lock now' })),
});

export const Ok = Type.Object({});
