/**
 * Resource commands for people who use `zfs`, `zpool` and `midclt`: `calypsoctl pool list`,
 * `calypsoctl dataset create tank/a --compression lz4`, `calypsoctl iscsi target list`. They are
 * made from the running agent's method registry (rpc.discover), so they always match the agent
 * they talk to: the method's dotted name is the command path, its first required text param is
 * the positional argument, every other param an option (required ones marked), `--dry-run` on
 * every mutation. Options a method does not know go into its `properties` object when it has one
 * (`--compression lz4`). `calypsoctl call` stays for everything.
 */
import type { Command } from 'commander';
import { RpcClientError } from '../rpc/client.js';
import { kindOf, type OpenRpcDoc, type OpenRpcMethod, type OpenRpcParam, typeName } from './describe.js';

type Schema = Record<string, unknown>;

export type RunMethod = (method: string, params: Record<string, unknown>) => Promise<void>;

/** `volBlockSize` → `vol-block-size` */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function baseType(s: Schema): string {
  if (typeof s.type === 'string') return s.type;
  for (const k of ['anyOf', 'allOf', 'oneOf'] as const) {
    const list = s[k];
    if (Array.isArray(list)) {
      const types = new Set((list as Schema[]).map(baseType));
      if (types.size === 1) return [...types][0]!;
      if (types.has('string')) return 'string-or-other';
    }
  }
  if (Array.isArray(s.enum)) return typeof s.enum[0] === 'string' ? 'string' : 'any';
  return 'any';
}

/** The param given as the positional argument: the first required param that is text. */
export function positionalOf(m: OpenRpcMethod): OpenRpcParam | undefined {
  return m.params.find((p) => p.required && p.name !== 'dryRun' && baseType(p.schema) === 'string');
}

/** A command-line value as the param's type: numbers, booleans, JSON for objects and arrays. */
export function coerce(p: OpenRpcParam, raw: string): unknown {
  const t = baseType(p.schema);
  if (t === 'integer' || t === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw invalid(`--${kebab(p.name)} takes a number, not "${raw}"`);
    return n;
  }
  if (t === 'object' || t === 'array') {
    try {
      return JSON.parse(raw);
    } catch {
      if (t === 'array') return raw.split(',').filter(Boolean);
      throw invalid(`--${kebab(p.name)} takes JSON, e.g. '{"key":"value"}'`);
    }
  }
  if (t === 'string-or-other' && /^\d+$/.test(raw)) return Number(raw);
  return raw;
}

function invalid(message: string): RpcClientError {
  return new RpcClientError(-32602, message, { kind: 'invalid' });
}

/**
 * What commander leaves over when a command allows unknown options: plain words (the positional
 * argument, wherever it stands) and `--key value` / `--key=value` pairs (for `properties`).
 */
export function splitOperands(args: string[]): { words: string[]; props: Record<string, string> } {
  const words: string[] = [];
  const props: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      words.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) props[a.slice(2, eq)] = a.slice(eq + 1);
    else {
      const v = args[i + 1];
      if (v === undefined || v.startsWith('--')) throw invalid(`${a} needs a value`);
      props[a.slice(2)] = v;
      i++;
    }
  }
  return { words, props };
}

/** Builds the params of one call from the positional argument and the parsed options. */
export function paramsOf(
  m: OpenRpcMethod,
  positional: string | undefined,
  opts: Record<string, unknown>,
  extra: Record<string, string> = {},
): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  const pos = positionalOf(m);
  if (pos && positional !== undefined) params[pos.name] = positional;
  for (const p of m.params) {
    if (p.name === 'dryRun') continue;
    const key = camel(kebab(p.name));
    const v = opts[key];
    if (v === undefined) continue;
    params[p.name] = typeof v === 'string' ? coerce(p, v) : v;
  }
  if (opts.dryRun) params.dryRun = true;
  if (Object.keys(extra).length) {
    if (!m.params.some((p) => p.name === 'properties'))
      throw invalid(
        `unknown option --${Object.keys(extra)[0]} (calypsoctl ${m.name.split('.').join(' ')} --help)`,
      );
    params.properties = { ...(params.properties as object | undefined), ...extra };
  }
  return params;
}

/** commander's attribute name for an option: `--vol-block-size` → `volBlockSize`. */
function camel(k: string): string {
  return k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function describeParam(p: OpenRpcParam): string {
  const t = typeName(p.schema);
  const d = p.description ?? (p.schema.description as string | undefined) ?? '';
  return `${d ? `${d} ` : ''}(${t})`;
}

/**
 * Registers a command for every method whose area is not a built-in command: `a.b.c` becomes
 * `calypsoctl a b c`. Returns the areas added.
 */
export function registerResourceCommands(program: Command, doc: OpenRpcDoc, run: RunMethod): string[] {
  const builtIn = new Set(program.commands.map((c) => c.name()));
  const added = new Set<string>();
  const groups = new Map<string, Command>();
  const group = (pathParts: string[]): Command => {
    let parent = program;
    for (let i = 0; i < pathParts.length; i++) {
      const key = pathParts.slice(0, i + 1).join(' ');
      let g = groups.get(key);
      if (!g) {
        g = parent.command(pathParts[i]!).description(`${key} commands`);
        groups.set(key, g);
      }
      parent = g;
    }
    return parent;
  };
  const sorted = [...doc.methods].sort((a, b) => a.name.localeCompare(b.name));
  const names = new Set(sorted.map((m) => m.name));
  for (const m of sorted) {
    const parts = m.name.split('.');
    if (parts.length < 2 || builtIn.has(parts[0]!)) continue;
    // a method that is also a group (`x.verify` and `x.verify.start`): reach it as `x verify run`
    const isGroupToo = sorted.some((o) => o.name.startsWith(`${m.name}.`));
    const cmdPath = isGroupToo ? [...parts, 'run'] : parts;
    if (isGroupToo && names.has(`${m.name}.run`)) continue;
    const parent = group(cmdPath.slice(0, -1));
    const cmd = parent.command(cmdPath[cmdPath.length - 1]!);
    const kind = kindOf(m);
    cmd.description(`${m.summary ?? m.name} [${m['x-role'] ?? 'admin'}, ${kind}; method ${m.name}]`);
    const pos = positionalOf(m);
    if (pos)
      cmd.argument(
        `[${pos.name.toUpperCase()}]`,
        `${describeParam(pos)} (required; or --${kebab(pos.name)})`,
      );
    for (const p of m.params) {
      if (p.name === 'dryRun') continue;
      const flag = `--${kebab(p.name)}`;
      const isBool = baseType(p.schema) === 'boolean';
      const req = p.required && p !== pos ? ' (required)' : '';
      cmd.option(isBool ? flag : `${flag} <value>`, `${describeParam(p)}${req}`);
    }
    if (m['x-mutating']) cmd.option('--dry-run', 'show the exact commands and file changes, change nothing');
    const takesProperties = m.params.some((p) => p.name === 'properties');
    if (takesProperties) cmd.allowUnknownOption(true).allowExcessArguments(true);
    cmd.action(async (...args: unknown[]) => {
      const self = args[args.length - 1] as Command;
      const opts = self.opts<Record<string, unknown>>();
      const { words, props } = takesProperties
        ? splitOperands(self.args)
        : { words: self.args.slice(), props: {} };
      const positional = pos
        ? ((opts[camel(kebab(pos.name))] as string | undefined) ?? words.shift())
        : undefined;
      if (pos && positional === undefined)
        throw invalid(`${cmdPath.join(' ')} needs ${pos.name.toUpperCase()} (${describeParam(pos)})`);
      for (const p of m.params)
        if (p.required && p !== pos && p.name !== 'dryRun' && opts[camel(kebab(p.name))] === undefined)
          throw invalid(`${cmdPath.join(' ')} needs --${kebab(p.name)} (${describeParam(p)})`);
      if (words.length) throw invalid(`unexpected argument "${words[0]}"`);
      await run(m.name, paramsOf(m, positional, opts, props));
    });
    added.add(parts[0]!);
  }
  return [...added];
}
