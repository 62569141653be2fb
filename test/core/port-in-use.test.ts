/**
 * The bundled agent (dist/agent/main.js, what a release runs) started while its WebSocket port is
 * taken — by another agent, a demo, anything: it says so in one line, with the setting to change,
 * and exits non-zero without a stack trace, leaving no socket behind. The port is one this test
 * holds (picked free by the kernel), never 8787.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { createLayout } from '../../agent/layout.js';
import { startTestAgent } from '../helpers/agent.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const bundle = path.join(repoRoot(), 'dist/agent/main.js');
const tmp = tempDir('calypso-port-in-use-');
let holder: net.Server;
let port: number;

before(async () => {
  holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  port = (holder.address() as net.AddressInfo).port;
});

after(async () => {
  await new Promise((r) => holder?.close(r));
  tmp.cleanup();
});

function runAgent(prefix: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bundle, '--prefix', prefix, '--quiet'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`the agent did not exit within 30 s; stderr:\n${stderr}`));
    }, 30_000);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

it('the bundled agent says in one line that its WebSocket port is taken, and exits non-zero', async () => {
  assert.ok(existsSync(bundle), `${bundle}: build first (node scripts/build.mjs)`);
  const layout = createLayout(tmp.dir);
  mkdirSync(layout.etc, { recursive: true });
  writeFileSync(
    layout.configFile,
    `agent:\n  websocket:\n    host: 127.0.0.1\n    port: ${port}\nlog:\n  level: warn\n  file: false\n`,
  );
  const { code, stderr } = await runAgent(tmp.dir);
  assert.notEqual(code, 0, 'a non-zero exit');
  assert.notEqual(code, null, 'an exit, not a signal');
  assert.equal(
    stderr.trim(),
    `calypso-agent: port ${port} is in use (another agent?); set agent.websocket.port in calypso.yaml`,
    'exactly one line, no stack trace',
  );
  assert.ok(!existsSync(layout.socket), 'the Unix socket opened before the WebSocket is gone again');
});

it('startTestAgent, when listening fails, stops the agent it opened (a file then exits, not hangs)', async () => {
  const prefix = path.join(tmp.dir, 'in-process');
  const socketsBefore = process.getActiveResourcesInfo().filter((r) => r === 'PipeServerWrap').length;
  await assert.rejects(
    startTestAgent({ prefix, services: [], listen: true, config: { agent: { websocket: { port } } } }),
    (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE',
  );
  assert.ok(!existsSync(createLayout(prefix).socket), 'its Unix socket is closed and gone');
  const socketsAfter = process.getActiveResourcesInfo().filter((r) => r === 'PipeServerWrap').length;
  assert.equal(socketsAfter, socketsBefore, 'no listening Unix socket left in this process');
});
