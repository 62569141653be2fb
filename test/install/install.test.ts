/**
 * `calypso-agent install` under a temp prefix: exactly the layout of docs/design.md ("Filesystem
 * domains") plus the distribution integration files, with the right modes (and owners, when the
 * test runs as root); a second run changes nothing; the unit passes `systemd-analyze verify` and
 * the logrotate file `logrotate --debug`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { checkPrefixAgrees } from '../../agent/install/index.js';
import { install } from '../../agent/install/install.js';
import { createRunner } from '../../agent/runner.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { makeTinyRelease } from '../release/helpers.js';

const tmp = tempDir('calypso-install-');
after(() => tmp.cleanup());
const runner = createRunner();
const isRoot = process.getuid?.() === 0;
// As root the ownership step is exercised with stand-in ids (the host has no calypso group and
// a test must not create one); unprivileged, files keep the caller's ids.
const CALYPSO_GID = 4242;
const ids = { groups: { calypso: CALYPSO_GID } };

/**
 * docs/design.md's filesystem domains, spelled out independently of the layout module, with the
 * owners and modes docs/install.md documents. `g` is the group (the owner is always root).
 */
const EXPECTED: Record<string, { type: 'd' | 'f' | 'l'; mode?: number; g?: 'root' | 'calypso' }> = {
  opt: { type: 'd', mode: 0o755 },
  'opt/adastra': { type: 'd', mode: 0o755, g: 'root' },
  'opt/adastra/calypso': { type: 'd', mode: 0o755, g: 'root' },
  'opt/adastra/calypso/releases': { type: 'd', mode: 0o755, g: 'root' },
  'opt/adastra/calypso/third_party': { type: 'd', mode: 0o755, g: 'root' },
  etc: { type: 'd', mode: 0o755 },
  'etc/calypso': { type: 'd', mode: 0o750, g: 'calypso' },
  'etc/calypso/calypso.yaml': { type: 'f', mode: 0o640, g: 'calypso' },
  'etc/calypso/secrets.env': { type: 'f', mode: 0o600, g: 'root' },
  'etc/calypso/tls': { type: 'd', mode: 0o750, g: 'calypso' },
  'etc/calypso/tls/cert.pem': { type: 'f', mode: 0o644, g: 'calypso' },
  'etc/calypso/tls/key.pem': { type: 'f', mode: 0o600, g: 'root' },
  'etc/calypso/integrations': { type: 'd', mode: 0o750, g: 'calypso' },
  'etc/calypso/system': { type: 'd', mode: 0o750, g: 'root' },
  srv: { type: 'd', mode: 0o755 },
  'srv/calypso': { type: 'd', mode: 0o755, g: 'root' },
  'srv/calypso/db': { type: 'd', mode: 0o700, g: 'root' },
  'srv/calypso/backups': { type: 'd', mode: 0o750, g: 'root' },
  'srv/calypso/object': { type: 'd', mode: 0o750, g: 'root' },
  'srv/calypso/shares': { type: 'd', mode: 0o755, g: 'root' },
  'srv/calypso/vtl': { type: 'd', mode: 0o750, g: 'root' },
  'srv/calypso/iscsi': { type: 'd', mode: 0o750, g: 'root' },
  'srv/calypso/uploads': { type: 'd', mode: 0o750, g: 'root' },
  'srv/calypso/cache': { type: 'd', mode: 0o750, g: 'root' },
  'srv/calypso/_system': { type: 'd', mode: 0o700, g: 'root' },
  var: { type: 'd', mode: 0o755 },
  'var/log': { type: 'd', mode: 0o755 },
  'var/log/calypso': { type: 'd', mode: 0o750, g: 'root' },
  'var/lib': { type: 'd', mode: 0o755 },
  'var/lib/calypso': { type: 'd', mode: 0o700, g: 'root' },
  'var/lib/calypso/state': { type: 'd', mode: 0o700, g: 'root' },
  run: { type: 'd', mode: 0o755 },
  'run/calypso': { type: 'd', mode: 0o755, g: 'root' },
  // distribution integration
  'etc/systemd': { type: 'd', mode: 0o755 },
  'etc/systemd/system': { type: 'd', mode: 0o755 },
  'etc/systemd/system/calypso-agent.service': { type: 'f', mode: 0o644, g: 'root' },
  'etc/logrotate.d': { type: 'd', mode: 0o755 },
  'etc/logrotate.d/calypso': { type: 'f', mode: 0o644, g: 'root' },
  'etc/udev': { type: 'd', mode: 0o755 },
  'etc/udev/rules.d': { type: 'd', mode: 0o755 },
  usr: { type: 'd', mode: 0o755 },
  'usr/local': { type: 'd', mode: 0o755 },
  'usr/local/bin': { type: 'd', mode: 0o755 },
  'usr/share': { type: 'd', mode: 0o755 },
  'usr/share/cockpit': { type: 'd', mode: 0o755 },
};

function walk(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    out.push(r);
    if (e.isDirectory()) out.push(...walk(root, r));
  }
  return out;
}

/** Everything observable about a tree: types, modes, owners, sizes, mtimes, contents, link targets. */
function snapshot(root: string): Record<string, string> {
  const snap: Record<string, string> = {};
  for (const r of walk(root)) {
    const p = path.join(root, r);
    const st = lstatSync(p);
    let extra = '';
    if (st.isFile()) extra = createHash('sha256').update(readFileSync(p)).digest('hex');
    else if (st.isSymbolicLink()) extra = readlinkSync(p);
    snap[r] = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs} ${extra}`;
  }
  return snap;
}

describe('install under a prefix', () => {
  const prefix = path.join(tmp.dir, 'root');
  const sourceRoot = path.join(tmp.dir, 'src');

  it('lays out exactly the docs/design.md domains with their modes and owners', async () => {
    // A source tree with a udev rule and a built Cockpit plugin, so that both are installed.
    const root = repoRoot();
    for (const d of ['packaging/systemd', 'packaging/logrotate', 'udev', 'cockpit/dist']) {
      spawnSync('mkdir', ['-p', path.join(sourceRoot, d)]);
    }
    for (const f of ['packaging/systemd/calypso-agent.service.in', 'packaging/logrotate/calypso.in']) {
      writeFileSync(path.join(sourceRoot, f), readFileSync(path.join(root, f)));
    }
    writeFileSync(path.join(sourceRoot, 'udev/60-calypso-test.rules'), '# test rule\n');
    writeFileSync(path.join(sourceRoot, 'cockpit/dist/manifest.json'), '{"version":0}\n');

    const report = await install({
      prefix,
      runner,
      release: false,
      sourceRoot,
      ids,
      hostname: 'calypso-test',
    });
    assert.ok(
      report.accounts.every((a) => a.action === 'skipped-prefix'),
      'no account is created under a prefix',
    );
    assert.deepEqual(
      report.accounts.map((a) => `${a.kind}:${a.name}`),
      ['group:calypso', 'group:calypso-admin', 'group:calypso-operator', 'user:calypso'],
    );
    const expected = {
      ...EXPECTED,
      'etc/udev/rules.d/60-calypso-test.rules': { type: 'f', mode: 0o644, g: 'root' },
      'usr/share/cockpit/calypso': { type: 'd', mode: 0o755, g: 'root' },
      'usr/share/cockpit/calypso/manifest.json': { type: 'f', mode: 0o644, g: 'root' },
    } as typeof EXPECTED;
    assert.deepEqual(walk(prefix).sort(), Object.keys(expected).sort(), 'exactly the expected entries');
    for (const [rel, want] of Object.entries(expected)) {
      const st = lstatSync(path.join(prefix, rel));
      const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'f';
      assert.equal(type, want.type, rel);
      if (want.mode !== undefined)
        assert.equal((st.mode & 0o7777).toString(8), want.mode.toString(8), `mode of ${rel}`);
      assert.equal(st.uid, process.getuid?.(), `owner of ${rel}`);
      if (isRoot && want.g) assert.equal(st.gid, want.g === 'calypso' ? CALYPSO_GID : 0, `group of ${rel}`);
    }
    const secrets = readFileSync(path.join(prefix, 'etc/calypso/secrets.env'), 'utf8');
    assert.match(secrets, /^BACULA_DIR_PASSWORD=[A-Za-z0-9_-]{43}$/m);
    const cert = spawnSync(
      'openssl',
      [
        'x509',
        '-noout',
        '-subject',
        '-ext',
        'subjectAltName',
        '-in',
        path.join(prefix, 'etc/calypso/tls/cert.pem'),
      ],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(cert.status, 0, cert.stderr);
    assert.match(cert.stdout, /CN = calypso-test/);
    assert.match(cert.stdout, /DNS:localhost/);
  });

  it('changes nothing when run again', async () => {
    const before = snapshot(prefix);
    const report = await install({
      prefix,
      runner,
      release: false,
      sourceRoot,
      ids,
      hostname: 'calypso-test',
    });
    assert.deepEqual(report.changes, []);
    assert.deepEqual(snapshot(prefix), before);
  });

  it('repairs modes, keeps edited config and secrets, and adds only missing secrets', async () => {
    const cfg = path.join(prefix, 'etc/calypso/calypso.yaml');
    const sec = path.join(prefix, 'etc/calypso/secrets.env');
    writeFileSync(cfg, 'log:\n  level: debug\n');
    const kept = readFileSync(sec, 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('MINIO_ROOT_PASSWORD'))
      .join('\n');
    writeFileSync(sec, kept);
    chmodSync(sec, 0o644);
    chmodSync(path.join(prefix, 'srv/calypso/db'), 0o777);
    const report = await install({
      prefix,
      runner,
      release: false,
      sourceRoot,
      ids,
      hostname: 'calypso-test',
    });
    assert.equal(readFileSync(cfg, 'utf8'), 'log:\n  level: debug\n');
    const now = readFileSync(sec, 'utf8');
    assert.ok(now.startsWith(kept.trimEnd()), 'existing secrets kept verbatim');
    assert.match(now, /^MINIO_ROOT_PASSWORD=/m);
    assert.equal(statSync(sec).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(prefix, 'srv/calypso/db')).mode & 0o777, 0o700);
    assert.deepEqual(report.changes.map((c) => `${c.action} ${path.relative(prefix, c.path)}`).sort(), [
      'chmod srv/calypso/db',
      'write etc/calypso/secrets.env',
    ]);
  });

  it('a dry run lists the changes and makes none', async () => {
    const p = path.join(tmp.dir, 'dry');
    const report = await install({ prefix: p, runner, release: false, sourceRoot, dryRun: true });
    assert.equal(report.dryRun, true);
    assert.ok(report.changes.some((c) => c.path === path.join(p, 'etc/calypso/calypso.yaml')));
    assert.ok(report.changes.some((c) => /self-signed/.test(c.detail ?? '')));
    assert.throws(() => readdirSync(p), /ENOENT/);
  });
});

describe('install from a release', () => {
  it('places the release, points current at it and links the Cockpit plugin into it', async () => {
    const prefix = path.join(tmp.dir, 'withrel');
    const rel = path.join(tmp.dir, 'calypso-5.0.0');
    await makeTinyRelease(rel, '5.0.0');
    const root = repoRoot();
    const r1 = await install({ prefix, runner, release: rel, sourceRoot: root, hostname: 'calypso-test' });
    assert.deepEqual(r1.release, { version: '5.0.0', activated: true, current: '5.0.0' });
    assert.equal(readlinkSync(path.join(prefix, 'opt/adastra/calypso/current')), 'releases/5.0.0');
    const r2 = await install({ prefix, runner, release: rel, sourceRoot: root, hostname: 'calypso-test' });
    assert.deepEqual(r2.changes, [], 'idempotent with a release too');
  });

  it('puts calypsoctl on PATH: /usr/local/bin/calypsoctl links into current and follows an upgrade', async () => {
    const prefix = path.join(tmp.dir, 'onpath');
    // the same self-locating line as the release launchers (scripts/release.mjs)
    const ctl = (v: string) =>
      `#!/bin/sh\nhere=$(dirname "$(readlink -f "$0")")\necho "calypsoctl ${v} from $here $*"\n`;
    const rel = path.join(tmp.dir, 'calypso-6.0.0');
    await makeTinyRelease(rel, '6.0.0', undefined, { calypsoctl: ctl('6.0.0') });
    const opts = { prefix, runner, sourceRoot: repoRoot(), hostname: 'calypso-test' };
    const dry = await install({ ...opts, release: rel, dryRun: true });
    const link = path.join(prefix, 'usr/local/bin/calypsoctl');
    assert.ok(
      dry.changes.some((c) => c.path === link && c.action === 'symlink'),
      'the dry run lists the link',
    );
    await install({ ...opts, release: rel });
    assert.equal(readlinkSync(link), '../../../opt/adastra/calypso/current/bin/calypsoctl');
    const run = () =>
      spawnSync('sh', ['-c', 'calypsoctl ping'], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${path.dirname(link)}:/usr/bin:/bin` },
      });
    const r = run();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      `calypsoctl 6.0.0 from ${path.join(prefix, 'opt/adastra/calypso/releases/6.0.0/bin')} ping\n`,
    );
    // a newer release made current: the same link runs it
    const rel2 = path.join(tmp.dir, 'calypso-6.1.0');
    await makeTinyRelease(rel2, '6.1.0', undefined, { calypsoctl: ctl('6.1.0') });
    const again = await install({ ...opts, release: rel2, activate: true });
    assert.ok(!again.changes.some((c) => c.path === link), 'the link itself is unchanged');
    assert.match(run().stdout, /^calypsoctl 6\.1\.0 from .*releases\/6\.1\.0\/bin ping$/m);
  });

  it('leaves a calypsoctl that is not a link alone, and says so', async () => {
    const prefix = path.join(tmp.dir, 'occupied');
    const rel = path.join(tmp.dir, 'calypso-7.0.0');
    await makeTinyRelease(rel, '7.0.0', undefined, { calypsoctl: '#!/bin/sh\necho new\n' });
    const bin = path.join(prefix, 'usr/local/bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'calypsoctl'), '#!/bin/sh\necho mine\n', { mode: 0o755 });
    const r = await install({
      prefix,
      runner,
      release: rel,
      sourceRoot: repoRoot(),
      hostname: 'calypso-test',
    });
    assert.equal(readFileSync(path.join(bin, 'calypsoctl'), 'utf8'), '#!/bin/sh\necho mine\n');
    assert.ok(
      r.notes.some((n) => /calypsoctl: exists and is not a link; left alone/.test(n)),
      r.notes.join('\n'),
    );
  });

  it('writes a unit that systemd-analyze verify and a logrotate file that logrotate accept', async () => {
    const prefix = path.join(tmp.dir, 'withrel');
    const unit = path.join(prefix, 'etc/systemd/system/calypso-agent.service');
    const text = readFileSync(unit, 'utf8');
    assert.match(
      text,
      new RegExp(
        `^ExecStart=${prefix}/opt/adastra/calypso/current/bin/calypso-agent --prefix ${prefix} --quiet$`,
        'm',
      ),
    );
    for (const d of [
      'RuntimeDirectory=calypso',
      'StateDirectory=calypso',
      'LogsDirectory=calypso',
      'NoNewPrivileges=yes',
      'ProtectClock=yes',
    ]) {
      assert.ok(text.includes(`\n${d}\n`), d);
    }
    const v = spawnSync('systemd-analyze', ['verify', '--man=no', unit], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
    // verify only warns (exit 0) about unknown keys and bad values: any output is a failure.
    assert.equal(`${v.stdout}${v.stderr}`.trim(), '');
    const lr = spawnSync(
      'logrotate',
      ['--debug', '--state', path.join(tmp.dir, 'lr.state'), path.join(prefix, 'etc/logrotate.d/calypso')],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(lr.status, 0, lr.stderr);
    assert.doesNotMatch(lr.stderr, /error/i);
    assert.match(lr.stderr, new RegExp(`rotating pattern: ${prefix}/var/log/calypso/upgrade.log`));
  });

  it('systemd-analyze verify catches a broken unit (the check can fail)', () => {
    const bad = path.join(tmp.dir, 'bad.service');
    writeFileSync(bad, '[Service]\nExecStart=/nonexistent/calypso-agent\nProtectClok=yes\n');
    const v = spawnSync('systemd-analyze', ['verify', '--man=no', bad], { encoding: 'utf8' });
    assert.ok(v.status !== 0 || `${v.stdout}${v.stderr}`.trim() !== '');
  });
});

describe('install command line', () => {
  it('refuses when the command line names another prefix than the one it was given', () => {
    assert.throws(
      () => checkPrefixAgrees('/', ['node', 'main.js', 'install', '--prefix', '/tmp/x']),
      /refusing/,
    );
    assert.throws(
      () => checkPrefixAgrees('/', ['node', 'main.js', 'install', '--prefix=/tmp/x']),
      /refusing/,
    );
    assert.doesNotThrow(() =>
      checkPrefixAgrees('/tmp/x', ['node', 'main.js', 'install', '--prefix', '/tmp/x/']),
    );
    assert.doesNotThrow(() => checkPrefixAgrees('/', ['node', 'main.js', 'install']));
  });
});
