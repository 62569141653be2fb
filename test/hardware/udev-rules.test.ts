/**
 * The shipped udev rules parse as udev rules (Debian 12's udevadm has no `verify`): every line
 * is comma-separated KEY[{attr}]OP"value" pairs with known keys, match operators on match keys
 * and assignment operators on assignment keys, and every GOTO has its LABEL.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/paths.js';

const MATCH = new Set([
  'ACTION',
  'SUBSYSTEM',
  'SUBSYSTEMS',
  'KERNEL',
  'KERNELS',
  'ATTR',
  'ATTRS',
  'ENV',
  'TAG',
  'TAGS',
  'DRIVER',
  'DRIVERS',
  'DEVPATH',
  'TEST',
  'PROGRAM',
  'RESULT',
  'NAME',
  'SYMLINK',
]);
const ASSIGN = new Set([
  'ENV',
  'TAG',
  'SYMLINK',
  'GROUP',
  'MODE',
  'OWNER',
  'OPTIONS',
  'IMPORT',
  'RUN',
  'GOTO',
  'LABEL',
  'ATTR',
  'NAME',
]);
const PAIR = /^\s*([A-Z]+)(\{[^}]+\})?\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/;

function lint(text: string): string[] {
  const errors: string[] = [];
  const gotos: string[] = [];
  const labels = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    let rest = line;
    while (rest.length) {
      const m = PAIR.exec(rest);
      if (!m) {
        errors.push(`line ${i + 1}: cannot parse at ${JSON.stringify(rest.slice(0, 30))}`);
        return;
      }
      const [whole, key, , op, value] = m as unknown as [string, string, string, string, string];
      const isMatch = op === '==' || op === '!=';
      if (isMatch && !MATCH.has(key!)) errors.push(`line ${i + 1}: ${key} is not a match key`);
      if (!isMatch && !ASSIGN.has(key!)) errors.push(`line ${i + 1}: ${key} is not an assignment key`);
      if (key === 'GOTO') gotos.push(value!);
      if (key === 'LABEL') labels.add(value!);
      rest = rest.slice(whole!.length);
    }
  });
  for (const g of gotos) if (!labels.has(g)) errors.push(`GOTO ${g} has no LABEL`);
  return errors;
}

test('every rules file under udev/ is well-formed', () => {
  const dir = path.join(repoRoot(), 'udev');
  const files = readdirSync(dir).filter((f) => f.endsWith('.rules'));
  assert.ok(files.length >= 1);
  for (const f of files) assert.deepEqual(lint(readFileSync(path.join(dir, f), 'utf8')), [], f);
});

test('the linter rejects what udev rejects', () => {
  assert.notDeepEqual(lint('KERNEL="sda", SYMLINK+="x"'), [], 'KERNEL= is not an assignment');
  assert.notDeepEqual(lint('SUBSYSTEM=="block" TAG+="x"'), [], 'missing comma');
  assert.notDeepEqual(lint('GOTO="nowhere"'), [], 'GOTO without LABEL');
  assert.deepEqual(lint('SUBSYSTEM=="block", ENV{DEVTYPE}=="disk", TAG+="calypso"'), []);
});

test('tape and changer names are keyed by serial, never by kernel name', () => {
  const text = readFileSync(path.join(repoRoot(), 'udev', '61-calypso.rules'), 'utf8');
  const symlinks = text.split('\n').filter((l) => !l.startsWith('#') && l.includes('SYMLINK+='));
  assert.ok(symlinks.length >= 5);
  for (const l of symlinks) {
    const target = /SYMLINK\+="([^"]+)"/.exec(l)![1]!;
    assert.match(target, /^calypso\/(tape|changer)\/\$env\{ID_(SCSI_)?SERIAL\}/, l);
  }
});
