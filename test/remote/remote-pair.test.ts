/**
 * Remotes over a real sshd (Debian's, on a loopback port under the test's prefix): pairing pins
 * the host key and keeps the key in secrets.env; on the receiving side the key is restricted to
 * the guard, which lets `zfs receive` into its prefix and refuses `ls /`, `zfs destroy` of a filesystem and a
 * receive outside the prefix.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fingerprint } from '../../agent/remote/ssh.js';
import { zfsImpl } from '../zfs/helpers.js';
import { type ReplLab, run, startReplLab } from './lab.js';

interface Remote {
  name: string;
  hostKeyFingerprint: string;
  publicKey: string;
  prefix: string;
}
interface TestAnswer {
  ok: boolean;
  resumeTokens: boolean;
  detail: string;
}

describe('remotes over a real sshd with a forced command', { timeout: 300_000 }, () => {
  let lab: ReplLab;
  let prefix: string;
  let outside: string;
  let planned: string[][] = [];
  const sshTool = (argv: string[]) => argv[0] === 'ssh-keygen' || argv[0] === 'ssh-keyscan';

  before(async () => {
    lab = await startReplLab('rp');
    prefix = `${lab.pool}/backup`;
    outside = `${lab.pool}/other`;
    for (const ds of [`${lab.pool}/src`, prefix, outside])
      await lab.sender.call('dataset.create', { name: ds });
    await lab.sender.call('snapshot.create', { dataset: `${lab.pool}/src`, name: 's1' });
  });
  after(async () => {
    await lab?.stop();
  });

  it('pair: the dry run shows ssh-keygen and ssh-keyscan and stores nothing', async () => {
    const dry = await lab.sender.call<{ commands: string[][] }>('remote.pair', {
      name: 'dr',
      host: '127.0.0.1',
      port: lab.sshd.port,
      prefix,
      dryRun: true,
    });
    assert.deepEqual(
      dry.commands.map((c) => c[0]),
      ['ssh-keyscan', 'ssh-keygen'],
    );
    assert.ok(dry.commands[0]!.includes(String(lab.sshd.port)));
    assert.equal((await lab.sender.call<{ total: number }>('remote.list')).total, 0);
    assert.equal(lab.runner.calls.filter(sshTool).length, 0, 'the dry run ran nothing');
    planned = dry.commands;
  });

  it('pair pins the host key sshd has and keeps the private key in secrets.env only', async () => {
    const r = await lab.sender.call<Remote>('remote.pair', {
      name: 'dr',
      host: '127.0.0.1',
      port: lab.sshd.port,
      prefix,
    });
    assert.deepEqual(lab.runner.calls.filter(sshTool), planned, 'the real run ran the dry run’s commands');
    const pub = readFileSync(path.join(lab.sender.prefix, 'sshd', 'ssh_host_ed25519_key.pub'), 'utf8');
    assert.equal(r.hostKeyFingerprint, fingerprint(pub.split(' ')[1]!));
    assert.match(r.publicKey, /^ssh-ed25519 /);
    const secrets = readFileSync(lab.sender.deps.layout.secretsFile, 'utf8');
    assert.match(secrets, /^REMOTE_DR_SSH_KEY=/m);
    await assert.rejects(lab.sender.call('remote.pair', { name: 'dr', host: '127.0.0.1', prefix }), /exists/);
    // not authorized yet: the test says so rather than throwing
    const t = await lab.sender.call<TestAnswer>('remote.test', { name: 'dr' });
    assert.equal(t.ok, false);
    assert.match(t.detail, /Permission denied/);
  });

  it('authorize on the receiving side writes a forced-command line; remote.test then connects', async () => {
    const { publicKey } = await lab.sender.call<Remote>('remote.get', { name: 'dr' });
    const dry = await lab.receiver.call<{ files: { diff: string }[] }>('remote.authorize', {
      name: 'sender1',
      publicKey,
      prefix,
      dryRun: true,
    });
    assert.match(dry.files[0]!.diff, /\+command=".*guard-main\.js --prefix/);
    assert.equal(readFileSync(lab.sshd.authorizedKeys, 'utf8'), '');
    await lab.receiver.call('remote.authorize', { name: 'sender1', publicKey, prefix });
    const line = readFileSync(lab.sshd.authorizedKeys, 'utf8');
    const added = dry.files[0]!.diff.split('\n').find((l) => l.startsWith('+command='));
    assert.equal(line, `${added!.slice(1)}\n`, 'the real run wrote the dry run’s line');
    assert.match(
      line,
      new RegExp(`^command="\\S+ \\S+guard-main\\.js --prefix ${prefix}",restrict ssh-ed25519 `),
    );
    await assert.rejects(
      lab.receiver.call('remote.authorize', { name: 'x', publicKey: 'ssh-rsa AAAA', prefix }),
      /not an ssh-ed25519 public key/,
    );
    const t = await lab.sender.call<TestAnswer>('remote.test', { name: 'dr' });
    assert.equal(t.ok, true, t.detail);
    assert.equal(t.resumeTokens, zfsImpl() === 'openzfs', t.detail);
  });

  it('the key runs zfs receive into its prefix', async () => {
    const send = spawn('zfs', ['send', '--', `${lab.pool}/src@s1`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const r = await run(lab.ssh('dr', ['zfs', 'receive', '--', `${prefix}/src`]), send.stdout);
    assert.equal(r.code, 0, r.stderr);
    const got = await lab.zfs([
      'list',
      '-H',
      '-t',
      'snapshot',
      '-o',
      'name',
      '-d',
      '1',
      '--',
      `${prefix}/src`,
    ]);
    assert.equal(got.stdout.trim(), `${prefix}/src@s1`);
  });

  it('the key cannot run anything else: ls /, zfs destroy, a receive outside the prefix', async () => {
    const ls = await run(lab.ssh('dr', ['ls', '/']));
    assert.equal(ls.code, 126);
    assert.match(ls.stderr, /calypso: refused: .*ls is not allowed/);
    assert.doesNotMatch(ls.stdout, /etc|usr/);

    const destroy = await run(lab.ssh('dr', ['zfs', 'destroy', '-r', '--', `${prefix}/src`]));
    assert.equal(destroy.code, 126);
    assert.match(destroy.stderr, /option -r is not allowed/);
    const fs = await run(lab.ssh('dr', ['zfs', 'destroy', '--', `${prefix}/src`]));
    assert.equal(fs.code, 126);
    assert.match(fs.stderr, /never a filesystem/);
    assert.equal((await lab.zfs(['list', '-H', '-o', 'name', '--', `${prefix}/src`])).code, 0);

    const send = spawn('zfs', ['send', '--', `${lab.pool}/src@s1`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const out = await run(lab.ssh('dr', ['zfs', 'receive', '--', `${outside}/src`]), send.stdout);
    assert.equal(out.code, 126);
    assert.match(out.stderr, /is outside/);
    assert.notEqual((await lab.zfs(['list', '-H', '-o', 'name', '--', `${outside}/src`])).code, 0);

    // a shell trick in the command line is not split into a second command
    const trick = await run(
      lab.ssh('dr', [
        'zfs',
        'list',
        '-H',
        '-t',
        'snapshot',
        '-o',
        'name,guid',
        '-d',
        '1',
        '--',
        `${prefix}/src;ls`,
      ]),
    );
    assert.equal(trick.code, 126);
    // the prefix as a string prefix is not enough: backupX is not under backup
    const sib = await run(
      lab.ssh('dr', ['zfs', 'get', '-H', '-o', 'value', 'receive_resume_token', '--', `${prefix}X`]),
    );
    assert.equal(sib.code, 126);
  });

  it('deauthorize removes the line; unpair forgets the remote and its key', async () => {
    const before = readFileSync(lab.sshd.authorizedKeys, 'utf8');
    const dry = await lab.receiver.call<{ files: { diff: string }[] }>('remote.deauthorize', {
      name: 'sender1',
      dryRun: true,
    });
    assert.match(dry.files[0]!.diff, /\n-command=/);
    assert.equal(readFileSync(lab.sshd.authorizedKeys, 'utf8'), before, 'the dry run changed nothing');
    await lab.receiver.call('remote.deauthorize', { name: 'sender1' });
    assert.equal(readFileSync(lab.sshd.authorizedKeys, 'utf8'), '');
    const t = await lab.sender.call<TestAnswer>('remote.test', { name: 'dr' });
    assert.equal(t.ok, false);
    const dryUnpair = await lab.sender.call<{ commands: string[][] }>('remote.unpair', {
      name: 'dr',
      dryRun: true,
    });
    assert.deepEqual(dryUnpair.commands, []);
    assert.equal((await lab.sender.call<{ total: number }>('remote.list')).total, 1);
    await lab.sender.call('remote.unpair', { name: 'dr' });
    assert.equal((await lab.sender.call<{ total: number }>('remote.list')).total, 0);
    assert.doesNotMatch(readFileSync(lab.sender.deps.layout.secretsFile, 'utf8'), /REMOTE_DR_SSH_KEY/);
  });
});
