/**
 * A real OpenLDAP server (Debian's slapd) for tests: its own cn=config built with slapadd in a
 * temporary directory (never the machine's /etc/ldap/slapd.d; only the schema files Debian ships
 * are read), one mdb database seeded with posixAccount users and posixGroup groups, listening on
 * ldap://127.0.0.1:<a free port>/ in the foreground. Anonymous reads are refused, so a search
 * only works after a bind. `kill()` takes it away (a directory that stopped answering);
 * `start()` brings it back on the same port with the same data; `stop()` ends it and removes
 * its files.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, tempDir } from './paths.js';

export const SLAPD_SUFFIX = 'dc=calypso,dc=test';

export interface SlapdUser {
  uid: string;
  uidNumber: number;
  gidNumber: number;
  cn: string;
  password: string;
}

export interface SlapdGroup {
  cn: string;
  gidNumber: number;
  members: string[];
}

export interface SlapdLab {
  dir: string;
  port: number;
  uri: string;
  suffix: string;
  /** the service account the agent binds as */
  bindDn: string;
  bindPassword: string;
  usersBase: string;
  groupsBase: string;
  users: SlapdUser[];
  groups: SlapdGroup[];
  /** with `tls`: ldaps://127.0.0.1:<another free port>/, the CA that signed the server's certificate, and another CA */
  tls?: { uri: string; port: number; caFile: string; wrongCaFile: string };
  pid(): number | undefined;
  /** SIGKILL: the directory stops answering (the port refuses connections) */
  kill(): Promise<void>;
  /** start it again on the same port with the same data (after kill) */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export const SEED_USERS: SlapdUser[] = [
  { uid: 'alice', uidNumber: 70001, gidNumber: 71001, cn: 'Alice Liddell', password: 'alice-pw' },
  { uid: 'bob', uidNumber: 70002, gidNumber: 71001, cn: 'Bob Dylan', password: 'bob-pw' },
  { uid: 'carol', uidNumber: 70003, gidNumber: 71002, cn: 'Carol King', password: 'carol-pw' },
];

export const SEED_GROUPS: SlapdGroup[] = [
  { cn: 'engineering', gidNumber: 71001, members: ['alice', 'bob'] },
  { cn: 'finance', gidNumber: 71002, members: ['carol'] },
  { cn: 'storage-admins', gidNumber: 71003, members: ['alice'] },
];

const SCHEMAS = ['core', 'cosine', 'nis', 'inetorgperson'];

function configLdif(dir: string, rootPw: string, tls: boolean): string {
  return `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: ${dir}/slapd.pid
olcArgsFile: ${dir}/slapd.args
${tls ? `olcTLSCACertificateFile: ${dir}/tls/ca.pem\nolcTLSCertificateFile: ${dir}/tls/server.pem\nolcTLSCertificateKeyFile: ${dir}/tls/server.key\n` : ''}
dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

${SCHEMAS.map((s) => `include: file:///etc/ldap/schema/${s}.ldif`).join('\n')}

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 5000

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: ${dir}/db
olcDbMaxSize: 16777216
olcSuffix: ${SLAPD_SUFFIX}
olcRootDN: cn=admin,${SLAPD_SUFFIX}
olcRootPW: ${rootPw}
olcAccess: {0}to attrs=userPassword by anonymous auth by * none
olcAccess: {1}to * by users read by * none
`;
}

function dataLdif(bindPw: string, users: SlapdUser[], groups: SlapdGroup[]): string {
  const out = [
    `dn: ${SLAPD_SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Calypso test\ndc: calypso`,
    `dn: ou=people,${SLAPD_SUFFIX}\nobjectClass: organizationalUnit\nou: people`,
    `dn: ou=groups,${SLAPD_SUFFIX}\nobjectClass: organizationalUnit\nou: groups`,
    `dn: ou=services,${SLAPD_SUFFIX}\nobjectClass: organizationalUnit\nou: services`,
    `dn: cn=calypso,ou=services,${SLAPD_SUFFIX}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: calypso\nuserPassword: ${bindPw}`,
  ];
  for (const u of users)
    out.push(
      [
        `dn: uid=${u.uid},ou=people,${SLAPD_SUFFIX}`,
        'objectClass: inetOrgPerson',
        'objectClass: posixAccount',
        `uid: ${u.uid}`,
        `cn: ${u.cn}`,
        `sn: ${u.cn.split(' ').at(-1)}`,
        `uidNumber: ${u.uidNumber}`,
        `gidNumber: ${u.gidNumber}`,
        `homeDirectory: /home/${u.uid}`,
        'loginShell: /bin/sh',
        `userPassword: ${u.password}`,
      ].join('\n'),
    );
  for (const g of groups)
    out.push(
      [
        `dn: cn=${g.cn},ou=groups,${SLAPD_SUFFIX}`,
        'objectClass: posixGroup',
        `cn: ${g.cn}`,
        `gidNumber: ${g.gidNumber}`,
        ...g.members.map((m) => `memberUid: ${m}`),
      ].join('\n'),
    );
  return `${out.join('\n\n')}\n`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A test CA, a server certificate it signs for 127.0.0.1 (EC P-256: quick to make), and a second, unrelated CA. */
function makeCerts(dir: string, run: (argv: string[]) => unknown): void {
  mkdirSync(dir, { mode: 0o700 });
  const f = (n: string) => path.join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string, cn: string) =>
    run([
      'openssl',
      'req',
      '-x509',
      ...ec,
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.pem`),
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  ca('ca', 'Calypso Test LDAP CA');
  ca('other-ca', 'Some Other CA');
  run([
    'openssl',
    'req',
    '-new',
    ...ec,
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ]);
  writeFileSync(
    f('ext.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  run([
    'openssl',
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.pem'),
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
  ]);
}

export interface SlapdLabOptions {
  parent?: string;
  /** a CA and a server certificate for 127.0.0.1 made with openssl under the lab's directory; ldaps too */
  tls?: boolean;
  users?: SlapdUser[];
  groups?: SlapdGroup[];
}

export async function startSlapdLab(o: SlapdLabOptions = {}): Promise<SlapdLab> {
  const { dir, cleanup } = tempDir('calypso-slapd-', o.parent);
  const users = o.users ?? SEED_USERS;
  const groups = o.groups ?? SEED_GROUPS;
  const bindPassword = 'bind-secret-1';
  const confDir = path.join(dir, 'slapd.d');
  mkdirSync(confDir, { mode: 0o700 });
  mkdirSync(path.join(dir, 'db'), { mode: 0o700 });
  writeFileSync(path.join(dir, 'config.ldif'), configLdif(dir, 'root-secret-1', !!o.tls), { mode: 0o600 });
  writeFileSync(path.join(dir, 'data.ldif'), dataLdif(bindPassword, users, groups), { mode: 0o600 });
  const run = (argv: string[]) =>
    execFileSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  let slapd: ChildProcess | undefined;
  let port = 0;
  let tlsPort = 0;
  let output = '';

  async function start(): Promise<void> {
    // -d 0: stay in the foreground (the test owns the process), no debug output
    const urls = [`ldap://127.0.0.1:${port}/`, ...(tlsPort ? [`ldaps://127.0.0.1:${tlsPort}/`] : [])];
    const child = spawn('slapd', ['-d', '0', '-h', urls.join(' '), '-F', confDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => {
      output = (output + String(d)).slice(-4000);
    });
    child.stderr?.on('data', (d) => {
      output = (output + String(d)).slice(-4000);
    });
    slapd = child;
    for (let i = 0; ; i++) {
      if (await accepts(port)) return;
      if (i > 100 || child.exitCode !== null)
        throw new Error(`slapd did not start on port ${port}: ${output.trim() || `exit ${child.exitCode}`}`);
      await sleep(100);
    }
  }

  async function kill(): Promise<void> {
    const child = slapd;
    slapd = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await Promise.race([gone, sleep(5000)]);
  }

  async function stop(): Promise<void> {
    await kill();
    cleanup();
  }

  try {
    if (o.tls) makeCerts(path.join(dir, 'tls'), run);
    run(['slapadd', '-n', '0', '-F', confDir, '-l', path.join(dir, 'config.ldif')]);
    run(['slapadd', '-n', '1', '-F', confDir, '-l', path.join(dir, 'data.ldif')]);
    run(['slaptest', '-Q', '-u', '-F', confDir]);
    port = await freePort();
    if (o.tls) tlsPort = await freePort();
    await start();
  } catch (e) {
    await stop();
    const err = e as Error & { stderr?: Buffer };
    throw new Error(`slapd lab: ${err.message}${err.stderr ? `: ${String(err.stderr).trim()}` : ''}`);
  }
  return {
    dir,
    port,
    uri: `ldap://127.0.0.1:${port}/`,
    suffix: SLAPD_SUFFIX,
    bindDn: `cn=calypso,ou=services,${SLAPD_SUFFIX}`,
    bindPassword,
    usersBase: `ou=people,${SLAPD_SUFFIX}`,
    groupsBase: `ou=groups,${SLAPD_SUFFIX}`,
    users,
    groups,
    ...(o.tls
      ? {
          tls: {
            uri: `ldaps://127.0.0.1:${tlsPort}/`,
            port: tlsPort,
            caFile: path.join(dir, 'tls/ca.pem'),
            wrongCaFile: path.join(dir, 'tls/other-ca.pem'),
          },
        }
      : {}),
    pid: () => slapd?.pid,
    kill,
    start,
    stop,
  };
}
