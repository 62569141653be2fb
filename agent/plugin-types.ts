/**
 * The plugin's types, generated from the methods' own TypeBox schemas (one source of truth):
 * `cockpit/src/generated/api.ts` declares every method's params and result, and the plugin
 * imports `Params<'pool.create'>`, `Result<'pool.list'>` instead of copying the agent's shapes.
 * Written by `scripts/gen-plugin-types.mjs`; test/cockpit/plugin-types.test.ts fails when the
 * file is not current.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { DryRunPlanSchema } from '../rpc/registry.js';
import { createAgent } from './create-agent.js';

type Schema = Record<string, unknown>;

export const PLUGIN_TYPES_FILE = 'cockpit/src/generated/api.ts';

const IDENT = /^[A-Za-z_$][\w$]*$/;
const key = (k: string) => (IDENT.test(k) ? k : JSON.stringify(k));
const typeName = (id: string) => id.replace(/[^\w$]/g, '_');
const doc = (s: Schema, ind: string) =>
  typeof s.description === 'string' && s.description
    ? `${ind}/** ${s.description.replace(/\*\//g, '*∕').replace(/\s*\n\s*/g, ' ')} */\n`
    : '';
/** `T[]` for a plain name, `Array<…>` for anything else (unions, object literals). */
const arrayOf = (t: string) => (/^[\w$.'"]+$/.test(t) ? `${t}[]` : `Array<${t}>`);

/** TypeScript text of JSON Schemas; schemas with `$id` (recursive ones) become named types. */
class Converter {
  readonly named = new Map<string, string>();
  /**
   * Rendering params: a required property with a `default` may be left out by the caller (the
   * core fills it in, rpc/params-defaults.ts), so it is optional there; a result always has it.
   */
  params = false;

  ts(s: Schema, ind = ''): string {
    if (typeof s.$ref === 'string') return typeName(s.$ref);
    if (typeof s.$id === 'string') {
      const name = typeName(s.$id);
      if (!this.named.has(name)) {
        this.named.set(name, 'unknown'); // placeholder while its own body refers to it
        const { $id: _, ...body } = s;
        this.named.set(name, this.ts(body));
      }
      return name;
    }
    if ('const' in s) return JSON.stringify(s.const);
    if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ') || 'never';
    const alts = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
    if (Array.isArray(alts)) return alts.length ? alts.map((a) => this.ts(a, ind)).join(' | ') : 'never';
    if (Array.isArray(s.allOf)) return (s.allOf as Schema[]).map((a) => this.ts(a, ind)).join(' & ');
    if (Array.isArray(s.type))
      return (s.type as string[]).map((t) => this.ts({ ...s, type: t }, ind)).join(' | ');
    switch (s.type) {
      case 'string':
        return 'string';
      case 'number':
      case 'integer':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'null':
        return 'null';
      case 'array': {
        if (Array.isArray(s.items))
          return `[${(s.items as Schema[]).map((i) => this.ts(i, ind)).join(', ')}]`;
        return arrayOf(this.ts((s.items ?? {}) as Schema, ind));
      }
      case 'object':
        return this.object(s, ind);
      default:
        return 'unknown';
    }
  }

  private object(s: Schema, ind: string): string {
    const props = (s.properties ?? {}) as Record<string, Schema>;
    const required = new Set((s.required as string[] | undefined) ?? []);
    const must = (k: string, v: Schema) => required.has(k) && !(this.params && 'default' in v);
    const inner = `${ind}  `;
    const lines = Object.entries(props).map(
      ([k, v]) => `${doc(v, inner)}${inner}${key(k)}${must(k, v) ? '' : '?'}: ${this.ts(v, inner)};`,
    );
    const pattern = s.patternProperties as Record<string, Schema> | undefined;
    const extra = pattern
      ? Object.values(pattern)
          .map((v) => this.ts(v, inner))
          .join(' | ')
      : typeof s.additionalProperties === 'object'
        ? this.ts(s.additionalProperties as Schema, inner)
        : s.additionalProperties === true
          ? 'unknown'
          : undefined;
    if (!lines.length)
      return extra ? `Record<string, ${extra}>` : s.properties ? '{}' : 'Record<string, unknown>';
    if (extra)
      lines.push(`${inner}[key: string]: ${extra}${Object.keys(props).length ? ' | undefined' : ''};`);
    return `{\n${lines.join('\n')}\n${ind}}`;
  }
}

export async function renderPluginTypes(tmpRoot: string): Promise<string> {
  const prefix = mkdtempSync(path.join(tmpRoot, 'calypso-types-'));
  try {
    const agent = await createAgent({
      prefix,
      config: { log: { file: false, level: 'silent' } } as never,
      log: pino({ level: 'silent' }),
    });
    const defs = agent.registry
      .list()
      .map(({ def, params }) => ({ def, params: JSON.parse(JSON.stringify(params)) as Schema }))
      .sort((a, b) => (a.def.name < b.def.name ? -1 : 1));
    await agent.stop();
    const c = new Converter();
    const methods = defs.map(({ def, params }) => {
      const result = JSON.parse(JSON.stringify(def.result ?? {})) as Schema;
      c.params = true;
      const paramsTs = c.ts(params, '    ');
      c.params = false;
      return [
        `  /** ${def.summary.replace(/\*\//g, '*∕')} */`,
        `  ${JSON.stringify(def.name)}: {`,
        `    params: ${paramsTs};`,
        `    result: ${def.job ? '{ job: string }' : c.ts(result, '    ')};`,
        ...(def.job
          ? [`    /** what the job ends with (job.get) */\n    jobResult: ${c.ts(result, '    ')};`]
          : []),
        '  };',
      ].join('\n');
    });
    return [
      '// Generated by scripts/gen-plugin-types.mjs from the methods’ TypeBox schemas (agent/plugin-types.ts).',
      '// Do not edit: change the schema in agent/ and run `npm run build && node scripts/gen-plugin-types.mjs`.',
      '',
      ...[...c.named].map(([name, t]) => `export type ${name} = ${t};\n`),
      `/** ${DryRunPlanSchema.description} (any mutating method called with \`dryRun: true\`). */`,
      `export type DryRunPlan = ${c.ts(JSON.parse(JSON.stringify(DryRunPlanSchema)) as Schema)};\n`,
      '/** Every method: its params and its result (a mutating method called with `dryRun` answers a plan instead). */',
      'export interface Methods {',
      methods.join('\n'),
      '}',
      '',
      'export type Method = keyof Methods;',
      "export type Params<M extends Method> = Methods[M]['params'];",
      "export type Result<M extends Method> = Methods[M]['result'];",
      '/** One item of a list method (`{ items, total }`, docs/api.md), or of a result that is an array. */',
      'export type Item<M extends Method> = Result<M> extends { items: readonly (infer T)[] }',
      '  ? T',
      '  : Result<M> extends readonly (infer T)[]',
      '    ? T',
      '    : never;',
      '',
    ].join('\n');
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
}
