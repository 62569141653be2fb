/**
 * `npm run demo`, as a new user starts it: the agent runs unprivileged (as nobody when the test
 * runs as root), the calypsoctl lines it prints run as printed, and a SIGTERM to the npm process
 * stops the agent. The make-style build check is tested on a small tree of its own, since this
 * test must not rebuild dist/ in a checkout others are building in.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repoRoot, tempDir } from '../helpers/paths.js';

const root = repoRoot();
const isRoot = process.getuid?.() === 0;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The agent process serving `prefix`: found in /proc by its command line. */
function agentOf(prefix: string): number {
  const found = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        return (
          argv.some((a) => a.endsWith('dist/agent/main.js')) &&
          argv.includes(prefix) &&
          argv[0] !== '/usr/bin/setpriv'
        );
      } catch {
        return false;
      }
    });
  assert.equal(found.length, 1, `one agent for ${prefix}: ${found.join(', ')}`);
  return Number(found[0]);
}

async function until<T>(what: string | (() => string), fn: () => T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('demo build check', () => {
  const tmp = tempDir('calypso-demo-build-');
  after(() => tmp.cleanup());

  it('builds when a source is newer than dist/agent/main.js, not when nothing changed', async () => {
    const { upToDate } = (await import(pathToFileURL(path.join(root, 'scripts/demo-build.mjs')).href)) as {
      upToDate(root: string): boolean;
    };
    const r = tmp.dir;
    mkdirSync(path.join(r, 'src'), { recursive: true });
    mkdirSync(path.join(r, 'dist/agent'), { recursive: true });
    writeFileSync(path.join(r, 'tsconfig.json'), '{"include":["src"]}');
    writeFileSync(path.join(r, 'package.json'), '{}');
    writeFileSync(path.join(r, 'src/a.ts'), 'export {};');
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    for (const f of ['tsconfig.json', 'package.json', 'src/a.ts']) utimesSync(path.join(r, f), t(0), t(0));
    assert.equal(upToDate(r), false, 'never built');
    writeFileSync(path.join(r, 'dist/agent/main.js'), '');
    utimesSync(path.join(r, 'dist/agent/main.js'), t(10), t(10));
    assert.equal(upToDate(r), true, 'built after every source: a second start does not rebuild');
    utimesSync(path.join(r, 'src/a.ts'), t(20), t(20));
    assert.equal(upToDate(r), false, 'a changed source');
  });
});

describe('npm run demo', () => {
  const tmp = tempDir('calypso-demo-');
  let npm: ChildProcess | undefined;
  let agentPid: number | undefined;
  let holder: net.Server | undefined;
  after(async () => {
    await new Promise((r) => (holder ? holder.close(r) : r(undefined)));
    if (npm && npm.exitCode === null) npm.kill('SIGKILL');
    if (agentPid && alive(agentPid)) process.kill(agentPid, 'SIGKILL');
    tmp.cleanup();
  });

  it('runs the agent unprivileged, prints commands that run, and stops with a SIGTERM to npm', async () => {
    // the prefix must be reachable by the agent's user: mkdtemp made its parent 0700
    chmodSync(tmp.dir, 0o755);
    const prefix = path.join(tmp.dir, 'demo');
    mkdirSync(path.join(prefix, 'etc/calypso'), { recursive: true });
    // the demo's WebSocket port is taken (by a port this test holds, never 8787): the demo takes
    // a free port instead and prints it
    holder = net.createServer();
    await new Promise<void>((r) => holder!.listen(0, '127.0.0.1', r));
    const taken = (holder.address() as net.AddressInfo).port;
    writeFileSync(
      path.join(prefix, 'etc/calypso/calypso.yaml'),
      `agent:\n  websocket:\n    port: ${taken} # the demo's port\n`,
    );
    let out = '';
    npm = spawn('npm', ['run', 'demo', '--', '--no-sandbox'], {
      cwd: root,
      env: { ...process.env, CALYPSO_DEMO_PREFIX: prefix, CALYPSO_DEMO_NO_BUILD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    npm.stdout?.on('data', (d) => (out += d));
    npm.stderr?.on('data', (d) => (out += d));
    await until(
      () => `the agent's ready line in:\n${out}`,
      () => /calypso-agent .* ready/.test(out) || undefined,
    );
    agentPid = agentOf(prefix);
    assert.ok(alive(agentPid));
    assert.match(
      out,
      new RegExp(`port ${taken} is in use \\(another agent\\?\\): the demo's WebSocket takes port \\d+`),
    );
    const wsPort = Number(/websocket: ws:\/\/127\.0\.0\.1:(\d+)\/rpc/.exec(out)?.[1]);
    assert.ok(wsPort > 0 && wsPort !== taken, `the agent's WebSocket on another port:\n${out}`);
    assert.ok(
      out.includes(`ws://127.0.0.1:${wsPort}/rpc (bearer token`),
      'the agent listens there (its banner)',
    );
    await new Promise<void>((resolve, reject) => {
      const c = net.createConnection({ host: '127.0.0.1', port: wsPort }, () => {
        c.destroy();
        resolve();
      });
      c.once('error', reject);
    });

    // unprivileged: as root the agent runs as nobody, and the banner says so
    const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${agentPid}/status`, 'utf8'))?.[1]);
    if (isRoot) {
      assert.equal(uid, 65534, 'the agent runs as nobody');
      assert.match(out, /the agent runs unprivileged, as nobody \(uid 65534\)/);
    } else assert.equal(uid, process.getuid?.());
    assert.doesNotMatch(out, /gyp (info|http|verb)/, 'no build noise on the screen');

    // every printed command runs as printed
    const lines = [...out.matchAll(/^ {2}\$ (.+)$/gm)].map((m) => m[1]!);
    assert.ok(lines.length >= 4, out);
    for (const line of lines) {
      const r = spawnSync('sh', ['-c', line], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, `${line}\n${r.stderr}`);
    }
    // what is installed but closed to the unprivileged agent says so (not "yes")
    if (isRoot) {
      const ctl = lines.find((l) => l.endsWith(' ping'))!.replace(/ ping$/, '');
      const r = spawnSync('sh', ['-c', `${ctl} call system.capabilities`], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      const caps = JSON.parse(r.stdout) as { name: string; available: boolean; reason?: string }[];
      const tgt = caps.find((c) => c.name === 'tgt');
      if (tgt?.reason !== 'tgtadm not installed') {
        assert.equal(tgt?.available, false, JSON.stringify(tgt));
        assert.match(tgt?.reason ?? '', /^installed, not usable by the agent's user \(uid 65534\)/);
      }
    }
    // no capabilities either: nothing root-only (/dev/zfs, zfs-fuse's and tgtd's sockets,
    // Bacula's configs) is open to it
    const status = readFileSync(`/proc/${agentPid}/status`, 'utf8');
    if (isRoot) assert.match(status, /^CapEff:\s+0+$/m, 'no effective capabilities');

    // SIGTERM to npm: the agent goes too (it used to be orphaned and keep serving)
    const npmExit = new Promise<void>((r) => npm!.once('exit', () => r()));
    npm.kill('SIGTERM');
    await npmExit;
    await until('the agent to exit', () => !alive(agentPid!) || undefined, 20_000);
    await until(
      'the socket to go',
      () => !existsSync(path.join(prefix, 'run/calypso/agent.sock')) || undefined,
      5000,
    );
  });
});
