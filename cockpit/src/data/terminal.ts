/** terminal.* — a login shell on the appliance, output as terminal.output events (admin only). */
import type { Result } from '../generated/api.js';
import type { AgentClient, AgentEvent } from '../rpc/client.js';

export interface TerminalOutput {
  id: string;
  seq: number;
  offset: number;
  data: string;
}

export interface TerminalClosed {
  id: string;
  reason: string;
  exitCode?: number;
}

export interface TerminalHandle {
  id: string;
  input(data: string): Promise<unknown>;
  resize(cols: number, rows: number): Promise<unknown>;
  /** Acknowledge processed output (flow control: the shell pauses when too much is unacknowledged). */
  ack(received: number): Promise<unknown>;
  close(): Promise<unknown>;
  dispose(): void;
}

/**
 * Open a terminal and follow its output. Listeners are attached before the call, because the
 * first output can arrive in the same read as the answer to terminal.open.
 */
export async function openTerminal(
  c: AgentClient,
  size: { cols: number; rows: number },
  onOutput: (o: TerminalOutput) => void,
  onClosed: (c: TerminalClosed) => void,
): Promise<TerminalHandle> {
  let id: string | undefined;
  const early: AgentEvent[] = [];
  const handle = (ev: AgentEvent) => {
    const d = ev.data as TerminalOutput & TerminalClosed;
    if (id === undefined) {
      early.push(ev);
      return;
    }
    if (d.id !== id) return;
    if (ev.topic === 'terminal.output') onOutput(d);
    else if (ev.topic === 'terminal.closed') onClosed(d);
  };
  const off = c.on(['terminal.output', 'terminal.closed'], handle, { remote: false });
  try {
    const r = await c.call<Result<'terminal.open'>>('terminal.open', { ...size, ack: true });
    id = r.id;
  } catch (e) {
    off();
    throw e;
  }
  for (const ev of early.splice(0)) handle(ev);
  const tid = id;
  return {
    id: tid,
    input: (data) => c.call('terminal.input', { id: tid, data }),
    resize: (cols, rows) => c.call('terminal.resize', { id: tid, cols, rows }),
    ack: (received) => c.call('terminal.ack', { id: tid, received }),
    close: () => c.call('terminal.close', { id: tid }),
    dispose: off,
  };
}
