/**
 * Errors from the agent, and what to tell a person about them. The agent's application errors
 * carry `data.kind` (docs/design.md "Errors"); the client adds `disconnected` for a lost channel.
 */
import { _, format } from '../i18n.js';

export type ErrorKind =
  | 'denied'
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'busy'
  | 'unavailable'
  | 'failed'
  | 'timeout'
  | 'aborted'
  | 'limit'
  | 'disconnected'
  | 'protocol';

export class AgentError extends Error {
  constructor(
    message: string,
    readonly kind: ErrorKind,
    readonly code: number,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AgentError';
  }

  static fromWire(e: { code: number; message: string; data?: unknown }): AgentError {
    const data = (e.data && typeof e.data === 'object' ? e.data : {}) as Record<string, unknown>;
    let kind = typeof data.kind === 'string' ? (data.kind as ErrorKind) : undefined;
    if (!kind) kind = e.code === -32601 ? 'not_found' : e.code === -32602 ? 'invalid' : 'protocol';
    // "Method not found" means this agent is older than the page, not that an object is missing
    if (e.code === -32601) data.missingMethod = true;
    return new AgentError(e.message, kind, e.code, data);
  }
}

export interface Explained {
  title: string;
  detail: string;
  /** the agent's own words, shown under the explanation */
  message?: string;
}

/** Plain words for an error, for alerts on every page. */
export function explain(error: unknown): Explained {
  let err = error;
  // a job's error is the wire shape ({code, message, data}), not an AgentError
  if (!(err instanceof AgentError) && isWireError(err)) err = AgentError.fromWire(err);
  if (!(err instanceof AgentError)) {
    return { title: _('Something went wrong'), detail: err instanceof Error ? err.message : String(err) };
  }
  const m = err.message;
  switch (err.kind) {
    case 'denied':
      return {
        title: _('Not allowed'),
        detail: format(
          _('Your account may not do this (it needs the $0 role, you have $1). Ask an administrator.'),
          String(err.data.need ?? _('a higher')),
          String(err.data.have ?? _('a lower one')),
        ),
        message: m,
      };
    case 'unavailable':
      return {
        title: _('Not available on this appliance'),
        detail: String(err.data.reason ?? m),
        message: err.data.reason && err.data.reason !== m ? m : undefined,
      };
    case 'disconnected':
      return { title: _('The Calypso agent cannot be reached'), detail: m };
    case 'not_found':
      if (err.data.missingMethod) {
        return {
          title: _('Not supported by this agent'),
          detail: _('The agent is older than this page.'),
          message: m,
        };
      }
      return { title: _('Not found'), detail: m };
    case 'invalid':
      return { title: _('Check the input'), detail: m };
    case 'conflict':
      return { title: _('Conflict'), detail: m };
    case 'busy':
      return { title: _('Busy'), detail: format(_('$0 Try again when it has finished.'), m) };
    case 'failed':
      return { title: _('The operation failed'), detail: m, message: stderrTail(err.data) };
    case 'timeout':
      return { title: _('Timed out'), detail: m };
    case 'aborted':
      return { title: _('Aborted'), detail: m };
    case 'limit':
      return { title: _('Limit reached'), detail: m };
    default:
      return { title: _('Unexpected answer from the agent'), detail: m };
  }
}

function stderrTail(data: Record<string, unknown>): string | undefined {
  const s = data.stderr;
  return typeof s === 'string' && s.trim() ? s.trim().split('\n').slice(-3).join('\n') : undefined;
}

function isWireError(e: unknown): e is { code: number; message: string; data?: unknown } {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'number' &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}
