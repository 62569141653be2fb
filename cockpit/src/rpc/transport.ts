/**
 * How the page reaches the agent: a Cockpit `stream` channel to the agent's Unix socket, opened
 * by the bridge as the logged-in user, so that the agent's SO_PEERCRED sees the real user
 * (Cockpit's bridge has no WebSocket channel, and the page's content security policy blocks
 * direct connections).
 */
import { cockpit } from '../cockpit.js';

export interface LineConnection {
  send(line: string): void;
  close(): void;
}

export interface LineTransport {
  /** Open a connection; `onChunk` gets raw text, `onClose` fires once with a reason (or none for a clean close). */
  open(onChunk: (text: string) => void, onClose: (problem?: string) => void): LineConnection;
  /** Where it connects, for messages. */
  describe(): string;
}

/** The appliance's /run/calypso/agent.sock, or the socket the package was built for (the demo's). */
export const DEFAULT_SOCKET =
  typeof __CALYPSO_SOCKET__ === 'string' ? __CALYPSO_SOCKET__ : '/run/calypso/agent.sock';
const SOCKET_KEY = 'calypso:socket';

/**
 * The agent socket: `localStorage['calypso:socket']` when set (tests and development point it
 * at an agent running under a prefix), else the one built in: the appliance's
 * /run/calypso/agent.sock, or the demo's socket when `npm run demo -- --ui` built the package.
 */
export function socketPath(): string {
  try {
    const v = window.localStorage.getItem(SOCKET_KEY);
    if (v?.startsWith('/')) return v;
  } catch {
    /* storage disabled */
  }
  return DEFAULT_SOCKET;
}

export function cockpitStreamTransport(path = socketPath()): LineTransport {
  return {
    describe: () => path,
    open(onChunk, onClose) {
      const ch = cockpit.channel({ payload: 'stream', unix: path });
      let closed = false;
      ch.addEventListener('message', (_ev, data) => onChunk(data));
      ch.addEventListener('close', (_ev, options) => {
        if (closed) return;
        closed = true;
        onClose(
          options.problem ? `${options.problem}${options.message ? `: ${options.message}` : ''}` : undefined,
        );
      });
      return {
        send: (line) => ch.send(line),
        close: () => {
          if (!closed) ch.close();
        },
      };
    },
  };
}
