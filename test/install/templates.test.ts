/**
 * The installer's pure parts: the calypso.yaml template against the configuration schema, the
 * secrets merge, the unit rendering, and the account commands on `/` (through a fake runner:
 * a test must not create accounts on the host).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TSchema } from '@sinclair/typebox';
import { parseConfig } from '../../agent/config.js';
import { createArgv, ensureAccounts, parseGetent } from '../../agent/install/accounts.js';
import { renderConfigTemplate } from '../../agent/install/config-template.js';
import { ACCOUNTS } from '../../agent/install/plan.js';
import { GENERATED_SECRETS, mergeSecrets } from '../../agent/install/secrets.js';
import { selfSignedArgv } from '../../agent/install/tls.js';
import { agentExecStart, renderUnit } from '../../agent/install/units.js';
import { createLayout } from '../../agent/layout.js';
import type { Runner } from '../../agent/runner.js';
import { fullConfigSchema } from '../../agent/subsystems.js';
import { RpcError } from '../../rpc/errors.js';
import { fakeRunner } from '../helpers/fake-runner.js';

function leafPaths(s: TSchema, prefix: string[] = []): string[][] {
  const props = (s as { properties?: Record<string, TSchema> }).properties;
  if ((s as { type?: string }).type !== 'object' || !props) return [prefix];
  return Object.entries(props).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
}

describe('calypso.yaml template', () => {
  const text = renderConfigTemplate();

  it('parses to exactly the defaults', () => {
    assert.deepEqual(
      parseConfig(text, 'calypso.yaml', fullConfigSchema()),
      parseConfig('', 'calypso.yaml', fullConfigSchema()),
    );
  });

  it('shows every setting of the schema, at its place, with comments', () => {
    const lines = text.split('\n');
    for (const leaf of leafPaths(fullConfigSchema())) {
      // each key appears at its nesting depth, in order (commented out when it has no default)
      let from = 0;
      leaf.forEach((key, depth) => {
        const re = new RegExp(`^${'  '.repeat(depth)}(# )?${key}:`);
        const i = lines.findIndex((l, n) => n >= from && re.test(l));
        assert.ok(i >= 0, `${leaf.join('.')} is in the template`);
        from = i + 1;
      });
    }
    assert.match(text, /^ {4}# Unix socket path; default <prefix>\/run\/calypso\/agent.sock\n {4}# path:$/m);
    assert.match(text, /# \(one of: auto, on, off\)\n {4}tls: auto/);
  });

  it('follows a change of the schema (it is rendered, not copied)', async () => {
    const { Type } = await import('@sinclair/typebox');
    const s = Type.Object({
      a: Type.Object({ b: Type.Integer({ default: 7, description: 'bee', minimum: 1 }) }, { default: {} }),
    });
    assert.match(renderConfigTemplate(s), /\na:\n {2}# bee\n {2}# \(minimum 1\)\n {2}b: 7\n$/);
  });
});

describe('secrets.env', () => {
  it('generates every secret once and never replaces one', () => {
    const first = mergeSecrets(undefined);
    for (const s of GENERATED_SECRETS) assert.match(first, new RegExp(`^${s.name}=\\S{12,}$`, 'm'));
    assert.equal(mergeSecrets(first), first, 'nothing to add: unchanged');
    const edited = first
      .replace(/^BACULA_DIR_PASSWORD=.*$/m, 'BACULA_DIR_PASSWORD=site-chosen')
      .replace(/^MINIO_ROOT_PASSWORD=.*\n/m, '');
    const merged = mergeSecrets(edited);
    assert.match(merged, /^BACULA_DIR_PASSWORD=site-chosen$/m);
    assert.match(merged, /^MINIO_ROOT_PASSWORD=[A-Za-z0-9_-]{43}$/m);
    assert.ok(merged.startsWith(edited));
    assert.notEqual(mergeSecrets(undefined), first, 'random each time');
  });
});

describe('systemd unit', () => {
  it('runs current/bin/calypso-agent, with --prefix only off /', () => {
    assert.deepEqual(agentExecStart(createLayout('/')), [
      '/opt/adastra/calypso/current/bin/calypso-agent',
      '--quiet',
    ]);
    assert.deepEqual(agentExecStart(createLayout('/srv/trial')), [
      '/srv/trial/opt/adastra/calypso/current/bin/calypso-agent',
      '--prefix',
      '/srv/trial',
      '--quiet',
    ]);
    const unit = renderUnit(
      'ExecStart=@EXEC_START@\nDocumentation=file://@DOC@\n',
      createLayout('/tmp/a b'),
      '/x.md',
    );
    assert.equal(
      unit,
      'ExecStart="/tmp/a b/opt/adastra/calypso/current/bin/calypso-agent" --prefix "/tmp/a b" --quiet\nDocumentation=file:///x.md\n',
    );
    assert.throws(() => renderUnit('@NOPE@', createLayout('/'), '/x'), /no value for @NOPE@/);
  });

  it('asks openssl for a P-256 self-signed certificate with the host names', () => {
    const argv = selfSignedArgv('/k', '/c', 'nas1');
    assert.deepEqual(argv.slice(0, 3), ['openssl', 'req', '-x509']);
    assert.ok(argv.includes('ec_paramgen_curve:prime256v1'));
    assert.ok(argv.includes('subjectAltName=DNS:nas1,DNS:localhost,IP:127.0.0.1,IP:::1'));
  });
});

/** A fake host account database behind getent/groupadd/useradd. */
function fakeAccounts(existing: string[]): { runner: Runner; calls: string[][] } {
  const groups = new Map<string, number>([['calypso-admin', 1500]]);
  const users = new Map<string, number>();
  for (const e of existing) groups.set(e, 1400);
  let next = 990;
  const runner = fakeRunner(
    (argv) => {
      const name = argv.at(-1)!;
      if (argv[0] === 'getent') {
        const map = argv[1] === 'group' ? groups : users;
        const id = map.get(name);
        if (id === undefined) return { code: 2 };
        return argv[1] === 'group'
          ? `${name}:x:${id}:\n`
          : `${name}:x:${id}:${groups.get('calypso')}::/var/lib/calypso:/usr/sbin/nologin\n`;
      }
      if (argv[0] === 'groupadd') groups.set(name, next--);
      else if (argv[0] === 'useradd') users.set(name, next--);
      else throw new RpcError('unavailable', `${argv[0]}: unexpected`);
      return '';
    },
    { which: (n) => `/usr/bin/${n}` },
  );
  return { runner, calls: runner.calls };
}

describe('accounts on /', () => {
  it('creates the missing groups and the system user, and resolves their ids', async () => {
    const { runner, calls } = fakeAccounts([]);
    const changes: string[] = [];
    const { results, ids } = await ensureAccounts(runner, ACCOUNTS, '/var/lib/calypso', true, (c) =>
      changes.push(c.detail ?? ''),
    );
    assert.deepEqual(
      results.map((r) => `${r.name}:${r.action}`),
      ['calypso:created', 'calypso-admin:exists', 'calypso-operator:created', 'calypso:created'],
    );
    const creates = calls.filter((c) => c[0] !== 'getent');
    assert.deepEqual(creates, [
      ['groupadd', '--system', '--', 'calypso'],
      ['groupadd', '--system', '--', 'calypso-operator'],
      createArgv(ACCOUNTS[3]!, '/var/lib/calypso'),
    ]);
    assert.deepEqual(creates[2]!.slice(0, 3), ['useradd', '--system', '--gid']);
    assert.ok(creates[2]!.includes('/usr/sbin/nologin'));
    assert.equal(ids.gid('calypso'), 990);
    assert.equal(ids.gid('calypso-admin'), 1500);
    assert.equal(ids.uid('calypso'), 988);
    assert.equal(ids.uid('root'), 0);
    assert.equal(changes.length, 3);
  });

  it('only reports in a dry run', async () => {
    const { runner, calls } = fakeAccounts([]);
    const { results } = await ensureAccounts(runner, ACCOUNTS, '/var/lib/calypso', false, () => {});
    assert.ok(results.every((r) => r.action === 'would-create' || r.action === 'exists'));
    assert.ok(calls.every((c) => c[0] === 'getent'));
  });

  it('parses getent lines', () => {
    assert.deepEqual(parseGetent('group', 'calypso:x:995:alice,bob\n'), { name: 'calypso', id: 995 });
    assert.deepEqual(
      parseGetent('passwd', 'calypso:x:999:995:Calypso:/var/lib/calypso:/usr/sbin/nologin\n'),
      {
        name: 'calypso',
        id: 999,
        gid: 995,
      },
    );
    assert.equal(parseGetent('group', ''), undefined);
    assert.equal(parseGetent('group', 'broken'), undefined);
  });
});
