/**
 * The demo appliance's process (scripts/demo.mjs starts it as root under `unshare -m
 * --propagation private`): starts the sandbox (sandbox/appliance.ts), prints what it seeded and
 * how to reach it, and on SIGTERM, SIGINT or its parent's exit stops everything it started.
 *   node dist/sandbox/demo-main.js --prefix DIR --config FILE [--ui]
 */
import { startAppliance } from './appliance.js';
import { BACKUP_JOB } from './demo-backup.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const prefix = arg('--prefix');
const config = arg('--config');
if (!prefix || !config) {
  process.stderr.write('usage: demo-main --prefix DIR --config FILE [--ui]\n');
  process.exit(64);
}
const say = (s: string) => process.stderr.write(`${s}\n`);
const ctl = process.env.CALYPSO_DEMO_CTL ?? 'calypsoctl';

let stopping: Promise<void> | undefined;
let stopFn: (() => Promise<void>) | undefined;
const stop = (why: string) => {
  if (!stopping) {
    say(`demo: ${why}, stopping the appliance (pool, daemons, agent)`);
    stopping = (stopFn?.() ?? Promise.resolve()).then(() => {
      say('demo: stopped; nothing of it is left running');
      process.exit(0);
    });
  }
  return stopping;
};
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void stop(sig));
const parent = process.ppid;
setInterval(() => {
  try {
    process.kill(parent, 0);
  } catch {
    void stop('the demo exited');
  }
}, 250).unref();

try {
  const a = await startAppliance({ prefix, config, ui: process.argv.includes('--ui'), say });
  stopFn = a.stop;
  if (stopping) await stop('stopping');
  const c = `${ctl} --socket ${a.socket}`;
  say('');
  say('demo: ready. The appliance runs in a sandbox of its own (its zfs-fuse, tgtd, tape library,');
  say('      Bacula and Ceph, in a private mount namespace with no host disk in it):');
  if (a.pool) {
    say(`  pool ${a.pool} with datasets and snapshots:   $ ${c} pool list`);
    say(`                                                $ ${c} call snapshot.list`);
  }
  for (const m of a.missing) say(`  not shown: ${m}`);
  say(`  iSCSI targets:      $ ${c} call iscsi.target.list`);
  say(`  tape library:       $ ${c} call changer.status '{"changer":"library"}'`);
  say(`  alerts:             $ ${c} call alert.list`);
  const shows = (what: string) => !a.missing.some((m) => m.startsWith(`${what}:`));
  if (shows('backup')) say(`  a finished backup:  $ ${c} call backup.history '{"name":"${BACKUP_JOB}"}'`);
  if (shows('bucket')) say(`  a bucket:           $ ${c} call object.bucket.list`);
  if (a.url) {
    say(`  web UI:          ${a.url}/calypso  (Cockpit; no login: the session is this demo's user)`);
  }
  say('Stop with Ctrl-C (or SIGTERM): the pool is destroyed and every daemon stopped.');
} catch (e) {
  say(`demo: the sandbox did not start: ${(e as Error).message}`);
  await (stopFn?.() ?? Promise.resolve());
  process.exit(1);
}
