import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { ConfigError, loadSecrets, parseConfig } from '../../agent/config.js';
import { createLayout } from '../../agent/layout.js';
import { entry, tempDir } from '../helpers/paths.js';

test('an empty config gets every default', () => {
  const c = parseConfig('');
  assert.equal(c.agent.socket.mode, '0660');
  assert.equal(c.agent.websocket.host, '127.0.0.1');
  assert.deepEqual(c.roles.admin.groups, ['calypso-admin']);
  assert.deepEqual(c.roles.auditor.groups, ['calypso']);
  assert.equal(c.agent.limits.maxBatch, 100);
});

test('a wrong value is reported with its line and reason', () => {
  const text = 'agent:\n  websocket:\n    host: 127.0.0.1\n    port: 99999\n';
  assert.throws(
    () => parseConfig(text, '/etc/calypso/calypso.yaml'),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.line === 4 &&
      e.file === '/etc/calypso/calypso.yaml' &&
      /agent\.websocket\.port/.test(e.reason) &&
      /65535/.test(e.reason),
  );
});

test('an unknown key is refused with its line', () => {
  assert.throws(
    () => parseConfig('log:\n  level: info\nfrobnicate: 1\n'),
    (e: unknown) =>
      e instanceof ConfigError && e.line !== undefined && /frobnicate|additional/i.test(e.reason),
  );
});

test('YAML syntax errors carry the line', () => {
  assert.throws(
    () => parseConfig('agent:\n  limits:\n    maxBatch: [1,\n'),
    (e: unknown) => e instanceof ConfigError && typeof e.line === 'number',
  );
});

test('duplicate keys are refused', () => {
  assert.throws(() => parseConfig('log:\n  level: info\nlog:\n  level: debug\n'), ConfigError);
});

test('secrets.env is parsed (quotes, comments)', () => {
  const t = tempDir();
  writeFileSync(`${t.dir}/s.env`, '# comment\nA=1\nB="two words"\n  C = \'x=y\'\nnot a line\n');
  const s = loadSecrets(`${t.dir}/s.env`);
  assert.deepEqual(
    [...s.entries()],
    [
      ['A', '1'],
      ['B', 'two words'],
      ['C', 'x=y'],
    ],
  );
  t.cleanup();
});

test('the agent refuses to start on a bad config, naming file, line and reason (exit 78)', () => {
  const t = tempDir();
  const layout = createLayout(t.dir);
  mkdirSync(layout.etc, { recursive: true });
  writeFileSync(layout.configFile, 'jobs:\n  retentionDays: -3\n');
  const r = spawnSync(process.execPath, [...entry('agent/main'), '--prefix', t.dir, '--quiet'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  t.cleanup();
  assert.equal(r.status, 78);
  assert.match(r.stderr, /calypso\.yaml:2: jobs\.retentionDays/);
});
