/**
 * The one closed error catalogue (docs/design.md "Errors"; STYLE.md convention 4).
 *
 * Protocol faults use JSON-RPC's standard codes. Application errors use -32000..-32099 and
 * always carry `data.kind`. Anything else thrown by a handler becomes an internal error with
 * a sanitised message: no stack trace ever reaches a client.
 */

export const PROTOCOL_ERRORS = {
  parse_error: { code: -32700, message: 'Parse error' },
  invalid_request: { code: -32600, message: 'Invalid Request' },
  method_not_found: { code: -32601, message: 'Method not found' },
  invalid_params: { code: -32602, message: 'Invalid params' },
  internal_error: { code: -32603, message: 'Internal error' },
} as const;

/** Application error kinds and their codes. README's error table is checked against this by a test. */
export const ERROR_KINDS = {
  denied: { code: -32001, message: 'Permission denied', doc: 'the caller’s role does not allow this method' },
  invalid: {
    code: -32002,
    message: 'Invalid request',
    doc: 'the request is well-formed but cannot be carried out as asked',
  },
  not_found: { code: -32004, message: 'Not found', doc: 'the named object does not exist' },
  conflict: {
    code: -32009,
    message: 'Conflict',
    doc: 'the object exists already or is in a state that forbids this',
  },
  busy: { code: -32010, message: 'Busy', doc: 'a job holding the same lock is running; try later' },
  unavailable: {
    code: -32011,
    message: 'Unavailable',
    doc: 'the backend (tool, kernel feature, daemon) is missing or down; `data.reason` says why',
  },
  failed: {
    code: -32012,
    message: 'Failed',
    doc: 'the backend tool ran and failed; `data` carries its exit code and stderr tail',
  },
  timeout: { code: -32013, message: 'Timed out', doc: 'the backend did not answer within its deadline' },
  aborted: { code: -32014, message: 'Aborted', doc: 'the work was aborted by a caller or by shutdown' },
  limit: {
    code: -32015,
    message: 'Limit exceeded',
    doc: 'a message, batch, nesting or connection limit was exceeded',
  },
} as const;

export type ErrorKind = keyof typeof ERROR_KINDS;

export interface RpcErrorData {
  kind: ErrorKind;
  [key: string]: unknown;
}

/** An operational error raised on purpose: its message and data are safe to show to the caller. */
export class RpcError extends Error {
  readonly kind: ErrorKind;
  readonly code: number;
  readonly data: RpcErrorData;
  constructor(kind: ErrorKind, message?: string, data: Record<string, unknown> = {}) {
    super(message ?? ERROR_KINDS[kind].message);
    this.name = 'RpcError';
    this.kind = kind;
    this.code = ERROR_KINDS[kind].code;
    this.data = { ...data, kind };
  }
}

/** Validation failure of a method's params: JSON-RPC's invalid-params code with `kind: invalid`. */
export class InvalidParamsError extends RpcError {
  constructor(message: string, errors: { path: string; message: string }[]) {
    super('invalid', message, { errors });
    (this as { code: number }).code = PROTOCOL_ERRORS.invalid_params.code;
  }
}

export const denied = (message: string, data?: Record<string, unknown>) =>
  new RpcError('denied', message, data);
export const invalid = (message: string, data?: Record<string, unknown>) =>
  new RpcError('invalid', message, data);
export const notFound = (message: string, data?: Record<string, unknown>) =>
  new RpcError('not_found', message, data);
export const conflict = (message: string, data?: Record<string, unknown>) =>
  new RpcError('conflict', message, data);
export const busy = (message: string, data?: Record<string, unknown>) => new RpcError('busy', message, data);
export const unavailable = (message: string, data?: Record<string, unknown>) =>
  new RpcError('unavailable', message, { reason: message, ...data });
export const failed = (message: string, data?: Record<string, unknown>) =>
  new RpcError('failed', message, data);
export const timedOut = (message: string, data?: Record<string, unknown>) =>
  new RpcError('timeout', message, data);
export const aborted = (message: string, data?: Record<string, unknown>) =>
  new RpcError('aborted', message, data);

export interface WireError {
  code: number;
  message: string;
  data?: unknown;
}

/** The one mapping point from a thrown value to a wire error. Unknown errors are sanitised. */
export function toWireError(err: unknown, onUnknown?: (err: unknown) => void): WireError {
  if (err instanceof RpcError) return { code: err.code, message: err.message, data: err.data };
  onUnknown?.(err);
  return { code: PROTOCOL_ERRORS.internal_error.code, message: PROTOCOL_ERRORS.internal_error.message };
}
