/** The iSCSI methods' shared parameter and result schemas. */
import { type Static, Type } from '@sinclair/typebox';
import { format } from '../formats.js';
import { CHAP_MAX, CHAP_MIN, TargetSchema, TOKEN } from './model.js';
import { IqnSchema } from './names.js';

/** A CHAP secret never starts with `-`: a tool would read it as an option (issue #28 item 19). */
export const SECRET_PATTERN = `^[A-Za-z0-9_.~+=!][A-Za-z0-9_.~+=!-]{${CHAP_MIN - 1},${CHAP_MAX - 1}}$`;
export const Secret = format({
  pattern: SECRET_PATTERN,
  minLength: CHAP_MIN,
  maxLength: CHAP_MAX,
  description: `CHAP secret, ${CHAP_MIN}–${CHAP_MAX} characters (letters, digits, _ . ~ + = ! -; not starting with -); stored in secrets.env only`,
  errorMessage: `a CHAP secret has ${CHAP_MIN}–${CHAP_MAX} characters: letters, digits and _ . ~ + = ! -`,
  rules: [
    { pattern: '^[^-]', message: 'a CHAP secret may not start with - (tgtadm would read it as an option)' },
    { minLength: CHAP_MIN, message: `a CHAP secret has at least ${CHAP_MIN} characters` },
    { maxLength: CHAP_MAX, message: `a CHAP secret has at most ${CHAP_MAX} characters` },
  ],
});

export const ChapInput = Type.Object(
  {
    user: Type.String({ pattern: TOKEN, description: 'CHAP user the initiator logs in as' }),
    secret: Secret,
    mutualUser: Type.Optional(
      Type.String({ pattern: TOKEN, description: 'mutual CHAP: the user the target answers as' }),
    ),
    mutualSecret: Type.Optional(Secret),
  },
  { additionalProperties: false },
);
export type ChapInputT = Static<typeof ChapInput>;

export const ApplyResult = Type.Object({
  changed: Type.Array(Type.String(), { description: 'files written' }),
  version: Type.Optional(Type.Integer()),
  commands: Type.Array(Type.Array(Type.String()), { description: 'argv run, in order' }),
  notes: Type.Array(Type.String()),
});
export type ApplyResultT = Static<typeof ApplyResult>;

export const TargetView = Type.Object(
  {
    ...TargetSchema.properties,
    chapSecretSet: Type.Boolean(),
    sessions: Type.Integer({ description: 'connected initiators (0 when the backend is down)' }),
  },
  { additionalProperties: false },
);

export const SessionSchema = Type.Object({
  target: Type.String(),
  initiator: Type.String(),
  address: Type.Optional(Type.String()),
  luns: Type.Optional(Type.Array(Type.Integer())),
});

export const DriftItemSchema = Type.Object({
  target: Type.String(),
  kind: Type.Union([Type.Literal('missing'), Type.Literal('extra'), Type.Literal('different')]),
  what: Type.String(),
  desired: Type.Optional(Type.String()),
  running: Type.Optional(Type.String()),
});

export const IqnRef = Type.Object({ iqn: IqnSchema }, { additionalProperties: false });

export const ZvolCreate = Type.Object(
  {
    sizeBytes: Type.Integer({ minimum: 1048576, maximum: 2 ** 56 }),
    thin: Type.Boolean({ default: true, description: 'sparse (no reservation)' }),
    volblocksize: Type.Optional(
      Type.Union(['4K', '8K', '16K', '32K', '64K', '128K'].map((v) => Type.Literal(v))),
    ),
  },
  { additionalProperties: false },
);
