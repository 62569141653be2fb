/**
 * The commented calypso.yaml template, rendered from the configuration schema itself
 * (agent/config.ts): every setting appears with its default value, its description and its
 * constraints as comments. Generating it from the schema means the template cannot drift from
 * what the agent accepts; a test parses it back and compares it with the defaults.
 */
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { stringify } from 'yaml';
import { fullConfigSchema } from '../subsystems.js';

const HEADER = `# Calypso agent configuration.
#
# Every setting is shown with its default value; delete a line to go back to the default.
# The agent reads this file at start (systemctl restart calypso-agent after a change) and stops
# with the file, line and reason when it is invalid. Secrets never go here: they live in
# secrets.env (mode 0600) next to this file.
`;

export function renderConfigTemplate(schema: TSchema = fullConfigSchema()): string {
  const defaults = Value.Default(schema, {}) as Record<string, unknown>;
  const lines = [HEADER.trimEnd()];
  renderObject(schema, defaults, 0, lines);
  return `${lines.join('\n')}\n`;
}

/**
 * `commented`: inside an optional section that has no default (`iscsi.defaultPortal`): the
 * whole section is shown commented out, since an empty one would not parse.
 */
function renderObject(
  schema: TSchema,
  value: Record<string, unknown>,
  depth: number,
  out: string[],
  commented = false,
): void {
  const props = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
  const pad = '  '.repeat(depth);
  const off = commented ? '# ' : '';
  for (const [key, sub] of Object.entries(props)) {
    const v = value?.[key];
    const notes = describe(sub);
    if (depth === 0) out.push('');
    for (const n of notes) out.push(`${pad}# ${n}`);
    if (isObject(sub)) {
      const absent = commented || v === undefined;
      out.push(`${pad}${absent ? '# ' : ''}${key}:`);
      renderObject(sub, (v ?? {}) as Record<string, unknown>, depth + 1, out, absent);
    } else if (v === undefined) {
      out.push(`${pad}# ${key}:`);
    } else {
      out.push(`${pad}${off}${key}: ${scalar(v)}`);
    }
  }
}

function isObject(s: TSchema): boolean {
  return (s as { type?: string }).type === 'object' && !!(s as { properties?: unknown }).properties;
}

function scalar(v: unknown): string {
  return stringify(v, { collectionStyle: 'flow' }).trim();
}

/** Description and constraints of one schema node, as comment lines. */
function describe(s: TSchema): string[] {
  const out: string[] = [];
  const desc = (s as { description?: string }).description;
  if (desc) out.push(desc);
  const c: string[] = [];
  const anyOf = (s as { anyOf?: { const?: unknown }[] }).anyOf;
  if (anyOf?.every((a) => a.const !== undefined))
    c.push(`one of: ${anyOf.map((a) => String(a.const)).join(', ')}`);
  const { minimum, maximum, pattern } = s as { minimum?: number; maximum?: number; pattern?: string };
  if (minimum !== undefined) c.push(`minimum ${minimum}`);
  if (maximum !== undefined) c.push(`maximum ${maximum}`);
  if (pattern !== undefined) c.push(`pattern ${pattern}`);
  if (c.length) out.push(`(${c.join('; ')})`);
  return out;
}
