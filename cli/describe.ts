/**
 * `calypsoctl describe METHOD`: one method of the OpenRPC document (rpc.discover) for people —
 * what it does, the least role, whether it mutates or runs as a job, each param with its type,
 * whether it is required and its description, and a `calypsoctl call` line that runs as printed.
 * Pure functions of the document, so they are tested without an agent.
 */

export interface OpenRpcParam {
  name: string;
  required?: boolean;
  description?: string;
  schema: Schema;
}

export interface OpenRpcMethod {
  name: string;
  summary?: string;
  description?: string;
  params: OpenRpcParam[];
  'x-role'?: string;
  'x-mutating'?: boolean;
  'x-job'?: boolean;
}

export interface OpenRpcDoc {
  methods: OpenRpcMethod[];
}

type Schema = Record<string, unknown>;

/** The type of a schema in a few characters: string, integer, "a" | "b", string[], object. */
export function typeName(s: Schema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (Array.isArray(s.anyOf)) return [...new Set((s.anyOf as Schema[]).map(typeName))].join(' | ');
  if (Array.isArray(s.allOf)) {
    // a named format with rules (agent/formats.ts): the members share one type
    const t = new Set((s.allOf as Schema[]).map(typeName));
    return t.size === 1 ? [...t][0]! : 'any';
  }
  if (s.type === 'array') return `${typeName((s.items ?? {}) as Schema)}[]`;
  if (typeof s.type === 'string') return s.type;
  return 'any';
}

/** Limits worth a person's eye: length, range, item count. */
function limits(s: Schema): string[] {
  const out: string[] = [];
  const all = Array.isArray(s.allOf) ? [s, ...(s.allOf as Schema[])] : [s];
  const pick = (k: string) => all.map((x) => x[k]).find((v) => typeof v === 'number') as number | undefined;
  const [minL, maxL, min, max] = [pick('minLength'), pick('maxLength'), pick('minimum'), pick('maximum')];
  if (maxL !== undefined) out.push(`${minL ?? 0}–${maxL} characters`);
  if (min !== undefined || max !== undefined) out.push(`${min ?? '…'}–${max ?? '…'}`);
  if (s.default !== undefined) out.push(`default ${JSON.stringify(s.default)}`);
  return out;
}

/**
 * A value that the schema accepts, for the example line: the schema's own example or default
 * when it has one, else the first choice, else a placeholder of the right type.
 */
export function exampleOf(s: Schema, name = 'value'): unknown {
  if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
  if (s.default !== undefined) return s.default;
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  if (Array.isArray(s.anyOf)) {
    const first = (s.anyOf as Schema[]).find((x) => x.type !== 'null');
    return first ? exampleOf(first, name) : null;
  }
  if (Array.isArray(s.allOf)) {
    for (const x of s.allOf as Schema[]) {
      if (Array.isArray(x.examples) && x.examples.length) return x.examples[0];
    }
    return exampleOf((s.allOf as Schema[]).at(-1) ?? {}, name);
  }
  switch (s.type) {
    case 'string':
      return `<${name}>`;
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 1;
    case 'boolean':
      return true;
    case 'array': {
      const n = typeof s.minItems === 'number' && s.minItems > 0 ? s.minItems : 1;
      return Array.from({ length: n }, () => exampleOf((s.items ?? {}) as Schema, name));
    }
    case 'object':
      return exampleObject(s);
    default:
      return `<${name}>`;
  }
}

function exampleObject(s: Schema): Record<string, unknown> {
  const props = (s.properties ?? {}) as Record<string, Schema>;
  const required = new Set((s.required as string[] | undefined) ?? []);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) if (required.has(k)) out[k] = exampleOf(v, k);
  return out;
}

/** Example params of a method: every required param. */
export function exampleParams(m: OpenRpcMethod): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of m.params) if (p.required) out[p.name] = exampleOf(p.schema, p.name);
  return out;
}

/** Quote for a POSIX shell: one argument, as printed. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The `calypsoctl call` line for a method with its example params. */
export function exampleCall(m: OpenRpcMethod, dryRun = false): string {
  const p = exampleParams(m);
  if (dryRun) p.dryRun = true;
  const json = JSON.stringify(p);
  return `calypsoctl call ${m.name}${json === '{}' ? '' : ` ${shellQuote(json)}`}`;
}

export function kindOf(m: OpenRpcMethod): 'job' | 'mutating' | 'read' {
  return m['x-job'] ? 'job' : m['x-mutating'] ? 'mutating' : 'read';
}

/** The structured description (`--json`). */
export function describeJson(m: OpenRpcMethod) {
  return {
    method: m.name,
    summary: m.summary ?? '',
    ...(m.description ? { description: m.description } : {}),
    role: m['x-role'] ?? 'admin',
    kind: kindOf(m),
    mutating: Boolean(m['x-mutating']),
    job: Boolean(m['x-job']),
    params: m.params.map((p) => ({
      name: p.name,
      type: typeName(p.schema),
      required: Boolean(p.required),
      description: p.description ?? (p.schema.description as string | undefined) ?? '',
    })),
    example: exampleCall(m),
  };
}

/** The description for people. */
export function describeText(m: OpenRpcMethod): string {
  const d = describeJson(m);
  const lines = [`${m.name} — ${d.summary}`];
  if (d.description && d.description !== d.summary) lines.push('', d.description);
  const what =
    d.kind === 'job'
      ? 'runs as a job: returns {job} at once; follow it with `calypsoctl job ID --watch`'
      : d.kind === 'mutating'
        ? 'mutates: changes the appliance; audited'
        : 'reads: changes nothing';
  lines.push('', `role:   ${d.role} or above`, `kind:   ${what}`);
  if (d.mutating && m.params.some((p) => p.name === 'dryRun'))
    lines.push('        "dryRun": true returns the commands and file diffs instead, and changes nothing');
  lines.push('', d.params.length ? 'params (by name, as a JSON object):' : 'params: none');
  const width = Math.max(0, ...d.params.map((p) => p.name.length));
  for (const [i, p] of d.params.entries()) {
    const more = limits(m.params[i]!.schema);
    const req = p.required ? 'required' : 'optional';
    lines.push(`  ${p.name.padEnd(width)}  ${p.type}, ${req}${more.length ? `, ${more.join(', ')}` : ''}`);
    if (p.description) lines.push(`  ${' '.repeat(width)}  ${p.description}`);
  }
  lines.push('', 'example:', `  ${d.example}`);
  if (d.mutating && m.params.some((p) => p.name === 'dryRun')) lines.push(`  ${exampleCall(m, true)}`);
  return `${lines.join('\n')}\n`;
}
