/** `calypso-agent install --prefix DIR` from the command line installs under DIR and nowhere else. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { entry, tempDir } from '../helpers/paths.js';

test('calypso-agent install --prefix DIR installs under DIR (the subcommand owns its --prefix)', () => {
  const t = tempDir('calypso-install-cli-');
  const r = spawnSync(process.execPath, [...entry('agent/main'), 'install', '--prefix', t.dir], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(path.join(t.dir, 'etc/calypso/calypso.yaml')));
  assert.ok(existsSync(path.join(t.dir, 'var/lib/calypso')));
  t.cleanup();
});

test('calypso-agent install --help lists every option it accepts; a wrong one names the valid ones, no stack trace', () => {
  const help = spawnSync(process.execPath, [...entry('agent/main'), 'install', '--help'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(help.status, 0, help.stderr);
  for (const o of ['--prefix', '--release', '--no-release', '--activate', '--start', '--dry-run', '--json'])
    assert.match(help.stdout, new RegExp(`${o}\\b`), `${o} missing from install --help`);
  const bad = spawnSync(process.execPath, [...entry('agent/main'), 'install', '--dryrun'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /unknown option '--dryrun'/);
  assert.match(bad.stderr, /--dry-run/); // commander's suggestion, then the help pointer
  assert.match(bad.stderr, /install --help lists every option/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
});
