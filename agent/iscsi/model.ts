/**
 * iSCSI desired state: one model for both backends (SCST and tgt). Stored in LMDB by the
 * managed-config pipeline (target `iscsi`); CHAP secrets are never part of it — they live in
 * secrets.env under `chapSecretKey(tid, …)` and are read only when a backend file or argv is
 * rendered for real.
 *
 * Every string that can reach a rendered file or an argv is a validated token: IQNs
 * (names.ts), dataset names (ZFS rules), file names, CHAP users ([A-Za-z0-9._-]), serials and
 * NAA ids (hex / alphanumeric). Nothing here admits a space, quote, brace, `#` or newline.
 */
import { createHash } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import { IqnSchema } from './names.js';

export const TOKEN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$';

export const PortalSchema = Type.Object(
  {
    address: Type.String({
      maxLength: 45,
      pattern: '^([0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9a-fA-F:]{2,45})$',
      description: 'a local IPv4 or IPv6 address of this machine (0.0.0.0 or :: for every one)',
    }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 3260 }),
  },
  { additionalProperties: false },
);
export type Portal = Static<typeof PortalSchema>;

export const ZvolBackingSchema = Type.Object(
  {
    kind: Type.Literal('zvol'),
    dataset: Type.String({
      maxLength: 200,
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*(/[A-Za-z0-9][A-Za-z0-9_.:-]*)+$',
      description: 'the zvol: pool/path (exposed as /dev/zvol/<dataset>)',
    }),
  },
  { additionalProperties: false },
);

export const FileBackingSchema = Type.Object(
  {
    kind: Type.Literal('file'),
    name: Type.String({
      pattern: TOKEN,
      description: 'file name under the appliance’s iSCSI data area (srv/calypso/iscsi)',
    }),
    sizeBytes: Type.Integer({
      minimum: 1048576,
      maximum: 2 ** 50,
      description: 'created sparse when missing',
    }),
  },
  { additionalProperties: false },
);

export const BackingSchema = Type.Union([ZvolBackingSchema, FileBackingSchema]);
export type Backing = Static<typeof BackingSchema>;

export const LunSchema = Type.Object(
  {
    lun: Type.Integer({ minimum: 0, maximum: 255 }),
    backing: BackingSchema,
    blockSize: Type.Union([Type.Literal(512), Type.Literal(4096)], { default: 512 }),
    readonly: Type.Boolean({ default: false }),
    cache: Type.Union([Type.Literal('write-back'), Type.Literal('write-through')], {
      default: 'write-through',
    }),
    serial: Type.String({
      pattern: '^[A-Za-z0-9]{1,16}$',
      description: 'SCSI unit serial; assigned once by the agent and kept across re-renders',
    }),
    naa: Type.String({
      pattern: '^6[0-9a-f]{31}$',
      description: 'NAA IEEE Registered Extended identifier (32 hex digits); assigned once',
    }),
  },
  { additionalProperties: false },
);
export type Lun = Static<typeof LunSchema>;

export const GroupSchema = Type.Object(
  {
    name: Type.String({ pattern: TOKEN }),
    initiators: Type.Array(IqnSchema, { maxItems: 256 }),
    /** SCST INI_GROUP: the group's own LUN numbers → the target's LUN */
    luns: Type.Array(
      Type.Object(
        {
          lun: Type.Integer({ minimum: 0, maximum: 255, description: 'LUN number the group sees' }),
          target: Type.Integer({ minimum: 0, maximum: 255, description: 'the target’s LUN it maps' }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 256 },
    ),
  },
  { additionalProperties: false },
);
export type Group = Static<typeof GroupSchema>;

export const ChapSchema = Type.Object(
  {
    user: Type.String({ pattern: TOKEN }),
    /** mutual CHAP: the target's own name towards the initiator */
    mutualUser: Type.Optional(Type.String({ pattern: TOKEN })),
  },
  { additionalProperties: false },
);
export type Chap = Static<typeof ChapSchema>;

export const TargetSchema = Type.Object(
  {
    tid: Type.Integer({ minimum: 1, maximum: 65535, description: 'stable target number' }),
    iqn: IqnSchema,
    alias: Type.Optional(Type.String({ pattern: TOKEN })),
    portals: Type.Array(PortalSchema, { maxItems: 16 }),
    luns: Type.Array(LunSchema, { maxItems: 256 }),
    /** no group: every initiator that can log in sees every LUN */
    groups: Type.Array(GroupSchema, { maxItems: 64 }),
    chap: Type.Optional(ChapSchema),
    enabled: Type.Boolean({ default: true }),
  },
  { additionalProperties: false },
);
export type Target = Static<typeof TargetSchema>;

export const IscsiStateSchema = Type.Object(
  { targets: Type.Array(TargetSchema, { maxItems: 4096 }) },
  { additionalProperties: false },
);
export type IscsiState = Static<typeof IscsiStateSchema>;

export const EMPTY_ISCSI: IscsiState = { targets: [] };

export const CHAP_MIN = 12;
export const CHAP_MAX = 16;

/** secrets.env keys (hex of the tid keeps them valid env names) */
export function chapSecretKey(tid: number, mutual = false): string {
  return `ISCSI_T${tid}_CHAP${mutual ? '_MUTUAL' : ''}_SECRET`;
}

/** The SCST device name / tgt backing identity of a target's LUN. */
export function deviceName(tid: number, lun: number): string {
  return `t${tid}l${lun}`;
}

/**
 * A stable serial and NAA id for a new LUN, derived from the target's IQN, the LUN number and
 * a creation nonce (so that recreating a LUN gives a new identity, as a new disk would).
 */
export function newIdentity(iqn: string, lun: number, nonce: string): { serial: string; naa: string } {
  const h = createHash('sha256').update(`${iqn}\0${lun}\0${nonce}`).digest('hex');
  return { serial: h.slice(0, 16), naa: `6${'001405'}${h.slice(16, 41)}` };
}

/** Consistency checks a schema cannot say; each problem one sentence. */
export function checkIscsi(s: IscsiState): string[] {
  const p: string[] = [];
  const tids = new Set<number>();
  const iqns = new Set<string>();
  const zvols = new Map<string, string>();
  const files = new Map<string, string>();
  for (const t of s.targets) {
    if (tids.has(t.tid)) p.push(`target number ${t.tid} is used twice`);
    tids.add(t.tid);
    if (iqns.has(t.iqn)) p.push(`target ${t.iqn} is defined twice`);
    iqns.add(t.iqn);
    const luns = new Set<number>();
    for (const l of t.luns) {
      if (luns.has(l.lun)) p.push(`${t.iqn}: LUN ${l.lun} is used twice`);
      luns.add(l.lun);
      const where = `${t.iqn} LUN ${l.lun}`;
      if (l.backing.kind === 'zvol') {
        const other = zvols.get(l.backing.dataset);
        if (other) p.push(`zvol ${l.backing.dataset} backs both ${other} and ${where}`);
        zvols.set(l.backing.dataset, where);
      } else {
        const other = files.get(l.backing.name);
        if (other) p.push(`file ${l.backing.name} backs both ${other} and ${where}`);
        files.set(l.backing.name, where);
      }
    }
    const ports = new Set<string>();
    for (const po of t.portals) {
      const k = `${po.address}:${po.port}`;
      if (ports.has(k)) p.push(`${t.iqn}: portal ${k} is listed twice`);
      ports.add(k);
    }
    const groups = new Set<string>();
    const inits = new Map<string, string>();
    for (const g of t.groups) {
      if (groups.has(g.name)) p.push(`${t.iqn}: group ${g.name} is defined twice`);
      groups.add(g.name);
      for (const i of g.initiators) {
        const other = inits.get(i);
        if (other) p.push(`${t.iqn}: initiator ${i} is in both ${other} and ${g.name}`);
        inits.set(i, g.name);
      }
      const seen = new Set<number>();
      for (const m of g.luns) {
        if (seen.has(m.lun)) p.push(`${t.iqn}: group ${g.name} uses LUN ${m.lun} twice`);
        seen.add(m.lun);
        if (!luns.has(m.target))
          p.push(`${t.iqn}: group ${g.name} maps LUN ${m.target}, which does not exist`);
      }
    }
    if (t.chap?.mutualUser && t.chap.mutualUser === t.chap.user)
      p.push(`${t.iqn}: the mutual CHAP user must differ from the incoming one`);
  }
  return p;
}
