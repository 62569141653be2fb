/**
 * Renderers: a state using every resource kind (disk and tape storage, all job types) renders
 * into files that Bacula's own test modes accept (`bacula-dir -t`, `bacula-sd -t`,
 * `bacula-fd -t`, `bconsole -t`); quoting, redaction and the reference checks.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createCatalog } from '../../agent/backup/catalog.js';
import type { DesiredState } from '../../agent/backup/model.js';
import { DEFAULT_SETTINGS, emptyState } from '../../agent/backup/model.js';
import { baculaPaths } from '../../agent/backup/paths.js';
import { checkState, referencesTo, renderAll } from '../../agent/backup/render.js';
import { q, type RenderSecrets, redact } from '../../agent/backup/render-common.js';
import { createLayout } from '../../agent/layout.js';
import { createRunner } from '../../agent/runner.js';
import { tempDir } from '../helpers/paths.js';

const secrets: RenderSecrets = {
  dir: 'dir-secret-123456',
  sd: 'sd-secret-123456',
  fd: 'fd-secret-123456',
  clients: { 'web-1': 'web-secret-123456' },
};

export function richState(root: string): DesiredState {
  return {
    settings: { ...DEFAULT_SETTINGS, dirPort: 29101, fdPort: 29102, sdPort: 29103 },
    clients: [
      {
        name: 'web-1',
        address: 'web-1.example.net',
        port: 9102,
        fileRetentionDays: 30,
        jobRetentionDays: 90,
        autoPrune: true,
        maxConcurrentJobs: 2,
      },
    ],
    filesets: [
      {
        name: 'web',
        include: [`${root}/var/www`, `${root}/home/a b/naïve`],
        exclude: [`${root}/var/www/cache`],
        excludePatterns: ['*.tmp', '*.swp'],
        signature: 'SHA1',
        compression: 'GZIP6',
        sparse: true,
        oneFs: false,
        hardLinks: true,
        acl: true,
        xattr: true,
        noAtime: true,
      },
    ],
    schedules: [
      {
        name: 'nightly',
        enabled: true,
        runs: [
          { level: 'Full', pool: 'weekly', when: '1st sun at 02:00' },
          { level: 'Incremental', when: 'mon-sat at 23:05' },
        ],
      },
    ],
    pools: [
      {
        name: 'daily',
        kind: 'disk',
        storage: 'vault',
        volumeRetentionDays: 14,
        recycle: true,
        autoPrune: true,
        maxVolumeBytes: 5e9,
      },
      {
        name: 'weekly',
        kind: 'disk',
        storage: 'vault',
        volumeRetentionDays: 60,
        recycle: true,
        autoPrune: true,
        nextPool: 'tapes',
      },
      {
        name: 'tapes',
        kind: 'tape',
        storage: 'lib',
        volumeRetentionDays: 365,
        recycle: true,
        autoPrune: true,
        scratchPool: 'Scratch',
      },
    ],
    storages: [
      { name: 'vault', type: 'disk', devices: 3, maxConcurrentJobs: 6, path: `${root}/srv/vault` },
      {
        name: 'lib',
        type: 'tape',
        mediaType: 'LTO-8',
        changerDevice: '/dev/tape/by-id/scsi-3500110a00000000-changer',
        drives: [
          { device: '/dev/tape/by-id/scsi-3500110a00000001-nst', index: 0 },
          { device: '/dev/tape/by-id/scsi-3500110a00000002-nst', index: 1 },
        ],
        maxConcurrentJobs: 2,
      },
    ],
    jobs: [
      {
        name: 'web-backup',
        type: 'backup',
        client: 'web-1',
        fileset: 'web',
        schedule: 'nightly',
        pool: 'daily',
        fullPool: 'weekly',
        priority: 10,
        accurate: true,
        spoolAttributes: true,
        enabled: true,
        maxBandwidth: 50_000_000,
      },
      {
        name: 'web-verify',
        type: 'verify',
        client: 'web-1',
        fileset: 'web',
        pool: 'daily',
        verifyJob: 'web-backup',
        priority: 12,
        accurate: false,
        spoolAttributes: true,
        enabled: true,
      },
      {
        name: 'to-tape',
        type: 'copy',
        pool: 'weekly',
        selection: 'PoolUncopiedJobs',
        priority: 20,
        accurate: false,
        spoolAttributes: true,
        enabled: true,
      },
      {
        name: 'migrate-old',
        type: 'migrate',
        pool: 'daily',
        nextPool: 'weekly',
        selection: 'OldestVolume',
        priority: 20,
        accurate: false,
        spoolAttributes: true,
        enabled: false,
      },
      {
        name: 'web-restore',
        type: 'restore',
        client: 'web-1',
        fileset: 'web',
        pool: 'daily',
        storage: 'vault',
        where: `${root}/restores`,
        priority: 10,
        accurate: false,
        spoolAttributes: true,
        enabled: true,
      },
    ],
  };
}

describe('bacula config renderers', () => {
  const tmp = tempDir('calypso-render-');
  after(() => tmp.cleanup());
  const paths = baculaPaths(createLayout(tmp.dir));

  it('quotes strings the way Bacula’s lexer reads them and refuses control characters', () => {
    assert.equal(q('a b'), '"a b"');
    assert.equal(q('say "hi" \\ bye'), '"say \\"hi\\" \\\\ bye"');
    assert.throws(() => q('line\nbreak'), /control character/);
  });

  it('redacts every password in rendered text', () => {
    const files = renderAll(richState(tmp.dir), secrets, paths);
    const all = [...files.values()].join('\n');
    assert.ok(all.includes('web-secret-123456'));
    const red = redact(all);
    for (const s of [secrets.dir, secrets.sd, secrets.fd, secrets.clients['web-1']!])
      assert.ok(!red.includes(s), s);
    assert.ok(red.includes('Password = "********"'));
  });

  it('renders a configuration that bacula-dir, bacula-sd, bacula-fd and bconsole accept', async () => {
    const runner = createRunner();
    const files = renderAll(richState(tmp.dir), secrets, paths);
    for (const [rel, text] of files) {
      mkdirSync(path.dirname(path.join(paths.confDir, rel)), { recursive: true });
      writeFileSync(path.join(paths.confDir, rel), text);
    }
    for (const d of [paths.dirWorkDir, paths.workDir, paths.pidDir]) mkdirSync(d, { recursive: true });
    await createCatalog(runner, paths.catalogDb);
    for (const [bin, conf] of [
      ['bacula-dir', paths.dirConf],
      ['bacula-sd', paths.sdConf],
      ['bacula-fd', paths.fdConf],
      ['bconsole', paths.bconsoleConf],
    ] as const) {
      const r = await runner.run([bin, '-t', '-c', conf], { okCodes: [0, 1] });
      assert.equal(r.code, 0, `${bin}: ${r.stdout}${r.stderr}`);
    }
    const dir = files.get('dir.d/filesets.conf')!;
    assert.match(dir, /File = ".*\/home\/a b\/naïve"/);
    assert.match(dir, /WildFile = "\*\.tmp"/);
    const sd = files.get('sd.d/devices.conf')!;
    assert.match(sd, /Autochanger \{\n {2}Name = "lib"\n {2}Device = "lib-drive0", "lib-drive1"/);
    assert.match(sd, /Changer Command = "\/etc\/bacula\/scripts\/mtx-changer %c %o %S %a %d"/);
    assert.equal((sd.match(/Archive Device = ".*\/srv\/vault"/g) ?? []).length, 3);
  });

  it('an empty desired state is a valid configuration too (builtin storage, pools and jobs)', async () => {
    const runner = createRunner();
    const t2 = tempDir('calypso-render-empty-');
    try {
      const p = baculaPaths(createLayout(t2.dir));
      for (const [rel, text] of renderAll(emptyState(), secrets, p)) {
        mkdirSync(path.dirname(path.join(p.confDir, rel)), { recursive: true });
        writeFileSync(path.join(p.confDir, rel), text);
      }
      mkdirSync(p.dirWorkDir, { recursive: true });
      await createCatalog(runner, p.catalogDb);
      const r = await runner.run(['bacula-dir', '-t', '-c', p.dirConf], { okCodes: [0, 1] });
      assert.equal(r.code, 0, r.stdout);
    } finally {
      t2.cleanup();
    }
  });

  it('finds dangling references, reserved names and misuse before Bacula does', () => {
    const s = richState(tmp.dir);
    assert.deepEqual(checkState(s), []);
    const broken: DesiredState = {
      ...s,
      jobs: [
        ...s.jobs,
        {
          name: 'bad',
          type: 'backup',
          client: 'ghost',
          fileset: 'web',
          pool: 'nopool',
          priority: 10,
          accurate: false,
          spoolAttributes: true,
          enabled: true,
        },
        {
          name: 'scratchy',
          type: 'backup',
          client: 'web-1',
          fileset: 'web',
          pool: 'Scratch',
          storage: 'vault',
          priority: 10,
          accurate: false,
          spoolAttributes: true,
          enabled: true,
        },
      ],
      pools: [
        ...s.pools,
        { name: 'Scratch', kind: 'tape', volumeRetentionDays: 1, recycle: true, autoPrune: true },
      ],
    };
    const j = { priority: 10, accurate: false, spoolAttributes: true, enabled: true } as const;
    broken.jobs.push(
      {
        ...j,
        name: 'v-level',
        type: 'verify',
        level: 'Full',
        client: 'web-1',
        fileset: 'web',
        pool: 'daily',
      },
      {
        ...j,
        name: 'b-level',
        type: 'backup',
        level: 'DiskToCatalog',
        client: 'web-1',
        fileset: 'web',
        pool: 'daily',
      },
      {
        ...j,
        name: 'v-of-v',
        type: 'verify',
        verifyJob: 'web-verify',
        client: 'web-1',
        fileset: 'web',
        pool: 'daily',
      },
      { ...j, name: 'c-bare', type: 'copy', pool: 'daily' },
    );
    const msgs = checkState(broken).map((p) => `${p.kind} ${p.name}: ${p.message}`);
    assert.ok(msgs.includes('job bad: client "ghost" does not exist'), msgs.join('\n'));
    assert.ok(msgs.includes('job bad: pool "nopool" does not exist'));
    assert.ok(msgs.some((m) => m.startsWith('job scratchy: the Scratch pool')));
    assert.ok(msgs.includes('pool Scratch: name is reserved'));
    assert.ok(
      msgs.some((m) => m.startsWith("job v-level: a verify job's level is VolumeToCatalog")),
      msgs.join('\n'),
    );
    assert.ok(msgs.includes('job b-level: DiskToCatalog is a verify level; this is a backup job'));
    assert.ok(msgs.some((m) => m.startsWith('job v-of-v: verify job "web-verify" is a verify job')));
    assert.ok(msgs.some((m) => m.startsWith('job c-bare: a copy job needs a selection')));
    assert.ok(msgs.some((m) => m.startsWith('job c-bare: a copy job needs a next pool')));
  });

  it('lists what refers to an object', () => {
    const s = richState(tmp.dir);
    assert.deepEqual(
      referencesTo(s, 'pool', 'weekly').sort(),
      ['job to-tape', 'job web-backup', 'job migrate-old', 'schedule nightly'].sort(),
    );
    assert.deepEqual(referencesTo(s, 'storage', 'lib'), ['pool tapes']);
    assert.deepEqual(referencesTo(s, 'client', 'web-1').sort(), [
      'job web-backup',
      'job web-restore',
      'job web-verify',
    ]);
    assert.deepEqual(referencesTo(s, 'fileset', 'nope'), []);
  });
});
