/**
 * The terminal's WebSocket endpoint for remote clients: `GET /terminal?cols=&rows=` upgraded to
 * a WebSocket, authenticated like the JSON-RPC WebSocket (bearer token → identity; the lead's
 * transport wires `authenticate`), admin only, audited at open and close.
 *
 * Frames: binary frames carry the terminal's bytes both ways (output from the shell, input to
 * it). Text frames carry JSON control messages: from the client `{"type":"resize","cols":…,
 * "rows":…}` (and `{"type":"input","data":"…"}` for clients that can only send text); from the
 * server `{"type":"ready","id":…,"pid":…}` first and `{"type":"exit","reason":…,"exitCode":…}`
 * last, after which the server closes the socket with code 1000.
 *
 * Flow control: bytes handed to `ws.send` and not yet written to the TCP socket are counted;
 * above the high-water mark the pty is paused until the socket catches up.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { RpcError } from '../../rpc/errors.js';
import type { Identity } from '../../rpc/roles.js';
import type { AgentDeps } from '../deps.js';
import { terminalManagerFor } from './manager.js';
import { MAX_COLS, MAX_ROWS, type PtySession } from './pty-session.js';

export type Authenticate = (req: IncomingMessage) => Identity | undefined;

export const TERMINAL_PATH = '/terminal';
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

interface Control {
  type?: unknown;
  cols?: unknown;
  rows?: unknown;
  data?: unknown;
}

function intParam(v: unknown, dflt: number, max: number): number {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? Math.min(n, max) : dflt;
}

export function registerTerminalRoute(
  fastify: FastifyInstance,
  deps: Pick<AgentDeps, 'config' | 'audit' | 'runner' | 'log' | 'events'>,
  authenticate: Authenticate,
): void {
  const manager = terminalManagerFor(deps);
  const identities = new WeakMap<IncomingMessage, Identity>();

  fastify.get(
    TERMINAL_PATH,
    {
      websocket: true,
      // Refuse before the upgrade, so that a client sees a plain HTTP status and reason.
      preValidation: async (req, reply) => {
        const identity = authenticate(req.raw);
        if (!identity) {
          await reply.code(401).send({ error: 'a valid bearer token is required' });
          return;
        }
        try {
          manager.assertAllowed(identity, 'terminal.open');
        } catch (err) {
          await reply.code(403).send({ error: (err as Error).message, kind: 'denied' });
          return;
        }
        identities.set(req.raw, identity);
      },
    },
    (socket, req) => {
      const identity = identities.get(req.raw);
      if (!identity) {
        socket.close(1008, 'not authenticated');
        return;
      }
      const q = req.query as Record<string, unknown>;
      void attach(socket, identity, intParam(q.cols, 80, MAX_COLS), intParam(q.rows, 24, MAX_ROWS));
    },
  );

  async function attach(ws: WebSocket, identity: Identity, cols: number, rows: number): Promise<void> {
    let inflight = 0;
    let pty: PtySession | undefined;
    const sendControl = (msg: Record<string, unknown>) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    // frames that arrive while the shell is starting are replayed once it runs
    const earlyInput: { buf: Buffer; isBinary: boolean }[] = [];
    ws.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (!pty) {
        earlyInput.push({ buf, isBinary });
        return;
      }
      handle(buf, isBinary);
    });
    ws.on('error', () => {});
    ws.on('close', () => pty?.close('disconnect'));

    function handle(buf: Buffer, isBinary: boolean) {
      if (!pty) return;
      if (isBinary) {
        pty.write(buf.toString('utf8'));
        return;
      }
      let msg: Control;
      try {
        msg = JSON.parse(buf.toString('utf8')) as Control;
      } catch {
        sendControl({ type: 'error', message: 'text frames must be JSON control messages' });
        return;
      }
      if (msg.type === 'resize' && typeof msg.cols === 'number' && typeof msg.rows === 'number') {
        pty.resize(msg.cols, msg.rows);
      } else if (msg.type === 'input' && typeof msg.data === 'string') {
        pty.write(msg.data);
      } else {
        sendControl({ type: 'error', message: 'unknown control message' });
      }
    }

    try {
      pty = await manager.open(identity, {
        cols,
        rows,
        via: 'websocket',
        onData: (d) => {
          if (ws.readyState !== ws.OPEN) return;
          const buf = Buffer.from(d, 'utf8');
          inflight += buf.length;
          if (inflight > HIGH_WATER) pty?.hold('ws', true);
          ws.send(buf, { binary: true }, () => {
            inflight -= buf.length;
            if (inflight < LOW_WATER) pty?.hold('ws', false);
          });
        },
        onClose: (info) => {
          sendControl({ type: 'exit', reason: info.reason, exitCode: info.exitCode });
          if (ws.readyState === ws.OPEN) ws.close(1000, info.reason);
        },
      });
    } catch (err) {
      const message = err instanceof RpcError ? err.message : 'the terminal could not be started';
      const kind = err instanceof RpcError ? err.kind : 'failed';
      sendControl({ type: 'error', kind, message });
      ws.close(kind === 'limit' ? 1013 : 1011, message.slice(0, 120));
      return;
    }
    if (ws.readyState !== ws.OPEN) {
      pty.close('disconnect');
      return;
    }
    sendControl({ type: 'ready', id: pty.id, pid: pty.pid });
    for (const f of earlyInput.splice(0)) handle(f.buf, f.isBinary);
  }
}
