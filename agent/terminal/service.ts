/**
 * Terminal methods over the JSON-RPC connection (the route the Cockpit page uses: Cockpit's
 * bridge has no WebSocket channel, so the page reaches the agent through a `stream` channel
 * to the Unix socket and the shell's output comes back as `event` notifications on it).
 *
 * Admin only. Output: `event` notifications `{topic: 'terminal.output', data: {id, seq,
 * offset, data}}`, and `{topic: 'terminal.closed', data: {id, reason, exitCode?}}` once the
 * shell is gone. A terminal belongs to the connection that opened it and is closed with it.
 * The audit log records each open and close (TerminalManager), not the keystrokes.
 */
import { Type } from '@sinclair/typebox';
import { invalid, notFound } from '../../rpc/errors.js';
import { listed, listResult } from '../../rpc/list.js';
import { defineMethod, type SessionHandle } from '../../rpc/registry.js';
import type { Service, ServiceFactory, Subsystem } from '../deps.js';
import { terminalManagerFor } from './manager.js';
import { type Backpressure, DEFAULT_ACK_WINDOW, OutputPump } from './output-pump.js';
import { MAX_COLS, MAX_ROWS, MIN_COLS, MIN_ROWS, type PtySession } from './pty-session.js';
import { registerTerminalRoute } from './ws-route.js';

const TerminalId = Type.String({ pattern: '^[0-9a-f]{16}$', description: 'terminal id from terminal.open' });
const Cols = Type.Integer({ minimum: MIN_COLS, maximum: MAX_COLS, description: 'width in character cells' });
const Rows = Type.Integer({ minimum: MIN_ROWS, maximum: MAX_ROWS, description: 'height in character cells' });
const Empty = Type.Object({}, { additionalProperties: false });

interface Open {
  pty: PtySession;
  pump: OutputPump;
  owner: SessionHandle;
}

/**
 * The connection's send queue, when its transport exposes one (`queuedBytes()` and
 * `onDrain(fn)` on the session). Without it the `ack` window is the flow control.
 */
function backpressureOf(session: SessionHandle): Backpressure | undefined {
  const s = session as unknown as Partial<Backpressure>;
  if (typeof s.queuedBytes === 'function' && typeof s.onDrain === 'function') {
    return { queuedBytes: () => s.queuedBytes!(), onDrain: (fn) => s.onDrain!(fn) };
  }
  return undefined;
}

function adjustKeepAlive(session: SessionHandle, delta: number): void {
  // the transport does not close a connection for idleness while it has live terminals
  const s = session as { keepAlive?: number };
  if (typeof s.keepAlive === 'number') s.keepAlive += delta;
}

export const terminalService: ServiceFactory = (deps): Service => {
  const manager = terminalManagerFor(deps);
  const open = new Map<string, Open>();
  const hooks = new Map<string, (() => void) | undefined>();

  function owned(id: string, session: SessionHandle | undefined): Open {
    const t = open.get(id);
    // another connection's terminal is reported as absent, not as forbidden: ids are not a secret to probe
    if (!t || t.owner !== session) throw notFound(`terminal ${id} is not open on this connection`);
    return t;
  }

  return {
    name: 'terminal',
    methods: [
      defineMethod({
        name: 'terminal.open',
        summary: 'Start a login shell in a pseudo-terminal; its output arrives as terminal.output events.',
        description:
          'Admin only; audited at open and close. Output: `event` notifications with topic `terminal.output` ' +
          'and data `{id, seq, offset, data}`; `terminal.closed` `{id, reason, exitCode}` when the shell ends. ' +
          'With `ack: true` the client must acknowledge processed output with terminal.ack, and the shell is ' +
          'paused while more than `window` characters are unacknowledged.',
        params: Type.Object(
          {
            cols: Type.Optional({ ...Cols, description: 'width in character cells; default 80' }),
            rows: Type.Optional({ ...Rows, description: 'height in character cells; default 24' }),
            ack: Type.Optional(
              Type.Boolean({ description: 'use acknowledgement flow control (terminal.ack)' }),
            ),
            window: Type.Optional(
              Type.Integer({
                minimum: 4096,
                maximum: 64 * 1024 * 1024,
                description: 'unacknowledged characters allowed with ack; default 2 MiB',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        result: Type.Object({ id: TerminalId, pid: Type.Integer({ description: 'the shell’s process id' }) }),
        role: 'admin',
        // Opening a shell changes nothing by itself; the manager audits open and close explicitly.
        mutating: false,
        handler: async (p, ctx) => {
          const session = ctx.session;
          if (!session) throw invalid('a terminal needs a connection that can receive notifications');
          let id = '';
          const pump = new OutputPump({
            send: (data, seq, offset) =>
              session.notify('event', {
                topic: 'terminal.output',
                data: { id, seq, offset, data },
                time: Date.now(),
              }),
            backpressure: backpressureOf(session),
            ackWindow: p.ack ? (p.window ?? DEFAULT_ACK_WINDOW) : undefined,
          });
          const pty = await manager.open(ctx.identity, {
            cols: p.cols ?? 80,
            rows: p.rows ?? 24,
            via: ctx.identity.transport,
            onData: (d) => pump.push(d),
            onClose: (info) => {
              pump.flush();
              pump.dispose();
              open.delete(id);
              hooks.get(id)?.();
              hooks.delete(id);
              adjustKeepAlive(session, -1);
              session.notify('event', {
                topic: 'terminal.closed',
                data: { id, reason: info.reason, exitCode: info.exitCode },
                time: Date.now(),
              });
            },
          });
          id = pty.id;
          pump.attach(pty);
          open.set(id, { pty, pump, owner: session });
          adjustKeepAlive(session, 1);
          // drop the hook when the shell ends first
          const unhook = session.onClose(() => pty.close('disconnect'));
          hooks.set(id, unhook);
          return { id, pid: pty.pid };
        },
      }),
      defineMethod({
        name: 'terminal.input',
        summary: 'Type into a terminal (keystrokes or pasted text).',
        params: Type.Object(
          {
            id: TerminalId,
            data: Type.String({ maxLength: 1024 * 1024, description: 'text to write to the terminal' }),
          },
          { additionalProperties: false },
        ),
        result: Empty,
        role: 'admin',
        mutating: false,
        handler: async (p, ctx) => {
          owned(p.id, ctx.session).pty.write(p.data);
          return {};
        },
      }),
      defineMethod({
        name: 'terminal.resize',
        summary: 'Set a terminal’s window size (the shell gets SIGWINCH).',
        params: Type.Object({ id: TerminalId, cols: Cols, rows: Rows }, { additionalProperties: false }),
        result: Type.Object({ cols: Type.Integer(), rows: Type.Integer() }),
        role: 'admin',
        mutating: false,
        handler: async (p, ctx) => {
          const t = owned(p.id, ctx.session);
          t.pty.resize(p.cols, p.rows);
          return { cols: t.pty.cols, rows: t.pty.rows };
        },
      }),
      defineMethod({
        name: 'terminal.ack',
        summary: 'Acknowledge processed output (terminals opened with ack: true).',
        params: Type.Object(
          {
            id: TerminalId,
            received: Type.Integer({
              minimum: 0,
              description: 'characters of output processed so far, in total',
            }),
          },
          { additionalProperties: false },
        ),
        result: Empty,
        role: 'admin',
        mutating: false,
        handler: async (p, ctx) => {
          owned(p.id, ctx.session).pump.ack(p.received);
          return {};
        },
      }),
      defineMethod({
        name: 'terminal.close',
        summary: 'Hang up a terminal (SIGHUP to its shell).',
        params: Type.Object({ id: TerminalId }, { additionalProperties: false }),
        result: Empty,
        role: 'admin',
        mutating: false,
        handler: async (p, ctx) => {
          owned(p.id, ctx.session).pty.close('client');
          return {};
        },
      }),
      defineMethod({
        name: 'terminal.list',
        summary: 'Open terminals of every user and route.',
        params: Empty,
        result: listResult(
          Type.Object({
            id: Type.String(),
            user: Type.String(),
            transport: Type.String(),
            pid: Type.Integer(),
            cols: Type.Integer(),
            rows: Type.Integer(),
            startedAt: Type.Number(),
          }),
        ),
        role: 'admin',
        mutating: false,
        handler: async () => listed(await manager.list()),
      }),
    ],
    // the same sessions, limit and audit, for remote clients on the agent's WebSocket server
    wsRoutes: (app, authenticate) => registerTerminalRoute(app, deps, authenticate),
    stop: () => manager.closeAll(),
  };
};

export const terminalSubsystem: Subsystem = { name: 'terminal', service: terminalService };
