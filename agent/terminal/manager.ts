/**
 * The terminal sessions of the agent, whichever route opened them (JSON-RPC over the Unix
 * socket, or the WebSocket endpoint): admin only, a limit on concurrent sessions, an idle
 * timeout, and an audit record when a session opens and when it closes (the keystrokes in
 * between are not audited: the audit log records who had a shell, for how long).
 */
import { denied, RpcError } from '../../rpc/errors.js';
import { type Identity, roleAllows } from '../../rpc/roles.js';
import type { AgentDeps } from '../deps.js';
import { TOKEN_INVALIDATED } from '../events.js';
import { nodePty } from '../util/lazy-modules.js';
import { sleep } from '../util/time.js';
import { agentUser, resolveLoginUser } from './login-user.js';
import { type ClosedInfo, PtySession } from './pty-session.js';

export interface OpenOptions {
  cols: number;
  rows: number;
  /** Which route opened it, for the audit log (`unix`, `websocket`). */
  via: string;
  onData(data: string): void;
  onClose(info: ClosedInfo): void;
}

export interface TerminalInfo {
  id: string;
  user: string;
  transport: string;
  pid: number;
  cols: number;
  rows: number;
  startedAt: number;
}

type Deps = Pick<AgentDeps, 'config' | 'audit' | 'runner' | 'log' | 'events'>;

export class TerminalManager {
  private sessions = new Map<string, { session: PtySession; identity: Identity }>();
  /** Sessions being opened (user lookup in flight) count against the limit too. */
  private opening = 0;

  constructor(private deps: Deps) {
    // a shell opened with a token ends when the token is revoked or expires (issue #15 item 3);
    // the close is audited like any other (terminal.close, with the reason)
    deps.events.on([TOKEN_INVALIDATED], (ev) => {
      const { id, reason } = ev.data as { id: string; reason: 'revoked' | 'expired' };
      this.closeToken(id, reason === 'expired' ? 'token expired' : 'token revoked');
    });
  }

  /** Close every session opened with this API token; returns how many. */
  closeToken(tokenId: string, reason: 'token revoked' | 'token expired'): number {
    let n = 0;
    for (const { session, identity } of this.sessions.values()) {
      if (identity.tokenId !== tokenId) continue;
      session.close(reason);
      n++;
    }
    return n;
  }

  get count(): number {
    return this.sessions.size;
  }

  /** Refuse non-admins (audited as a denial by the caller's route) before anything is started. */
  assertAllowed(identity: Identity, method: string): void {
    if (roleAllows(identity.role, 'admin')) return;
    this.deps.audit.append({
      user: identity.user,
      uid: identity.uid,
      transport: identity.transport,
      method,
      outcome: 'denied',
      error: { kind: 'denied', message: `role ${identity.role} may not open a terminal` },
    });
    throw denied(`a terminal needs the admin role; ${identity.user} has ${identity.role}`, {
      method,
      need: 'admin',
      have: identity.role,
    });
  }

  async open(identity: Identity, opts: OpenOptions): Promise<PtySession> {
    this.assertAllowed(identity, 'terminal.open');
    const cfg = this.deps.config.terminal;
    if (cfg.enabled === false)
      throw new RpcError(
        'unavailable',
        'the terminal is turned off here (terminal.enabled: false in calypso.yaml)',
        {
          reason: 'terminal.enabled is false',
        },
      );
    if (this.sessions.size + this.opening >= cfg.maxSessions) {
      throw new RpcError('limit', `at most ${cfg.maxSessions} terminals may be open at once`, {
        max: cfg.maxSessions,
      });
    }
    this.opening++;
    let session: PtySession;
    try {
      const user = await resolveLoginUser(identity, this.deps.runner);
      const self = agentUser();
      const pty = await nodePty();
      session = new PtySession({
        pty,
        user,
        shell: cfg.shell,
        cols: opts.cols,
        rows: opts.rows,
        idleTimeoutMs: cfg.idleTimeoutSec * 1000,
        switchUser: self.uid === 0 && user.uid !== self.uid,
        onData: opts.onData,
        onClose: (info) => {
          this.sessions.delete(session.id);
          this.deps.audit.append({
            user: identity.user,
            uid: identity.uid,
            transport: opts.via,
            method: 'terminal.close',
            outcome: 'ok',
            durationMs: info.durationMs,
            detail: {
              terminal: session.id,
              reason: info.reason,
              exitCode: info.exitCode,
              bytesIn: info.bytesIn,
              bytesOut: info.bytesOut,
            },
          });
          this.deps.log.info(
            { terminal: session.id, user: identity.user, reason: info.reason },
            'terminal: closed',
          );
          opts.onClose(info);
        },
      });
    } catch (err) {
      if (err instanceof RpcError) throw err;
      throw new RpcError('failed', `the terminal could not be started: ${(err as Error).message}`);
    } finally {
      this.opening--;
    }
    this.sessions.set(session.id, { session, identity });
    this.deps.audit.append({
      user: identity.user,
      uid: identity.uid,
      transport: opts.via,
      method: 'terminal.open',
      outcome: 'ok',
      detail: {
        terminal: session.id,
        pid: session.pid,
        cols: session.cols,
        rows: session.rows,
        shell: cfg.shell,
      },
    });
    this.deps.log.info({ terminal: session.id, user: identity.user, pid: session.pid }, 'terminal: opened');
    return session;
  }

  list(): TerminalInfo[] {
    return [...this.sessions.values()].map(({ session, identity }) => ({
      id: session.id,
      user: identity.user,
      transport: identity.transport,
      pid: session.pid,
      cols: session.cols,
      rows: session.rows,
      startedAt: session.startedAt,
    }));
  }

  /** Close every session (agent shutdown) and wait until they are gone. */
  async closeAll(timeoutMs = 5000): Promise<void> {
    const all = [...this.sessions.values()].map((s) => s.session);
    for (const s of all) s.close('shutdown');
    const until = Date.now() + timeoutMs;
    while (this.sessions.size > 0 && Date.now() < until) await sleep(20);
  }
}

const managers = new WeakMap<object, TerminalManager>();

/** The one manager of an agent (keyed by its deps), shared by the JSON-RPC methods and the WebSocket route. */
export function terminalManagerFor(deps: Deps): TerminalManager {
  let m = managers.get(deps);
  if (!m) {
    m = new TerminalManager(deps);
    managers.set(deps, m);
  }
  return m;
}
