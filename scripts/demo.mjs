#!/usr/bin/env node
// npm run demo: the agent in the foreground under ./.demo (or $CALYPSO_DEMO_PREFIX), with its
// embedded LMDB state, and the calypsoctl commands to try it, printed so they run as printed.
//
// Safe as root: the demo runs the agent as an unprivileged user (nobody, through setpriv), so
// it cannot drive the host's real ZFS, Bacula or iSCSI: those tools refuse it and the agent
// reports them unavailable (`calypsoctl capabilities` says why). We chose this over a flag that
// lets the demo run as root because a quick start is what people run first, often as root on a
// fresh appliance, and a demo that could create or destroy pools on the host is one typo from
// damage. Trying the real storage stack is what an install is for (README, "Install on an appliance").
//
// It installs npm dependencies on first use and builds only when a source is newer than the
// build (make-style), with the output of both in .demo/setup.log, not on the screen. A SIGTERM or
// SIGINT to the demo (npm forwards them) stops the agent, and the agent also dies with the demo
// if the demo is killed outright (setpriv --pdeathsig).
import { spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { upToDate } from './demo-build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const prefix = path.resolve(process.env.CALYPSO_DEMO_PREFIX ?? path.join(root, '.demo'));
const log = path.join(prefix, 'setup.log');
const say = (s = '') => process.stderr.write(`${s}\n`);
const NOBODY = { uid: 65534, gid: 65534, name: 'nobody' };

mkdirSync(prefix, { recursive: true });

/** Run a setup step with its output in setup.log; on failure show the end of the log. */
function step(what, cmd, args) {
  say(`${what}… (output in ${path.relative(process.cwd(), log) || log})`);
  const fd = openSync(log, 'a');
  writeFileSync(fd, `\n== ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (r.status !== 0) {
    say(`${what} failed (exit ${r.status ?? r.signal}); the end of ${log}:`);
    say(readFileSync(log, 'utf8').trim().split('\n').slice(-25).join('\n'));
    process.exit(r.status || 1);
  }
}

if (!existsSync(path.join(root, 'node_modules/.package-lock.json')))
  step('installing npm dependencies and building the native addons', 'npm', ['ci']);
// CALYPSO_DEMO_NO_BUILD: the demo's test runs right after the suite's own build, in a checkout
// others may be building too; it must not rebuild dist/ under them.
if (process.env.CALYPSO_DEMO_NO_BUILD === '1') say('build: skipped (CALYPSO_DEMO_NO_BUILD=1)');
else if (upToDate(root)) say('build: up to date');
else step('building', process.execPath, ['scripts/build.mjs']);

const config = path.join(prefix, 'etc/calypso/calypso.yaml');
if (!existsSync(config)) {
  mkdirSync(path.dirname(config), { recursive: true });
  writeFileSync(
    config,
    '# demo configuration: see docs/configuration.md\nagent:\n  socket:\n    mode: "0600"\n  websocket:\n    port: 8787\nlog:\n  level: info\n',
  );
}

// The WebSocket's port: the configured one (8787) when it is free, else a free port the kernel
// picks, printed, so that a second demo or an agent already on 8787 does not stop this one. The
// demo's calypso.yaml is left as the user wrote it: the agent reads a copy with the other port.
const ui = process.argv.includes('--ui');
const noSandbox = process.argv.includes('--no-sandbox');
const extraArgs = process.argv.slice(2).filter((a) => a !== '--ui' && a !== '--no-sandbox');
let configArgs = [];
if (!extraArgs.includes('--config')) {
  const { parseDocument } = await import('yaml');
  const doc = parseDocument(readFileSync(config, 'utf8'));
  const enabled = doc.getIn(['agent', 'websocket', 'enabled']) !== false;
  const host = doc.getIn(['agent', 'websocket', 'host']) ?? '127.0.0.1';
  const port = doc.getIn(['agent', 'websocket', 'port']) ?? 8787;
  if (enabled && port !== 0 && !(await portFree(host, port))) {
    const free = await freePort(host);
    doc.setIn(['agent', 'websocket', 'port'], free);
    const copy = path.join(path.dirname(config), 'calypso.demo-port.yaml');
    writeFileSync(
      copy,
      `# written by npm run demo: ${path.basename(config)} with the WebSocket on a free port\n${doc}`,
    );
    configArgs = ['--config', copy];
    say(`port ${port} is in use (another agent?): the demo's WebSocket takes port ${free} instead`);
    say(`  websocket: ws://${host}:${free}/rpc`);
  }
}

/** Whether a TCP port can be bound on `host` now. */
function portFree(host, port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** A port the kernel picks as free on `host`. */
function freePort(host) {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const isRoot = process.getuid?.() === 0;
const onPath = (tool) =>
  ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => existsSync(path.join(d, tool)));
const ctlBase = `${process.execPath} ${path.join(root, 'dist/cli/main.js')}`;

// The sandbox: as root with unshare and the storage tools, the demo is a working appliance (its
// own zfs-fuse, tgtd and tape library in a private mount namespace with no host disk in it; see
// sandbox/appliance.ts and docs/demo.md). Otherwise the agent runs unprivileged and shows the API.
const sandboxTools = ['zfs-fuse', 'tgtd'].filter(onPath);
let why = '';
if (noSandbox) why = '--no-sandbox';
else if (!isRoot) why = 'not root: the sandbox needs root to run its own zfs-fuse, tgtd and mounts';
else if (!onPath('unshare') || !onPath('mount')) why = 'unshare or mount (util-linux) is missing';
else if (sandboxTools.length === 0)
  why = 'neither zfs-fuse nor tgt is installed (apt-get install zfs-fuse tgt mtx)';
if (!why) {
  const configFile = extraArgs.includes('--config')
    ? extraArgs[extraArgs.indexOf('--config') + 1]
    : (configArgs[1] ?? config);
  const inner = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      process.execPath,
      path.join(root, 'dist/sandbox/demo-main.js'),
      '--prefix',
      prefix,
      '--config',
      configFile,
      ...(ui ? ['--ui'] : []),
    ],
    { stdio: 'inherit', env: { ...process.env, CALYPSO_DEMO_CTL: ctlBase } },
  );
  say('');
  say(`Calypso demo: a working appliance in a sandbox under ${prefix}.`);
  say('Starting its own zfs-fuse, tgtd and tape library, then the agent; seeding a pool, datasets,');
  say('snapshots, an iSCSI target, tapes and an alert (a minute on a busy machine)…');
  let stopping = false;
  const stopInner = (sig) => {
    if (stopping) return;
    stopping = true;
    inner.kill('SIGTERM');
    // the appliance destroys its pool and stops its daemons; it gets 60 s
    setTimeout(() => inner.kill('SIGKILL'), 60_000).unref();
    void sig;
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => stopInner(sig));
  const parentPid = process.ppid;
  setInterval(() => {
    try {
      process.kill(parentPid, 0);
    } catch {
      stopInner('parent');
    }
  }, 250).unref();
  inner.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  say(`demo: no sandbox (${why}).`);
  say('      It shows the API and the UI with pools, iSCSI, tapes and backups unavailable; run it as root');
  say('      on a machine with zfs-fuse and tgt for a working appliance (docs/demo.md).');
  if (ui) say('demo: --ui needs the sandbox; see docs/demo.md for Cockpit by hand.');
  await runUnprivileged();
}

async function runUnprivileged() {
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  let argv = [
    process.execPath,
    path.join(root, 'dist/agent/main.js'),
    '--prefix',
    prefix,
    ...configArgs,
    ...extraArgs,
  ];
  let who = `uid ${process.getuid?.()}`;
  if (isRoot) {
    if (!setpriv) {
      say('npm run demo as root needs setpriv (util-linux) to run the agent as an unprivileged user.');
      say("Refusing to run the agent as root: it would drive this host's real storage.");
      process.exit(1);
    }
    chownTree(prefix, NOBODY.uid, NOBODY.gid);
    // The agent must be able to read the checkout and write its prefix: a checkout or prefix under
    // a private directory (a 0700 home, a mkdtemp dir) is out of its reach.
    const check = (p, mode) => `require('fs').accessSync(${JSON.stringify(p)}, ${mode})`;
    const probe = spawnSync(setpriv, [
      `--reuid=${NOBODY.uid}`,
      `--regid=${NOBODY.gid}`,
      '--clear-groups',
      '--',
      process.execPath,
      '-e',
      `${check(path.join(root, 'dist/agent/main.js'), 4)}; ${check(prefix, 2)}`,
    ]);
    if (probe.status !== 0) {
      say(`The unprivileged user ${NOBODY.name} cannot read ${root} or write ${prefix}:`);
      say(
        `  ${
          String(probe.stderr)
            .split('\n')
            .find((l) => l.startsWith('Error')) ?? ''
        }`,
      );
      say(
        'Run the demo from a checkout others can read (every parent directory searchable), or as an ordinary user.',
      );
      process.exit(1);
    }
    who = `${NOBODY.name} (uid ${NOBODY.uid})`;
    argv = [
      setpriv,
      `--reuid=${NOBODY.uid}`,
      `--regid=${NOBODY.gid}`,
      '--clear-groups',
      ...deathSig(),
      '--',
      ...argv,
    ];
  } else if (setpriv) {
    argv = [setpriv, ...deathSig(), '--', ...argv];
  }

  function deathSig() {
    return ['--pdeathsig', 'TERM'];
  }

  /** The demo prefix belongs to the agent's user (it writes its state, logs and socket there). */
  function chownTree(p, uid, gid) {
    chownSync(p, uid, gid);
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const q = path.join(p, e.name);
      if (e.isDirectory()) chownTree(q, uid, gid);
      else chownSync(q, uid, gid);
    }
  }

  const socket = path.join(prefix, 'run/calypso/agent.sock');
  const ctl = `${ctlBase} --socket ${socket}`;
  say('');
  say(`Calypso demo: the agent runs unprivileged, as ${who}, under ${prefix}.`);
  say("It cannot touch this host's disks, pools, Bacula or iSCSI: those tools report unavailable.");
  say('Try, from another terminal (the commands run as printed):');
  for (const c of ['ping', 'capabilities', 'methods', 'describe pool.create', 'call system.ping'])
    say(`  $ ${ctl} ${c}`);
  say(`or: alias calypsoctl='${ctl}'`);
  say('Stop with Ctrl-C (or SIGTERM): the agent stops with the demo.');
  say('');

  const agent = spawn(argv[0], argv.slice(1), { stdio: 'inherit' });
  let stopping = false;
  function stop(why) {
    if (stopping) return;
    stopping = true;
    say(`demo: ${why}, stopping the agent`);
    agent.kill('SIGTERM');
    // the agent finishes or interrupts its jobs and exits 0; it gets 15 s before SIGKILL
    setTimeout(() => agent.kill('SIGKILL'), 15_000).unref();
  }
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => stop(sig));
  // `npm run demo` runs us under `sh -c`; a SIGTERM to npm reaches that shell, which dies without
  // passing it on (seen with npm 11 and dash). So also stop when the parent is gone.
  const parent = process.ppid;
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      stop('the parent process exited');
    }
  }, 250).unref();
  agent.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
