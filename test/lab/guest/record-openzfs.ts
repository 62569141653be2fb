/**
 * In the lab guest (not a test): records the OpenZFS 2.1 outputs the parser tests and test/zfs/fake-runner.ts read,
 * from the real zpool/zfs on the real kernel module. Pools are made of sparse files under /tmp (the guest's tmpfs),
 * named as the fake runner expects: `tank` (a mirror; datasets under tank/calypso, a zvol, an encrypted dataset,
 * snapshots, a clone, a held snapshot), `backup` (one file, altroot /mnt), `data` (raidz2 + special, logs, cache,
 * spare; one member removed). States are held still with the module's zfs_scan_suspend_progress tunable. Written
 * under OUT/zfs/openzfs-2.1.11-lab/ (scripts/lab/record-fixtures.sh copies it to test/fixtures/zfs/):
 *
 *   scripts/lab/run.sh -t 900 -x DIR -- node dist/test/lab/guest/record-openzfs.js /calypso-lab-run/export
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DATASET_COLUMNS, SNAPSHOT_COLUMNS } from '../../../agent/zfs/parse-zfs-list.js';
import { POOL_LIST_COLUMNS } from '../../../agent/zfs/parse-zpool-list.js';
import { assertInGuest, ok, sh } from './sh.js';

const out = path.join(path.resolve(process.argv[2] ?? '/calypso-lab-run/export'), 'zfs/openzfs-2.1.11-lab');
const D = '/tmp/zrec';
const SUSPEND = '/sys/module/zfs/parameters/zfs_scan_suspend_progress';
const recorded: string[] = [];

function put(name: string, text: string, cmd: string): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, name), text);
  recorded.push(`| ${name} | \`${cmd}\` |`);
  console.log(`recorded ${name} (${text.length} bytes)`);
}

/** Record argv's stdout (whatever its status: a failing command's stderr is what the parser sees then). */
async function rec(name: string, argv: string[], note = ''): Promise<string> {
  const r = await sh(argv, 300_000);
  const text = r.code === 0 ? r.stdout : r.stdout + r.stderr;
  put(name, text, argv.join(' ') + (note ? ` — ${note}` : ''));
  return text;
}

const zpool = (...a: string[]) => ok(['zpool', ...a], 300_000);
const zfs = (...a: string[]) => ok(['zfs', ...a], 300_000);
const status = (pool?: string) => ['zpool', 'status', '-v', '-P', '-p', ...(pool ? [pool] : [])];

async function until(what: string, check: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not reached within ${ms} ms`);
    await sleep(200);
  }
}
const statusHas = (pool: string, re: RegExp) =>
  until(`${pool} ${re}`, async () => re.test(await zpool('status', pool)));

/** Write `bytes` of a marker that compression cannot hide, so it can be found on the vdev files. */
function markerFile(file: string, marker: string, bytes: number): void {
  const unit = Buffer.from(`${marker}:`.padEnd(64, '#'));
  const buf = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 64) unit.copy(buf, i);
  writeFileSync(file, buf);
}

/** Overwrite every 4 KiB block of the vdev file that holds the marker: what a bad disk does to a file's data. */
async function corrupt(vdev: string, marker: string): Promise<number> {
  const data = readFileSync(vdev);
  const needle = Buffer.from(`${marker}:`);
  const blocks = new Set<number>();
  for (let i = data.indexOf(needle); i >= 0; i = data.indexOf(needle, i + 64)) blocks.add(i - (i % 4096));
  const fh = await open(vdev, 'r+');
  try {
    for (const b of blocks) await fh.write(Buffer.alloc(4096, 0x5a), 0, 4096, b);
  } finally {
    await fh.close();
  }
  if (!blocks.size) throw new Error(`marker ${marker} not found on ${vdev}`);
  return blocks.size;
}

async function fill(file: string, mib: number): Promise<void> {
  await ok(['dd', 'if=/dev/urandom', `of=${file}`, 'bs=1M', `count=${mib}`, 'status=none'], 300_000);
}

async function main(): Promise<void> {
  assertInGuest();
  await ok(['modprobe', 'zfs']);
  mkdirSync(D, { recursive: true });
  for (const f of ['t0', 't1', 't2', 'b0', 'r0', 'r1', 'r2', 'r3', 's0', 's1', 'l0', 'l1', 'c0', 'sp0'])
    await ok(['truncate', '-s', f.startsWith('t') ? '256M' : '128M', `${D}/${f}`]);
  try {
    await record();
  } finally {
    writeFileSync(SUSPEND, '0');
    for (const p of ['tank', 'backup', 'data']) await sh(['zpool', 'destroy', '-f', p]);
  }
}

async function record(): Promise<void> {
  await rec('zfs-version.txt', ['zfs', 'version']);
  // ---- tank: the datasets of the fake runner
  await zpool(
    'create',
    '-f',
    '-o',
    'ashift=12',
    '-O',
    'compression=lz4',
    'tank',
    'mirror',
    `${D}/t0`,
    `${D}/t1`,
  );
  await zpool('create', '-f', '-o', 'ashift=12', '-R', '/mnt', 'backup', `${D}/b0`);
  await zfs('create', '-o', 'mountpoint=/srv/calypso', 'tank/calypso');
  await zfs(
    'create',
    '-o',
    'recordsize=16K',
    '-o',
    'atime=off',
    '-o',
    'logbias=latency',
    '-o',
    'calypso:role=db',
    'tank/calypso/db',
  );
  await zfs('create', 'tank/calypso/shares');
  await zfs('create', 'tank/calypso/iscsi');
  await zfs('create', '-V', '64M', 'tank/calypso/iscsi/lun0');
  writeFileSync('/tmp/zrec.key', 'a passphrase of the lab\n');
  await zfs(
    'create',
    '-o',
    'encryption=on',
    '-o',
    'keyformat=passphrase',
    '-o',
    'keylocation=file:///tmp/zrec.key',
    'tank/calypso/secret',
  );
  await fill('/srv/calypso/db/base', 4);
  for (const h of ['0000', '0100', '0200', '0300']) {
    await fill(`/srv/calypso/db/wal-${h}`, 1);
    await fill(`/srv/calypso/shares/doc-${h}`, 1);
    await ok(['sync']);
    await zfs('snapshot', `tank/calypso/db@auto-20241109-${h}`, `tank/calypso/shares@auto-20241109-${h}`);
  }
  await zfs('hold', 'keep', 'tank/calypso/db@auto-20241109-0000', 'tank/calypso/shares@auto-20241109-0000');
  await zfs('clone', '-o', 'mountpoint=/tank/clone', 'tank/calypso/db@auto-20241109-0000', 'tank/clone');
  await ok(['sync']);
  const cols = DATASET_COLUMNS.join(',');
  await rec('zfs-list-Hp-datasets.txt', ['zfs', 'list', '-H', '-p', '-o', cols, '-t', 'filesystem,volume']);
  await rec('zfs-list-Hp-snapshots.txt', [
    'zfs',
    'list',
    '-H',
    '-p',
    '-t',
    'snapshot',
    '-o',
    SNAPSHOT_COLUMNS.join(','),
  ]);
  await rec('zfs-get-Hp-all.txt', [
    'zfs',
    'get',
    '-H',
    '-p',
    '-o',
    'name,property,value,source',
    'all',
    'tank/calypso/db',
  ]);
  await rec('zfs-get-Hp-volume.txt', [
    'zfs',
    'get',
    '-H',
    '-p',
    '-o',
    'name,property,value,source',
    'type,volsize,volblocksize,used,referenced',
    'tank/calypso/iscsi/lun0',
  ]);
  const enc = 'encryption,keystatus,keyformat,keylocation,encryptionroot';
  await rec('zfs-get-Hp-encryption.txt', [
    'zfs',
    'get',
    '-H',
    '-p',
    '-o',
    'name,property,value,source',
    enc,
    'tank/calypso/secret',
  ]);
  await zfs('unmount', 'tank/calypso/secret');
  await zfs('unload-key', 'tank/calypso/secret');
  await rec(
    'zfs-get-Hp-encryption-locked.txt',
    ['zfs', 'get', '-H', '-p', '-o', 'name,property,value,source', enc, 'tank/calypso/secret'],
    'after zfs unload-key',
  );
  await zfs('load-key', 'tank/calypso/secret');
  await zfs('mount', 'tank/calypso/secret');
  await rec('zfs-send-nvP-full.txt', ['zfs', 'send', '-nvP', 'tank/calypso/db@auto-20241109-0000']);
  await rec('zfs-send-nvP-incremental.txt', [
    'zfs',
    'send',
    '-nvP',
    '-i',
    'auto-20241109-0000',
    'tank/calypso/db@auto-20241109-0300',
  ]);
  // a receive cut after 1 MiB leaves a resume token
  await sh(
    [
      'sh',
      '-c',
      'zfs send tank/calypso/db@auto-20241109-0300 | head -c 1048576 | zfs receive -s backup/copy',
    ],
    300_000,
  );
  await rec('zfs-get-Hp-resume-token.txt', [
    'zfs',
    'get',
    '-H',
    '-p',
    '-o',
    'name,property,value,source',
    'receive_resume_token',
    'backup/copy',
    'tank/calypso/db',
  ]);
  const token = (await zfs('get', '-H', '-o', 'value', 'receive_resume_token', 'backup/copy')).trim();
  await rec('zfs-send-nvP-resume.txt', ['zfs', 'send', '-nvP', '-t', token], 'the token of the cut receive');
  await rec('zpool-list-Hp.txt', [
    'zpool',
    'list',
    '-H',
    '-p',
    '-o',
    [...POOL_LIST_COLUMNS, 'fragmentation', 'guid'].join(','),
  ]);
  await rec('zpool-get-Hp.txt', [
    'zpool',
    'get',
    '-H',
    '-p',
    '-o',
    'name,property,value,source',
    'all',
    'tank',
  ]);
  await rec(
    'zpool-iostat-Hp.txt',
    ['zpool', 'iostat', '-H', '-p', '-y', 'tank', 'backup', '1', '1'],
    'one 1 s sample',
  );

  // ---- scrub states, held still
  await zpool('scrub', 'tank');
  await zpool('wait', '-t', 'scrub', 'tank');
  await rec('zpool-status-online.txt', status('tank'), 'a finished scrub');
  await rec('zpool-status-two-pools.txt', status(), 'tank and backup');
  writeFileSync(SUSPEND, '1');
  await zpool('scrub', 'tank');
  await statusHas('tank', /scrub in progress/);
  await rec(
    'zpool-status-scrub-in-progress-2.1.txt',
    status('tank'),
    'scrub running (held by zfs_scan_suspend_progress)',
  );
  await zpool('scrub', '-p', 'tank');
  await statusHas('tank', /scrub paused/);
  await rec('zpool-status-scrub-paused.txt', status('tank'), 'after zpool scrub -p');
  await zpool('scrub', '-s', 'tank');
  await statusHas('tank', /scrub canceled/);
  await rec('zpool-status-scrub-canceled.txt', status('tank'), 'after zpool scrub -s');
  // ---- resilver: t1 replaced by t2
  await zpool('replace', 'tank', `${D}/t1`, `${D}/t2`);
  await statusHas('tank', /resilver in progress/);
  await rec(
    'zpool-status-resilver-in-progress.txt',
    status('tank'),
    `zpool replace tank ${D}/t1 ${D}/t2, held`,
  );
  writeFileSync(SUSPEND, '0');
  await zpool('wait', '-t', 'resilver,replace', 'tank');
  await rec('zpool-status-resilver-completed.txt', status('tank'), 'the resilver done');

  // ---- data: every vdev class, one raidz2 member gone; the import listing of it and of backup
  await zpool(
    'create',
    '-f',
    'data',
    'raidz2',
    ...['r0', 'r1', 'r2', 'r3'].map((f) => `${D}/${f}`),
    'special',
    'mirror',
    `${D}/s0`,
    `${D}/s1`,
    'log',
    'mirror',
    `${D}/l0`,
    `${D}/l1`,
    'cache',
    `${D}/c0`,
    'spare',
    `${D}/sp0`,
  );
  await zpool('export', 'data');
  await zpool('export', 'backup');
  renameSync(`${D}/r2`, '/tmp/zrec-r2.gone');
  await rec(
    'zpool-import-list.txt',
    ['zpool', 'import', '-d', D],
    'backup exported, data exported with r2 removed',
  );
  await zpool('import', '-d', D, 'data');
  await zpool('import', '-d', D, '-R', '/mnt', 'backup');
  await rec(
    'zpool-status-degraded-classes.txt',
    status('data'),
    'raidz2 with r2 missing; special, logs, cache, spares',
  );

  // ---- checksum errors: one file damaged on both sides of the mirror (permanent), one on one side (repaired)
  await zfs('create', '-o', 'compression=off', '-o', 'primarycache=metadata', 'tank/calypso/shares/alice');
  markerFile('/srv/calypso/shares/alice/report.pdf', 'CALYPSO-BOTH-SIDES', 256 << 10);
  markerFile('/srv/calypso/shares/alice/notes.txt', 'CALYPSO-ONE-SIDE', 256 << 10);
  await ok(['sync']);
  await zpool('export', 'tank');
  const n =
    (await corrupt(`${D}/t0`, 'CALYPSO-BOTH-SIDES')) + (await corrupt(`${D}/t2`, 'CALYPSO-BOTH-SIDES'));
  const m = await corrupt(`${D}/t0`, 'CALYPSO-ONE-SIDE');
  console.log(`damaged ${n} + ${m} blocks`);
  await zpool('import', '-d', D, 'tank');
  await sh(['cat', '/srv/calypso/shares/alice/report.pdf'], 60_000);
  await zpool('scrub', 'tank');
  await zpool('wait', '-t', 'scrub', 'tank');
  await rec('zpool-status-checksum-errors-p.txt', status('tank'), 'after the damage and a scrub');

  const kernel = (await ok(['uname', '-r'])).trim();
  const module = readFileSync('/sys/module/zfs/version', 'utf8').trim();
  put(
    'RECORDED.txt',
    `recorded: ${new Date().toISOString()} in the kernel lab (scripts/lab/record-fixtures.sh zfs)\nkernel: ${kernel}\nzfs module: ${module}\n\n${recorded.join('\n')}\n`,
    'this list',
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
