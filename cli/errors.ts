/**
 * Errors as calypsoctl reports them. The contract (docs/design.md): a JSON-RPC error goes to stderr as
 * one line of JSON and the exit code is 1; scripts parse that line. A person at a terminal also
 * gets the same error in plain words on the next line: the message, the closest method names
 * when the agent suggests some (error.data.suggestions, or .suggestion), and the first invalid
 * param.
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
  return `${lines.join('\n')}\n`;
}

/** What goes to stderr: the JSON line always; plain words after it when a person reads it. */
export function errorOutput(e: ErrorJson, forPeople: boolean): string {
  return `${JSON.stringify(e)}\n${forPeople ? plainError(e) : ''}`;
}
