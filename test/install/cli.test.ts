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
