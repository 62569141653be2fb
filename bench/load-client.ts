/**
 * Load generator, run as its own process so that it does not share an event loop with the
 * server under test. Sends system.ping over N connections with K requests in flight on each,
 * for a fixed duration, and prints {requests, seconds, rps, p50, p99} (latencies in ms).
 */
import net from 'node:net';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const socketPath = args.get('socket')!;
const connections = Number(args.get('connections') ?? 1);
const inflight = Number(args.get('inflight') ?? 1);
const durationMs = Number(args.get('duration') ?? 3000);
const warmupMs = Number(args.get('warmup') ?? 500);

const latencies: number[] = [];
let done = 0;
let measuring = false;
let stop = false;

async function runConnection(): Promise<void> {
  const sock = net.createConnection(socketPath);
  await new Promise<void>((r, j) => {
    sock.once('connect', () => r());
    sock.once('error', j);
  });
  sock.setEncoding('utf8');
  const sentAt = new Map<number, number>();
  let nextId = 1;
  let buf = '';
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => (finish = r));
  const send = () => {
    const id = nextId++;
    sentAt.set(id, performance.now());
    sock.write(`{"jsonrpc":"2.0","id":${id},"method":"system.ping"}\n`);
  };
  sock.on('data', (chunk: string) => {
    buf += chunk;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const id = (JSON.parse(line) as { id: number }).id;
      const t0 = sentAt.get(id)!;
      sentAt.delete(id);
      if (measuring) {
        latencies.push(performance.now() - t0);
        done++;
      }
      if (!stop) send();
      else if (sentAt.size === 0) finish();
      nl = buf.indexOf('\n');
    }
  });
  for (let i = 0; i < inflight; i++) send();
  await finished;
  sock.end();
}

const all = Array.from({ length: connections }, () => runConnection());
await new Promise((r) => setTimeout(r, warmupMs));
measuring = true;
const t0 = performance.now();
await new Promise((r) => setTimeout(r, durationMs));
measuring = false;
const seconds = (performance.now() - t0) / 1000;
stop = true;
await Promise.all(all);
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
process.stdout.write(
  `${JSON.stringify({ requests: done, seconds, rps: done / seconds, p50: q(0.5), p99: q(0.99) })}\n`,
);
