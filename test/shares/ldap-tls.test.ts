/**
 * The LDAP directory over TLS against a real slapd (sandbox/slapd.ts with `tls`: a CA and a
 * server certificate for 127.0.0.1 made with openssl under the lab's temporary directory, ldaps://
 * on a free port beside ldap://): the directory config takes the CA as a PEM file's path or as PEM
 * text; users and groups resolve over ldaps:// and over StartTLS with the certificate verified
 * (our handshake and libldap's, LDAPTLS_CACERT); a CA that did not sign the server's certificate
 * is refused naming the problem and changes nothing; text that is no certificate is refused.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { sharesSubsystem } from '../../agent/shares/service.js';
import { type SlapdLab, startSlapdLab } from '../../sandbox/slapd.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

interface Step {
  step: string;
  ok: boolean;
  detail: string;
}

describe('LDAP directory over TLS (real slapd, a test CA)', { timeout: 180_000 }, () => {
  let lab: SlapdLab | undefined;
  let t: TestAgent | undefined;
  let base: Record<string, unknown> = {};

  before(async () => {
    lab = await startSlapdLab({ tls: true });
    try {
      t = await startTestAgent({ services: [sharesSubsystem] });
    } catch (e) {
      await lab.stop();
      throw e;
    }
    base = {
      baseDn: lab.suffix,
      usersBase: lab.usersBase,
      groupsBase: lab.groupsBase,
      bindDn: lab.bindDn,
      bindPassword: lab.bindPassword,
    };
  });
  after(async () => {
    await t?.stop();
    await lab?.stop();
  });

  const agent = () => t as TestAgent;
  const tls = () => lab?.tls as NonNullable<SlapdLab['tls']>;
  const connect = async () => {
    const { job } = await agent().call<{ job: string }>('shares.directory.ldap.connect');
    return agent().waitJob(job);
  };

  it('ldaps:// with the CA as a file: users and groups resolve, the certificate verified', async () => {
    await agent().call('shares.directory.ldap.set', { ...base, uri: tls().uri, caCert: tls().caFile });
    const sssdConf = (await agent().call<{ sssdConf: string }>('shares.directory.ldap.get')).sssdConf;
    const caLine = /^ldap_tls_cacert = (.+)$/m.exec(readFileSync(sssdConf, 'utf8'));
    assert.ok(caLine?.[1] && existsSync(caLine[1]), 'sssd.conf names the CA file the agent wrote');
    assert.match(readFileSync(caLine[1], 'utf8'), /^-----BEGIN CERTIFICATE-----/);
    const j = await connect();
    assert.equal(j.state, 'success', JSON.stringify(j.error));
    const r = j.result as { steps: Step[]; users: number; groups: number };
    assert.deepEqual(
      r.steps.map((s) => [s.step, s.ok]),
      ['resolve', 'connect', 'tls', 'bind', 'users', 'groups'].map((s) => [s, true]),
    );
    assert.match(
      r.steps[2]?.detail ?? '',
      /certificate of 127\.0\.0\.1 verified \(issued by Calypso Test LDAP CA\)/,
    );
    assert.equal(r.users, lab?.users.length);
    const users = await agent().call<{ items: { name: string }[] }>('shares.directory.user.list');
    assert.ok(users.items.some((u) => u.name === 'alice'));
  });

  it('StartTLS with the CA as PEM text: verified the same way', async () => {
    const pem = readFileSync(tls().caFile, 'utf8');
    await agent().call('shares.directory.ldap.set', { ...base, uri: lab?.uri, startTls: true, caCert: pem });
    const j = await connect();
    assert.equal(j.state, 'success', JSON.stringify(j.error));
    const r = j.result as { steps: Step[]; groups: number };
    assert.deepEqual(
      r.steps.map((s) => s.step),
      ['resolve', 'connect', 'starttls', 'bind', 'users', 'groups'],
    );
    assert.equal(r.groups, lab?.groups.length);
  });

  it('a CA that did not sign the server’s certificate is refused, naming the problem; nothing changes', async () => {
    const was = await agent().call<{ settings: { uri: string; caCert?: string } }>(
      'shares.directory.ldap.get',
    );
    for (const p of [
      { uri: tls().uri, caCert: tls().wrongCaFile },
      { uri: lab?.uri, startTls: true, caCert: tls().wrongCaFile },
    ])
      await assert.rejects(
        agent().call('shares.directory.ldap.set', { ...base, ...p }),
        (e: Error & { kind?: string }) =>
          e.kind === 'invalid' &&
          /^caCert: ldaps?:\/\/127\.0\.0\.1:\d+\/: the server’s certificate chains to a CA that is not the configured one \(SELF_SIGNED_CERT_IN_CHAIN\)$/.test(
            e.message,
          ),
      );
    await assert.rejects(
      agent().call('shares.directory.ldap.set', {
        ...base,
        uri: tls().uri,
        caCert: '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n',
      }),
      /caCert: certificate 1 is not a valid X\.509 certificate/,
    );
    await assert.rejects(
      agent().call('shares.directory.ldap.set', { ...base, uri: tls().uri, caCert: '/nonexistent/ca.pem' }),
      /caCert: cannot read \/nonexistent\/ca\.pem: ENOENT/,
    );
    const now = await agent().call<{ settings: { uri: string; caCert?: string } }>(
      'shares.directory.ldap.get',
    );
    assert.deepEqual(now, was, 'the refused calls changed nothing');
    // and the connect job still passes with the good CA
    assert.equal((await connect()).state, 'success');
  });
});
