/**
 * npm run bench: every area's benchmark, each measuring its own baseline in the same run and
 * printing ratios. `npm run bench -- core zfs` runs only those areas.
 */
const AREAS: Record<string, { module: string; fn: string }> = {
  core: { module: './core.js', fn: 'benchCore' },
  hardware: { module: './hardware.js', fn: 'benchHardware' },
  zfs: { module: './zfs.js', fn: 'benchZfs' },
  backup: { module: './backup.js', fn: 'benchBackup' },
  cockpit: { module: './cockpit.js', fn: 'benchCockpit' },
  release: { module: './release.js', fn: 'benchRelease' },
  tape: { module: './tape.js', fn: 'benchTape' },
  object: { module: './object.js', fn: 'benchObject' },
  iscsi: { module: './iscsi.js', fn: 'benchIscsi' },
  'iscsi-lio': { module: './iscsi-lio.js', fn: 'benchIscsiLio' },
  alerts: { module: './alerts.js', fn: 'benchAlerts' },
  replication: { module: './replication.js', fn: 'benchReplication' },
  shares: { module: './shares.js', fn: 'benchShares' },
  abuse: { module: './abuse.js', fn: 'benchAbuse' },
  lab: { module: './lab.js', fn: 'benchLab' },
};

const wanted = process.argv.slice(2);
let failed = false;
for (const [area, { module, fn }] of Object.entries(AREAS)) {
  if (wanted.length && !wanted.includes(area)) continue;
  if (!wanted.length && area === 'lab') continue; // boots QEMU guests for minutes: only when named
  process.stdout.write(`\n## ${area}\n`);
  try {
    const mod = (await import(module)) as Record<string, () => Promise<Record<string, unknown>>>;
    const run = mod[fn];
    if (!run) throw new Error(`${module} has no ${fn}`);
    const results = await run();
    const width = Math.max(...Object.keys(results).map((k) => k.length));
    for (const [k, v] of Object.entries(results)) {
      const text = v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);
      process.stdout.write(`  ${k.padEnd(width)}  ${text}\n`);
    }
  } catch (err) {
    failed = true;
    process.stdout.write(`  FAILED: ${(err as Error).message}\n`);
  }
}
process.exit(failed ? 1 : 0);
