/**
 * The systemd unit and the logrotate configuration, rendered from the static templates under
 * packaging/ (shipped in every release). Pure: text in, text out.
 */
import path from 'node:path';
import type { Layout } from '../layout.js';

/** systemd's command-line quoting: a word with whitespace or quotes goes in double quotes. */
function quote(word: string): string {
  return /[\s"'\\]/.test(word) ? `"${word.replace(/(["\\])/g, '\\$1')}"` : word;
}

export function agentExecStart(layout: Layout): string[] {
  const argv = [path.join(layout.current, 'bin', 'calypso-agent')];
  // Under a prefix the unit drives the prefixed tree; on `/` the default prefix applies.
  if (layout.prefix !== '/') argv.push('--prefix', layout.prefix);
  // The agent writes agent.log itself; --quiet keeps the journal for what systemd and a crashing
  // agent say on stderr, instead of a second copy of every log line.
  argv.push('--quiet');
  return argv;
}

export function renderUnit(template: string, layout: Layout, docFile: string): string {
  return fill(template, {
    EXEC_START: agentExecStart(layout).map(quote).join(' '),
    DOC: docFile,
  });
}

export function renderLogrotate(template: string, layout: Layout): string {
  return fill(template, { LOG_DIR: layout.logDir });
}

function fill(template: string, values: Record<string, string>): string {
  const out = template.replace(/@([A-Z_]+)@/g, (m, k: string) => {
    const v = values[k];
    if (v === undefined) throw new Error(`template: no value for ${m}`);
    return v;
  });
  return out;
}
