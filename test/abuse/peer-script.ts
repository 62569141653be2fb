/**
 * A peer running as another uid (SO_PEERCRED then gives it that uid's role): it opens `n`
 * connections to the agent's Unix socket, writes the same text on each, optionally does not
 * read for `holdMs`, then reads until each connection has an answer or was closed (at least 2.5 s,
 * at most 30 s more), and prints one JSON line: for each connection, how many whole
 * answer lines it got, the first error's reason, and whether the agent closed it. It keeps its
 * connections open until killed (the caller kills it in a `finally`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface PeerReport {
  lines: number;
  reason: string | null;
  closed: boolean;
}

const SCRIPT = `import net from 'node:net';
import { readFileSync } from 'node:fs';
const [sock, n, text, holdMs] = [process.argv[2], Number(process.argv[3]), readFileSync(process.argv[4], 'utf8'), Number(process.argv[5])];
const out = [];
const socks = [];
for (let i = 0; i < n; i++) {
  const r = { lines: 0, reason: null, closed: false };
  out.push(r);
  const s = net.createConnection(sock);
  socks.push(s);
  s.on('error', () => {});
  let buf = '';
  s.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\\n')) >= 0) {
      const l = buf.slice(0, nl); buf = buf.slice(nl + 1); r.lines++;
      try { const m = JSON.parse(l); if (r.reason === null && m.error) r.reason = m.error.data?.reason ?? m.error.message; } catch {}
    }
  });
  s.on('close', () => { r.closed = true; });
  await new Promise((ok) => s.on('connect', ok).on('close', ok));
  if (holdMs > 0) s.pause();
  s.write(text);
  await new Promise((ok) => setTimeout(ok, 20));
}
if (holdMs > 0) { await new Promise((ok) => setTimeout(ok, holdMs)); for (const s of socks) s.resume(); }
// at least 2.5 s, then until every connection has its answer or was closed (within 30 s: a loaded
// machine may take seconds to build and send several 3 MB answers)
await new Promise((ok) => setTimeout(ok, 2500));
for (const t0 = Date.now(); Date.now() - t0 < 30000 && out.some((r) => r.lines === 0 && !r.closed); )
  await new Promise((ok) => setTimeout(ok, 50));
console.log(JSON.stringify(out));
setInterval(() => {}, 1000);`;

export async function peerAs(
  dir: string,
  socket: string,
  uid: number,
  n: number,
  text: string,
  holdMs = 0,
): Promise<{ proc: ChildProcess; report: PeerReport[] }> {
  const script = path.join(dir, `peer-${uid}-${process.hrtime.bigint()}.mjs`);
  writeFileSync(script, SCRIPT);
  chmodSync(script, 0o644);
  const input = `${script}.txt`;
  writeFileSync(input, text);
  chmodSync(input, 0o644);
  const proc = spawn(process.execPath, [script, socket, String(n), input, String(holdMs)], {
    uid,
    gid: uid,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => {
    out += d;
  });
  const until = Date.now() + 60_000;
  while (!out.includes('\n') && Date.now() < until && proc.exitCode === null)
    await new Promise((r) => setTimeout(r, 20));
  if (!out.includes('\n')) {
    await stopPeer(proc);
    throw new Error(`peer as uid ${uid} reported nothing`);
  }
  return { proc, report: JSON.parse(out) as PeerReport[] };
}

export async function stopPeer(p: ChildProcess): Promise<void> {
  if (p.exitCode === null && p.signalCode === null) {
    p.kill('SIGKILL');
    await once(p, 'exit');
  }
}
