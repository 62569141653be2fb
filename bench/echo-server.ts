/**
 * The baseline for the RPC benchmarks: a bare NDJSON server on a Unix socket that parses each
 * line and answers it like system.ping would — the least any JSON-RPC server must do.
 */
import { rmSync } from 'node:fs';
import net from 'node:net';

const socketPath = process.argv[2];
if (!socketPath) throw new Error('usage: echo-server SOCKET');
rmSync(socketPath, { force: true });
const started = Date.now();
net
  .createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl = buf.indexOf('\n');
      let out = '';
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const req = JSON.parse(line) as { id: number };
        out += `${JSON.stringify({ jsonrpc: '2.0', id: req.id, result: { version: '0', uptime: (Date.now() - started) / 1000 } })}\n`;
        nl = buf.indexOf('\n');
      }
      if (out) sock.write(out);
    });
    sock.on('error', () => {});
  })
  .listen(socketPath, () => process.stdout.write('ready\n'));
