/**
 * Renders docs/api.md's method reference from the OpenRPC document (rpc.discover), so that the
 * documentation is generated from the same schemas that validate calls.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { createAgent } from './create-agent.js';
import { typeOfSchema } from './formats.js';

interface OpenRpcMethod {
  name: string;
  summary: string;
  params: { name: string; required: boolean; description?: string; schema: Record<string, unknown> }[];
  'x-role': string;
  'x-mutating': boolean;
  'x-job': boolean;
}

function typeOf(s: Record<string, unknown>): string {
  if (Array.isArray(s.anyOf)) return (s.anyOf as Record<string, unknown>[]).map(typeOf).join(' \\| ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.type === 'array') return `${typeOf((s.items ?? {}) as Record<string, unknown>)}[]`;
  if (Array.isArray(s.allOf)) return typeOfSchema(s) ?? 'any';
  return String(s.type ?? 'any');
}

export async function renderApiSection(tmpRoot: string): Promise<string> {
  const prefix = mkdtempSync(path.join(tmpRoot, 'calypso-docs-'));
  try {
    const agent = await createAgent({
      prefix,
      config: { log: { file: false, level: 'silent' } } as never,
      log: pino({ level: 'silent' }),
    });
    const doc = (await agent.inject('rpc.discover')) as { methods: OpenRpcMethod[] };
    await agent.stop();
    const areas = new Map<string, OpenRpcMethod[]>();
    for (const m of doc.methods) {
      const area = m.name.split('.')[0]!;
      areas.set(area, [...(areas.get(area) ?? []), m]);
    }
    const lines = [
      `${doc.methods.length} methods, generated from \`rpc.discover\` by \`scripts/gen-api-docs.mjs\`. ` +
        'Role is the least role allowed; *job* methods return `{job}` at once; every *mutating* method accepts `dryRun: true`.',
      '',
      'Every list method (`*.list`, `*.config.history`) answers one shape: `{ items, total }`, where `total` ' +
        'is how many there are (more than `items` only where the list pages), plus its paging fields where it ' +
        'pages (`alert.list`: `next`; `job.list`, `snapshot.list`, `backup.history`: `limit`/`offset` in the ' +
        'request) and a few fields of its own (`media.list`: `notes`; `release.list`: `current`, `previous`, ' +
        '`upgrade`; `snapshot.list`: `listedAt`, `cached`). `rpc/list.ts` builds it; ' +
        '`test/core/list-shape.test.ts` fails on any other shape.',
      '',
    ];
    for (const [area, methods] of areas) {
      lines.push(`### ${area}`, '', '| method | role | kind | params | summary |', '|---|---|---|---|---|');
      for (const m of methods) {
        const kind = m['x-job'] ? 'job' : m['x-mutating'] ? 'mutating' : 'read';
        const params = m.params
          .filter((p) => p.name !== 'dryRun')
          .map((p) => `\`${p.name}${p.required ? '' : '?'}\`: ${typeOf(p.schema)}`)
          .join(', ');
        lines.push(
          `| \`${m.name}\` | ${m['x-role']} | ${kind} | ${params || '—'} | ${m.summary.replace(/\|/g, '\\|')} |`,
        );
      }
      lines.push('');
    }
    return lines.join('\n');
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
}
