/**
 * Errors as calypsoctl reports them, once, with exit code 1. For scripts (stderr is not a
 * terminal) a JSON-RPC error is one line of JSON on stderr, which they parse (docs/calypsoctl.md).
 * A person at a terminal gets the same error in plain words instead: the message, the closest
 * method names when the agent suggests some (error.data.suggestions, or .suggestion), the
 * invalid params, the reason of an `unavailable`, and the last lines the failed tool printed
 * (e.g. zfs-fuse's "Please make sure that the zfs-fuse daemon is running").
 */

export interface ErrorJson {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

/** Method names the agent (or the CLI itself) suggests for an unknown one. */
export function suggestionsOf(data: Record<string, unknown> | undefined): string[] {
  if (!data) return [];
  const s = data.suggestions ?? data.suggestion ?? data.didYouMean;
  if (typeof s === 'string') return [s];
  if (Array.isArray(s)) return s.filter((x): x is string => typeof x === 'string');
  return [];
}

/** The error in plain words, for people. */
export function plainError(e: ErrorJson): string {
  const lines = [`calypsoctl: ${e.message}`];
  const errors = e.data?.errors;
  if (Array.isArray(errors) && errors.length > 1) {
    for (const x of errors.slice(0, 5) as { path?: string; message?: string }[])
      lines.push(`  ${x.path ?? '/'}: ${x.message ?? ''}`);
  }
  const sug = suggestionsOf(e.data).filter((s) => !e.message.includes(s));
  if (sug.length) lines.push(`  did you mean ${sug.map((s) => `\`${s}\``).join(' or ')}?`);
  if (
    e.data?.kind === 'unavailable' &&
    typeof e.data.reason === 'string' &&
    !e.message.includes(e.data.reason)
  )
    lines.push(`  ${e.data.reason}`);
  if (typeof e.data?.stderr === 'string') {
    const tail = e.data.stderr
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !e.message.includes(l))
      .slice(-3);
    for (const l of tail) lines.push(`  ${l}`);
  }
  return `${lines.join('\n')}\n`;
}

/** What goes to stderr: plain words when a person reads it, else the JSON line. */
export function errorOutput(e: ErrorJson, forPeople: boolean): string {
  return forPeople ? plainError(e) : `${JSON.stringify(e)}\n`;
}
