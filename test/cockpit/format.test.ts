/**
 * One date format on every page (cockpit/src/format.ts): epoch milliseconds, ISO strings and
 * Bacula's local `YYYY-MM-DD HH:MM:SS` come out alike, in any locale; and the pages that show
 * dates show them only through formatDate (a page that prints a raw date or its own
 * toLocaleString fails here).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { repoRoot } from '../helpers/paths.js';

let formatDate: (v: number | string | Date | undefined | null) => string;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'calypso-format-'));
const tz = process.env.TZ;

before(async () => {
  // the plugin's module as the plugin gets it: bundled by esbuild from the TypeScript source
  const out = path.join(tmp, 'format.mjs');
  await esbuild.build({
    entryPoints: [path.join(repoRoot(), 'cockpit/src/format.ts')],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'silent',
  });
  ({ formatDate } = (await import(pathToFileURL(out).href)) as { formatDate: typeof formatDate });
});

after(() => {
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
  rmSync(tmp, { recursive: true, force: true });
});

describe('formatDate', () => {
  it('epoch ms, ISO and Bacula times of one instant read the same, in local time', () => {
    process.env.TZ = 'Europe/Paris'; // UTC+1 in December
    const ms = Date.UTC(2026, 11, 3, 8, 5, 9);
    assert.equal(formatDate(ms), '2026-12-03 09:05:09');
    assert.equal(formatDate(new Date(ms).toISOString()), '2026-12-03 09:05:09');
    assert.equal(formatDate('2026-12-03 09:05:09'), '2026-12-03 09:05:09', 'Bacula: local time as written');
    assert.equal(formatDate(new Date(ms)), '2026-12-03 09:05:09');
    process.env.TZ = 'UTC';
    assert.equal(formatDate(ms), '2026-12-03 08:05:09');
  });

  it('nothing is a dash; an unreadable string is shown as it came', () => {
    for (const v of [undefined, null, '']) assert.equal(formatDate(v), '—');
    assert.equal(formatDate('soon'), 'soon');
    assert.equal(formatDate(Number.NaN), 'NaN');
  });
});

describe('the pages use it', () => {
  const pages = ['audit', 'jobs', 'backup', 'backup-restore', 'datasets', 'pools', 'disks', 'overview'];
  const DATE_FIELDS =
    /\b(?:time|createdAt|startedAt|endedAt|started|ended|mtime|created|creation|nextRun|lastRun|expiresAt)\b/;

  for (const p of pages) {
    it(`${p}.ts shows dates only through formatDate`, () => {
      const src = readFileSync(path.join(repoRoot(), 'cockpit/src/pages', `${p}.ts`), 'utf8');
      assert.doesNotMatch(
        src,
        /toLocale(?:Date|Time)?String\(|formatTime\(|toISOString\(/,
        'no other date rendering',
      );
      // every template interpolation that names a date field goes through formatDate
      for (const m of src.matchAll(/\$\{([^{}]*)\}/g)) {
        const expr = m[1]!.replace(/'[^']*'|"[^"]*"|`[^`]*`/g, "''"); // words in strings are not fields
        if (DATE_FIELDS.test(expr) && !/formatDate\(/.test(expr) && !/\.length|===|!==/.test(expr))
          assert.fail(`${p}.ts renders a date without formatDate: \${${expr}}`);
      }
    });
  }
});
