/**
 * A real agent (createAgent + its Unix socket and WebSocket) under a temporary prefix, with
 * only the terminal service loaded, and a reader of one terminal's output events.
 */
import { parse as parseYaml } from 'yaml';
import type { Agent } from '../../agent/create-agent.js';
import { createRunner } from '../../agent/runner.js';
import { terminalService } from '../../agent/terminal/service.js';
import type { AgentClient, AgentEventMessage } from '../../rpc/client.js';
import { startTestAgent } from '../helpers/agent.js';

export interface TerminalAgent {
  agent: Agent;
  prefix: string;
  socket: string;
  /** ws://host:port (no path) */
  wsBase?: string;
  connect(): Promise<AgentClient>;
  stop(): Promise<void>;
}

export async function startTerminalAgent(terminalYaml = '', websocket = false): Promise<TerminalAgent> {
  const t = await startTestAgent({
    config: {
      agent: { websocket: { enabled: websocket, port: 0 } },
      ...(terminalYaml ? { terminal: parseYaml(terminalYaml) as Record<string, unknown> } : {}),
    },
    services: [terminalService],
    // Finds no tools, so the capability probe starts no processes (the terminal needs none: the
    // shell is spawned through node-pty, and the user lookup only runs for other uids).
    runner: createRunner({ path: '/nonexistent' }),
    listen: true,
  });
  return {
    agent: t.agent,
    prefix: t.prefix,
    socket: t.socket!,
    wsBase: t.websocket?.replace(/\/rpc$/, ''),
    async connect() {
      const c = await t.client();
      c.setMaxListeners(64); // one reader per open terminal
      recordTerminalEvents(c);
      return c;
    },
    stop: () => t.stop(),
  };
}

export interface OutputEvent {
  id: string;
  seq: number;
  offset: number;
  data: string;
}

const unclaimed = new WeakMap<AgentClient, Map<string, AgentEventMessage[]>>();

/**
 * Start keeping terminal events of a client that no reader has claimed yet. Needed because the
 * first output can arrive in the same read as the terminal.open response, before the caller
 * knows the id.
 */
export function recordTerminalEvents(client: AgentClient): void {
  if (unclaimed.has(client)) return;
  const pending = new Map<string, AgentEventMessage[]>();
  unclaimed.set(client, pending);
  client.on('event', (ev: AgentEventMessage) => {
    if (!ev.topic.startsWith('terminal.')) return;
    const id = (ev.data as { id: string }).id;
    const claimed = (client.listeners('event') as { terminalId?: string }[]).some((l) => l.terminalId === id);
    if (claimed) return;
    const list = pending.get(id) ?? [];
    pending.set(id, list);
    list.push(ev);
  });
}

/** Follows the output of one terminal; `until(re)` resolves once the output matches. */
export class TerminalReader {
  text = '';
  closed: { reason: string; exitCode?: number } | undefined;
  private waiters: { test: () => boolean; resolve: () => void }[] = [];
  private off: () => void;

  constructor(
    client: AgentClient,
    readonly id: string,
    private onChunk?: (ev: OutputEvent) => void,
    private keepText = true,
  ) {
    const fn = Object.assign((ev: AgentEventMessage) => this.receive(ev), { terminalId: id });
    client.on('event', fn);
    this.off = () => client.off('event', fn);
    const early = unclaimed.get(client)?.get(id) ?? [];
    unclaimed.get(client)?.delete(id);
    for (const ev of early) this.receive(ev);
  }

  private receive(ev: AgentEventMessage): void {
    const d = ev.data as OutputEvent & { reason?: string; exitCode?: number };
    if (d.id !== this.id) return;
    if (ev.topic === 'terminal.output') {
      this.onChunk?.(d);
      if (this.keepText) this.text += d.data;
    } else if (ev.topic === 'terminal.closed') {
      this.closed = { reason: d.reason ?? '', exitCode: d.exitCode };
    }
    this.waiters = this.waiters.filter((w) => {
      if (!w.test()) return true;
      w.resolve();
      return false;
    });
  }

  until(test: RegExp | (() => boolean), timeoutMs = 10_000): Promise<void> {
    const check = typeof test === 'function' ? test : () => test.test(this.text);
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(
            new Error(`terminal ${this.id}: timed out waiting for ${test}; got …${this.text.slice(-300)}`),
          ),
        timeoutMs,
      );
      this.waiters.push({
        test: check,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }

  /**
   * Wait for the shell's first prompt. Typing earlier races the shell's start-up: readline
   * may flush type-ahead when it sets up the terminal, as a real terminal user would see.
   */
  prompt(timeoutMs = 15_000): Promise<void> {
    return this.until(/[#$] $/, timeoutMs);
  }

  dispose(): void {
    this.off();
  }
}
