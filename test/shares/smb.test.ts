/**
 * File shares end to end on a real smbd (Samba under the test agent's prefix, users from
 * nss_wrapper files): users and groups made through the agent with their SMB passwords in the
 * prefix's passdb (the password never in the audit log), shares rendered into smb.conf through
 * the pipeline (testparm, smbcontrol reload-config), the access matrix computed first and then
 * EVERY cell checked with the real smbclient (a read-write user, a read-only user, a user not
 * in valid users, a guest), a hand edit of smb.conf reported as drift and undone by
 * shares.apply, history/diff/restore, every dry run listing exactly what its real run ran, and the
 * SMB metrics (smbstatus --json) while a real smbclient holds a file open.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sharesSubsystem } from '../../agent/shares/service.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { freePort, nssFiles, type SmbAccounts, type Smbd, seriesOf, startSmbd } from './smb-lab.js';

interface Plan {
  commands: string[][];
  notes?: string[];
  changed?: string[];
  files?: { path: string; diff: string }[];
}
interface Cell {
  share: string;
  protocol: string;
  principal: string;
  access: 'none' | 'read' | 'write';
  why: string;
}

const PW: Record<string, string> = { alice: 'Alice-pw-1234', bob: 'Bob-pw-5678', carol: 'Carol-pw-9012' };

let acc: SmbAccounts;
let t: TestAgent;
let smbd: Smbd | undefined;
let conf: string;

async function dryThenReal(method: string, params: Record<string, unknown>): Promise<Plan> {
  const dry = await t.call<Plan>(method, { ...params, dryRun: true });
  const real = await t.call<Plan>(method, params);
  assert.deepEqual(real.commands, dry.commands, `${method}: the dry run lists what the real run ran`);
  return real;
}

before(async () => {
  acc = nssFiles();
  const port = await freePort();
  t = await startTestAgent({
    services: [sharesSubsystem],
    config: {
      shares: {
        smbPort: port,
        smbInterfaces: ['127.0.0.1'],
        accounts: {
          backend: 'nss-wrapper',
          passwd: acc.passwd,
          group: acc.group,
          uidMin: 61000,
          uidMax: 61999,
        },
      },
    },
  });
  try {
    await t.call('shares.apply');
    conf = (await t.call<{ smbConf: string }>('shares.status')).smbConf;
    smbd = await startSmbd(conf, port, acc);
  } catch (e) {
    await t.stop();
    acc.cleanup();
    throw e;
  }
});

after(async () => {
  await smbd?.stop();
  await t?.stop();
  acc?.cleanup();
});

describe('SMB shares on a real smbd', { timeout: 240_000 }, () => {
  it('status: Samba present, smbd runs on the generated smb.conf', async () => {
    const s = await t.call<{ samba: boolean; smbdRunning: boolean; smbConf: string }>('shares.status');
    assert.equal(s.samba, true);
    assert.equal(s.smbdRunning, true);
    assert.ok(s.smbConf.startsWith(t.prefix), 'smb.conf under the prefix');
  });

  it('users and groups: created through the agent, passwords to pdbedit only, never audited', async () => {
    const g = await dryThenReal('shares.group.create', { name: 'staff' });
    assert.match(g.commands[0]!.join(' '), /add group staff/);
    for (const name of ['alice', 'bob', 'carol']) {
      const r = await dryThenReal('shares.user.create', {
        name,
        password: PW[name],
        ...(name === 'alice' ? { groups: ['staff'] } : {}),
      });
      assert.deepEqual(r.commands.at(-1), ['pdbedit', '-s', conf, '-a', '-t', '-u', name]);
    }
    const users = (
      await t.call<{ items: { name: string; groups: string[]; smb: boolean }[] }>('shares.user.list')
    ).items;
    assert.deepEqual(
      users.map((u) => [u.name, u.smb, u.groups.sort().join(',')]),
      [
        ['alice', true, 'alice,staff'],
        ['bob', true, 'bob'],
        ['carol', true, 'carol'],
      ],
    );
    assert.match(readFileSync(acc.group, 'utf8'), /^staff:x:\d+:alice$/m);
    await t.deps.audit.flushed();
    const audited = JSON.stringify(t.deps.audit.query({ method: 'shares.user.create', limit: 100 }).items);
    assert.ok(audited.includes('alice'), 'the creation is audited');
    for (const pw of Object.values(PW)) assert.ok(!audited.includes(pw), 'no password in the audit log');
    await assert.rejects(
      t.call('shares.user.create', { name: 'alice', password: 'Another-pw-1' }),
      (e: Error & { kind?: string }) => e.kind === 'conflict',
    );
  });

  it('a share: dry run = real run, directory made, smb.conf checked by testparm and reloaded', async () => {
    const r = await dryThenReal('shares.create', { name: 'team', validUsers: ['alice', 'bob'] });
    const dir = path.join(t.prefix, 'srv/calypso/shares/team');
    assert.deepEqual(r.commands, [
      ['mkdir', '-p', '-m', '0775', '--', dir],
      // the new smb.conf checked beside the live one, before it replaces it
      ['testparm', '-s', path.join(path.dirname(conf), '.smb.conf.calypso-new')],
      ['smbcontrol', '-s', conf, 'smbd', 'reload-config'],
    ]);
    const text = readFileSync(conf, 'utf8');
    assert.match(text, /^\[team\]$/m);
    assert.match(text, /^\tvalid users = alice bob$/m);
    await t.call('shares.create', { name: 'public', guest: true, readOnly: true });
    await t.call('shares.create', { name: 'drop', validGroups: ['staff'] });
    await t.call('shares.create', { name: 'ro', readOnly: true, validUsers: ['alice', 'bob', 'carol'] });
    // what an administrator does to the directories: team and drop belong to staff
    const staff = Number(/^staff:x:(\d+):/m.exec(readFileSync(acc.group, 'utf8'))![1]);
    const root = path.join(t.prefix, 'srv/calypso/shares');
    for (const [name, mode] of [
      ['team', 0o2775],
      ['drop', 0o2770],
      ['public', 0o755],
      ['ro', 0o777],
    ] as const) {
      chownSync(path.join(root, name), 0, name === 'team' || name === 'drop' ? staff : 0);
      chmodSync(path.join(root, name), mode);
    }
    writeFileSync(path.join(root, 'public', 'readme.txt'), 'hello\n');
    // the test prefix is mkdtemp's 0700: nobody but root passes it, and the matrix says so
    const closed = await t.call<{ cells: Cell[] }>('shares.access', {
      users: ['alice'],
      guest: false,
      shares: ['team'],
    });
    assert.equal(closed.cells[0]!.access, 'none');
    assert.match(closed.cells[0]!.why, /cannot pass .* \(mode 0700\)/);
    chmodSync(t.prefix, 0o755);
    await assert.rejects(
      t.call('shares.create', { name: 'TEAM' }),
      (e: Error & { kind?: string }) => e.kind === 'conflict',
    );
    await assert.rejects(
      t.call('shares.create', { name: 'bad\nname' }),
      (e: Error & { kind?: string }) => e.kind === 'invalid',
    );
  });

  it('the access matrix, computed first, holds for every cell with the real smbclient', async () => {
    const { cells } = await t.call<{ cells: Cell[] }>('shares.access', { users: ['alice', 'bob', 'carol'] });
    const table = Object.fromEntries(cells.map((c) => [`${c.share}/${c.principal}`, c.access]));
    // the matrix itself, as the options and modes say
    assert.deepEqual(table, {
      'team/alice': 'write',
      'team/bob': 'read',
      'team/carol': 'none',
      'team/guest': 'none',
      'public/alice': 'read',
      'public/bob': 'read',
      'public/carol': 'read',
      'public/guest': 'read',
      'drop/alice': 'write',
      'drop/bob': 'none',
      'drop/carol': 'none',
      'drop/guest': 'none',
      'ro/alice': 'read',
      'ro/bob': 'read',
      'ro/carol': 'read',
      'ro/guest': 'none',
    });
    const src = path.join(acc.dir, 'probe.txt');
    writeFileSync(src, 'probe\n');
    for (const c of cells) {
      const user = c.principal === 'guest' ? undefined : { name: c.principal, password: PW[c.principal]! };
      const read = await smbd!.client(c.share, user, 'ls');
      const file = `w-${c.principal}.txt`;
      const write = read.ok
        ? await smbd!.client(c.share, user, `put ${src} ${file}`)
        : { ok: false, out: '' };
      const got = write.ok ? 'write' : read.ok ? 'read' : 'none';
      assert.equal(
        got,
        c.access,
        `${c.share} as ${c.principal}: matrix says ${c.access} (${c.why}); smbclient: ${read.out}${write.out}`,
      );
    }
  });

  it('a hand edit of smb.conf is drift; shares.apply puts the file back', async () => {
    const before = readFileSync(conf, 'utf8');
    writeFileSync(conf, before.replace('[ro]\n\tpath', '[ro]\n\tread only = no\n\tpath'));
    const d = await t.call<{ inSync: boolean; items: { kind: string; what: string }[] }>('shares.drift');
    assert.equal(d.inSync, false);
    assert.deepEqual(
      d.items.map((i) => [i.kind, i.what]),
      [['file', conf]],
    );
    const plan = await t.call<Plan>('shares.apply', { dryRun: true });
    assert.match(plan.files![0]!.diff, /-\tread only = no/);
    const r = await dryThenReal('shares.apply', {});
    assert.deepEqual(r.commands, [
      ['testparm', '-s', path.join(path.dirname(conf), '.smb.conf.calypso-new')],
      ['smbcontrol', '-s', conf, 'smbd', 'reload-config'],
    ]);
    assert.equal(readFileSync(conf, 'utf8'), before);
    assert.equal((await t.call<{ inSync: boolean }>('shares.drift')).inSync, true);
  });

  it('history, diff and restore like iSCSI; delete keeps the files', async () => {
    const h = await t.call<{ items: { version: number; summary: string }[] }>('shares.config.history');
    const created = h.items.find((i) => i.summary === 'share ro created')!;
    await dryThenReal('shares.delete', { name: 'ro' });
    assert.doesNotMatch(readFileSync(conf, 'utf8'), /^\[ro\]$/m);
    const diff = await t.call<{ files: { diff: string }[] }>('shares.config.diff', { from: created.version });
    assert.match(diff.files[0]!.diff, /-\[ro\]/);
    await dryThenReal('shares.config.restore', { version: created.version });
    assert.match(readFileSync(conf, 'utf8'), /^\[ro\]$/m);
    const ok = await smbd!.client('ro', { name: 'bob', password: PW.bob! }, 'ls');
    assert.ok(ok.ok, ok.out);
  });

  it('update, a new password, and a group in use that cannot go', async () => {
    await dryThenReal('shares.update', { name: 'ro', set: { description: 'for everyone to read' } });
    assert.match(readFileSync(conf, 'utf8'), /^\tcomment = for everyone to read$/m);
    await dryThenReal('shares.user.password', { name: 'bob', password: 'Bob-new-pw-42' });
    const old = await smbd!.client('team', { name: 'bob', password: PW.bob! }, 'ls');
    assert.equal(old.ok, false, 'the old password no longer works');
    PW.bob = 'Bob-new-pw-42';
    const now = await smbd!.client('team', { name: 'bob', password: PW.bob }, 'ls');
    assert.ok(now.ok, now.out);
    await assert.rejects(
      t.call('shares.group.delete', { name: 'staff' }),
      (e: Error & { kind?: string; message: string }) => e.kind === 'conflict' && /drop/.test(e.message),
    );
    await t.call('shares.group.create', { name: 'tmpgrp' });
    await dryThenReal('shares.group.delete', { name: 'tmpgrp' });
    assert.doesNotMatch(readFileSync(acc.group, 'utf8'), /tmpgrp/);
    // a user's groups changed after creation: carol joins staff, and drop (valid groups staff) lets her in
    const denied = await smbd!.client('drop', { name: 'carol', password: PW.carol! }, 'ls');
    assert.equal(denied.ok, false, 'carol is not in staff yet');
    await dryThenReal('shares.user.groups', { name: 'carol', groups: ['staff'] });
    assert.match(readFileSync(acc.group, 'utf8'), /^staff:x:\d+:.*\bcarol\b/m);
    const carolAccess = async () =>
      (await t.call<{ cells: Cell[] }>('shares.access', { users: ['carol'], shares: ['drop'] })).cells[0]!
        .access;
    assert.notEqual(await carolAccess(), 'none');
    const joined = await smbd!.client('drop', { name: 'carol', password: PW.carol! }, 'ls');
    assert.ok(joined.ok, joined.out);
    await assert.rejects(
      t.call('shares.user.groups', { name: 'carol', groups: ['nosuchgroup'] }),
      /no such group: nosuchgroup/,
    );
    await dryThenReal('shares.user.groups', { name: 'carol', groups: [] });
    assert.doesNotMatch(readFileSync(acc.group, 'utf8'), /^staff:x:\d+:.*\bcarol\b/m);
    assert.equal(await carolAccess(), 'none');
    await t.deps.audit.flushed();
    const audited = JSON.stringify(t.deps.audit.query({ method: 'shares.user.password', limit: 10 }).items);
    assert.ok(audited.includes('bob') && !audited.includes('Bob-new-pw-42'), 'audited without the password');
  });

  it('deleting a user removes its passdb entry: it can no longer connect', async () => {
    await dryThenReal('shares.user.delete', { name: 'carol' });
    const r = await smbd!.client('public', { name: 'carol', password: PW.carol! }, 'ls');
    // an unknown user becomes the guest (map to guest = Bad User): public lets guests read
    assert.ok(r.ok, r.out);
    const denied = await smbd!.client('ro', { name: 'carol', password: PW.carol! }, 'ls');
    assert.equal(denied.ok, false);
  });

  it('metrics from smbstatus: a guest session, its connection and its open file on the share', async () => {
    const src = t.deps.metrics.list().find((x) => x.name === 'shares.smb')!;
    const scrape = () => seriesOf(src);
    const idle = await scrape();
    assert.deepEqual(idle.calypso_shares_smb_sessions, [[{}, 0]]);
    const s = smbd!.guestSession('public');
    try {
      s.send('open readme.txt');
      let got = await scrape();
      for (let i = 0; i < 100 && !got.calypso_shares_smb_open_files; i++) {
        await new Promise((r) => setTimeout(r, 100));
        got = await scrape();
      }
      assert.deepEqual(got.calypso_shares_smb_sessions, [[{}, 1]], s.out());
      assert.deepEqual(got.calypso_shares_smb_connections, [[{ share: 'public' }, 1]]);
      assert.deepEqual(got.calypso_shares_smb_open_files, [[{ share: 'public' }, 1]]);
    } finally {
      await s.close();
    }
    let after = await scrape();
    // smbd ends the session when it sees the client's connection close
    for (let i = 0; i < 100 && after.calypso_shares_smb_sessions?.[0]?.[1] !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await scrape();
    }
    assert.deepEqual(after.calypso_shares_smb_sessions, [[{}, 0]], 'the session ends with smbclient');
    assert.equal(after.calypso_shares_smb_open_files, undefined);
  });
});
