/**
 * `terminal.enabled: false` (the demo's sandbox sets it: its agent runs as root behind a UI with
 * no login): no shell opens, over JSON-RPC or the /terminal WebSocket, and the refusal says why.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startTerminalAgent, type TerminalAgent } from './harness.js';

describe('a terminal turned off', () => {
  let t: TerminalAgent;
  before(async () => {
    t = await startTerminalAgent('enabled: false', true);
  });
  after(async () => {
    await t?.stop();
  });

  it('terminal.open is unavailable, naming the setting', async () => {
    const c = await t.connect();
    try {
      await assert.rejects(
        c.call('terminal.open', { cols: 80, rows: 24 }),
        (e: Error & { data?: { kind?: string } }) =>
          e.data?.kind === 'unavailable' && /terminal\.enabled: false/.test(e.message),
      );
    } finally {
      c.close();
    }
  });

  it('the /terminal WebSocket opens no shell', async () => {
    const token = (
      await (await t.connect()).call<{ token: string }>('auth.token.create', { name: 'term', role: 'admin' })
    ).token;
    const ws = new WebSocket(`${t.wsBase}/terminal?cols=80&rows=24`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const got: Buffer[] = [];
    ws.on('message', (d: Buffer) => got.push(d));
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
      ws.once('unexpected-response', (_req, res) => resolve({ code: res.statusCode ?? 0, reason: 'http' }));
    });
    assert.notEqual(closed.code, 1000, `closed normally: ${JSON.stringify(closed)}`);
    assert.ok(!Buffer.concat(got).toString().includes('$'), 'no prompt arrived');
  });
});
