/**
 * Named formats (agent/formats.ts): a refused name is explained in plain words, and splitting a
 * pattern into rules changed nothing about which values pass. The "before" schemas below are the
 * patterns and lengths as they stood before the formats (git show e349387:agent/zfs/names.ts and
 * agent/backup/model.ts), copied literally so that a change to a pattern is caught here too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type TSchema, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import fc from 'fast-check';
import { BaculaName, Password, SettingsSchema } from '../../agent/backup/model.js';
import { explain, formatPattern, typeOfSchema } from '../../agent/formats.js';
import {
  AbsolutePath,
  DatasetName,
  DevicePath,
  HoldTag,
  PoolName,
  SnapshotName,
  SnapshotShortName,
} from '../../agent/zfs/names.js';

const COMPONENT = '[A-Za-z0-9_][A-Za-z0-9_.:-]*';
const POOL =
  '(?!(?:mirror|raidz|draid|spare)|(?:log|cache|special|dedup|none|default)(?![A-Za-z0-9_.:-])|c[0-9])[A-Za-z][A-Za-z0-9_.:-]*';
const DATASET = `${POOL}(?:/${COMPONENT})*`;

const before: Record<string, TSchema> = {
  PoolName: Type.String({ pattern: `^${POOL}$`, minLength: 1, maxLength: 64 }),
  DatasetName: Type.String({ pattern: `^${DATASET}$`, minLength: 1, maxLength: 255 }),
  SnapshotName: Type.String({ pattern: `^${DATASET}@${COMPONENT}$`, minLength: 3, maxLength: 255 }),
  SnapshotShortName: Type.String({ pattern: `^${COMPONENT}$`, minLength: 1, maxLength: 200 }),
  HoldTag: Type.String({ pattern: `^${COMPONENT}$`, minLength: 1, maxLength: 64 }),
  DevicePath: Type.String({
    pattern: '^/(?!.*(?:^|/)\\.\\.?(?:/|$))[A-Za-z0-9_.:+@=,/-]+$',
    minLength: 2,
    maxLength: 1024,
  }),
  AbsolutePath: Type.String({
    pattern: '^/(?!.*(?:^|/)\\.\\.?(?:/|$))[A-Za-z0-9_.:+@=,/-]*$',
    minLength: 1,
    maxLength: 1024,
  }),
  BaculaName: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }),
  Password: Type.String({ pattern: '^[A-Za-z0-9!#$%&()*+,./:;<=>?@\\[\\]^_`{|}~-]{12,128}$' }),
};
const after: Record<string, TSchema> = {
  PoolName,
  DatasetName,
  SnapshotName,
  SnapshotShortName,
  HoldTag,
  DevicePath,
  AbsolutePath,
  BaculaName,
  Password,
};

/**
 * The one intended change: the path patterns' "no . or .. part" lookahead used to start after the
 * leading /, so a dot part right after the root passed (`/../etc/passwd`, `/.`). Now refused.
 */
const PATHS = new Set(['DevicePath', 'AbsolutePath']);
const FIRST_PART_DOT = /^\/\.\.?(?:\/|$)/;

/** Pieces that meet the rules' edges: keywords, separators, dots, dashes, spaces, controls. */
const TOKENS = [
  'tank',
  'a',
  'Z',
  '0',
  '9',
  '_',
  '.',
  '..',
  ':',
  '-',
  '/',
  '@',
  '#',
  ' ',
  '\t',
  '\n',
  'mirror',
  'raidz',
  'draid',
  'spare',
  'log',
  'cache',
  'special',
  'dedup',
  'none',
  'default',
  'c',
  'c1',
  'dev',
  '+',
  '=',
  ',',
  '"',
  "'",
  '\\',
  '!',
  '$',
  'é',
  'x'.repeat(20),
];
const names = fc.array(fc.constantFrom(...TOKENS), { maxLength: 16 }).map((a) => a.join(''));

describe('formats accept and refuse exactly what the patterns did', () => {
  for (const key of Object.keys(before)) {
    it(key, () => {
      const old = TypeCompiler.Compile(before[key]!);
      const now = TypeCompiler.Compile(after[key]!);
      const corpus = [
        '',
        'tank',
        'tank/a',
        'tank/a@s',
        '/dev/sda',
        '/',
        'x'.repeat(64),
        'x'.repeat(65),
        'x'.repeat(256),
        `tank/${'x'.repeat(250)}`,
        'log',
        'logs',
        'log/x',
        'c0t0d0',
        'mirror-0',
        'tank/.hidden',
        'tank//a',
        'tank/',
        'tank/a@',
        '@a',
        'a'.repeat(12),
        'pass word 12345',
        '/.',
        '/../etc/passwd',
        '/./x',
        '/dev/../x',
        '/.x',
      ];
      const want = (v: string) => old.Check(v) && !(PATHS.has(key) && FIRST_PART_DOT.test(v));
      for (const v of corpus) assert.equal(now.Check(v), want(v), `${key} ${JSON.stringify(v)} (corpus)`);
      fc.assert(
        fc.property(names, (v) => now.Check(v) === want(v)),
        { numRuns: 20_000 },
      );
      // not a string at all
      for (const v of [undefined, null, 1, {}, ['tank']]) assert.equal(now.Check(v), false);
    });
  }

  it('a reader of the OpenRPC document sees a string (typeOfSchema of the JSON form)', () => {
    for (const f of [PoolName, DatasetName, BaculaName, Password, HoldTag])
      assert.equal(typeOfSchema(JSON.parse(JSON.stringify(f)) as Record<string, unknown>), 'string');
  });

  it('the full pattern stays on the schema (the OpenRPC document publishes it)', () => {
    assert.equal(formatPattern(PoolName), `^${POOL}$`);
    assert.equal(formatPattern(DatasetName), `^${DATASET}$`);
    assert.equal(formatPattern(BaculaName), '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$');
  });
});

describe('a refusal says which rule failed, in words', () => {
  const say = (schema: TSchema, v: unknown) => explain(TypeCompiler.Compile(schema), v);
  const cases: [TSchema, string, RegExp][] = [
    [DatasetName, 'tank/my data', /^dataset names may not contain spaces$/],
    [DatasetName, 'tank/a@b', /may not contain @/],
    [DatasetName, 'tank/-x', /after \/ starts with a letter, digit or _/],
    [DatasetName, 'tank/', /no empty part/],
    [DatasetName, 'tank/a;id', /only letters, digits, \/ and _ \. : -/],
    [DatasetName, 'mirror/a', /pool name may not start with mirror, raidz/],
    [DatasetName, '', /may not be empty/],
    [DatasetName, `tank/${'x'.repeat(260)}`, /at most 255 characters/],
    [PoolName, 'mirror1', /^a pool name may not start with mirror, raidz, draid, spare/],
    [PoolName, 'log', /may not be log, cache/],
    [PoolName, 'c0t0d0', /c and a digit/],
    [PoolName, 'my pool', /^pool names may not contain spaces$/],
    [PoolName, '1tank', /starts with a letter/],
    [PoolName, 'tank/a', /may not contain \/ @ or #/],
    [PoolName, 'x'.repeat(65), /at most 64 characters/],
    [SnapshotName, 'tank/a', /one @/],
    [SnapshotName, 'tank/a@-x', /after \/ or @ starts with a letter/],
    [SnapshotShortName, '.x', /starts with a letter, digit or _/],
    [HoldTag, 'a b', /a hold tag may not contain spaces/],
    [DevicePath, 'dev/sda', /starts with \//],
    [DevicePath, '/dev/../etc/passwd', /\. or \.\. parts/],
    [DevicePath, '/../etc/passwd', /\. or \.\. parts/],
    [DevicePath, '/dev/sd a', /may not contain spaces/],
    [AbsolutePath, '/mnt/x"y', /only letters, digits/],
    [BaculaName, 'my job', /^backup resource names may not contain spaces$/],
    [BaculaName, '-job', /starts with a letter or digit/],
    [BaculaName, 'x'.repeat(65), /at most 64 characters/],
    [Password, 'short', /at least 12 characters/],
    [Password, 'has "quotes" in it', /may not contain quotes, backslash or spaces|spaces/],
  ];
  for (const [schema, value, want] of cases) {
    it(`${JSON.stringify(value).slice(0, 40)} → ${want.source.slice(0, 50)}`, () => {
      const m = say(schema, value);
      assert.ok(m, 'refused');
      assert.match(m, want);
      assert.ok(!m.includes('(?'), `no regular expression in the message: ${m}`);
    });
  }

  it('a valid value has no message; a message never repeats the value (passwords)', () => {
    assert.equal(say(DatasetName, 'tank/a'), undefined);
    const m = say(Password, 'secret with spaces');
    assert.ok(m && !m.includes('secret'));
  });

  it('formats inside an object: the message of the field that failed', () => {
    const m = say(SettingsSchema, {
      directorName: 'bad name',
      address: '127.0.0.1',
      dirPort: 9101,
      fdPort: 9102,
      sdPort: 9103,
      maxConcurrentJobs: 20,
    });
    assert.match(m ?? '', /may not contain spaces/);
  });
});
