/**
 * The README and docs/ say only true things about the repository: every repository path, file,
 * script, `npm run` target and API method they mention exists.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/paths.js';

const root = repoRoot();
const ROOT_FILES = ['package.json', 'tsconfig.json', 'biome.json', 'README.md', 'package-lock.json'];

function docFiles(): string[] {
  const dir = path.join(root, 'docs');
  const out = ['README.md'];
  for (const e of readdirSync(dir)) if (e.endsWith('.md')) out.push(path.join('docs', e));
  return out;
}

/** Backticked spans, outside fenced blocks too (commands in fences name files as well). */
function spans(text: string): string[] {
  return [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
}

function globExists(rel: string): boolean {
  if (!rel.includes('*')) return existsSync(path.join(root, rel));
  const dir = path.dirname(rel);
  if (dir.includes('*')) return existsSync(path.join(root, dir.split('*')[0]!));
  const re = new RegExp(
    `^${path
      .basename(rel)
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')}$`,
  );
  return existsSync(path.join(root, dir)) && readdirSync(path.join(root, dir)).some((e) => re.test(e));
}

/** Repository paths named in a text: words starting with a top-level folder or naming a root file. */
function repoPaths(text: string): string[] {
  const out = new Set<string>();
  const word =
    /(?<![\w./@-])((?:\.ci\/run)|(?:(?:agent|rpc|cli|cockpit|scripts|test|bench|docs|packaging|probes|udev|types)\/[\w./*-]*[\w*]))/g;
  for (const s of spans(text)) {
    for (const m of s.matchAll(word)) {
      const p = m[1]!;
      if (/[<>{}]|\.\.\.|…/.test(p)) continue; // placeholders
      out.add(p.replace(/[.:]+$/, ''));
    }
    if (ROOT_FILES.includes(s)) out.add(s);
  }
  // Markdown links to local files.
  for (const m of text.matchAll(/\]\(((?!https?:|#|mailto:)[^)\s#]+)(#[^)]*)?\)/g)) out.add(`link:${m[1]}`);
  return [...out];
}

/**
 * Dotted names the docs use that are not methods: event topics, alert ids, calypso.yaml keys,
 * audit record kinds, file names, and methods registered only with a backend that is not
 * configured when the reference is generated (MinIO).
 */
const NOT_METHODS = new Set([
  // event topics
  'job.progress',
  'disk.added',
  'disk.removed',
  'disk.changed',
  'tape.added',
  'tape.removed',
  'enclosure.changed',
  'hardware.changed',
  'pool.health',
  // maintenance.calendar sources
  'replication.task',
  'replication.drill',
  // alert ids
  'release.upgrade',
  'audit.chain',
  // calypso.yaml keys
  'notify.sendmailPath',
  'notify.retryBaseMs',
  'notify.maxAttempts',
  'audit.maxParamsBytes',
  'audit.refusalsPerMinute',
  'audit.retentionDays',
  'audit.maxRecords',
  'terminal.shell',
  'terminal.maxSessions',
  'terminal.idleTimeoutSec',
  'notify.timeoutMs',
  'notify.concurrency',
  'notify.webhookAllow',
  'iscsi.backend',
  'iscsi.tgtControlPort',
  'object.backend',
  // audit record kinds
  'audit.refusals',
  'audit.prune',
  'auth.token.sessions.close',
  // ports (agent/<subsystem>/port.ts)
  'backup.bacula',
  // files
  'replication.ts',
  // registered only when object.backend is minio
  'object.minio.env.apply',
  'object.minio.env.history',
]);

function methodSet(): Set<string> {
  const api = readFileSync(path.join(root, 'docs/api.md'), 'utf8');
  const gen = api.slice(api.indexOf('<!-- api:start -->'), api.indexOf('<!-- api:end -->'));
  return new Set([...gen.matchAll(/^\| `([a-z][\w.]*)` \|/gm)].map((m) => m[1]!));
}

test('every repository path the README and docs/ mention exists', () => {
  const missing: string[] = [];
  for (const f of docFiles()) {
    const text = readFileSync(path.join(root, f), 'utf8');
    for (const p of repoPaths(text)) {
      if (p.startsWith('link:')) {
        const rel = path.join(path.dirname(f), p.slice(5));
        if (!existsSync(path.join(root, rel))) missing.push(`${f}: link ${p.slice(5)}`);
        continue;
      }
      // dist/ and artifacts/ are build outputs; test/... paths inside dist are fine as sources
      if (!globExists(p) && !globExists(p.replace(/\.js$/, '.ts')) && !globExists(`${p}.ts`))
        missing.push(`${f}: ${p}`);
    }
  }
  assert.deepEqual(missing, [], `stale paths in the docs:\n${missing.join('\n')}`);
});

test('every `npm run` target the docs mention is a script of package.json', () => {
  const scripts = Object.keys(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts);
  const bad: string[] = [];
  for (const f of docFiles()) {
    const text = readFileSync(path.join(root, f), 'utf8');
    for (const m of text.matchAll(/npm run ([a-z][\w:-]*)/g))
      if (!scripts.includes(m[1]!)) bad.push(`${f}: npm run ${m[1]}`);
  }
  assert.deepEqual(bad, []);
});

test('every API method the docs mention exists in the registry', () => {
  const methods = methodSet();
  assert.ok(methods.size > 100, 'the generated method reference in docs/api.md was found');
  const areas = new Set([...methods].map((m) => m.split('.')[0]!));
  const bad: string[] = [];
  for (const f of docFiles()) {
    const text = readFileSync(path.join(root, f), 'utf8');
    for (const s of spans(text)) {
      const m = /^([a-z]+)\.([a-z][\w.]*[a-zA-Z])(?:\s|\(|$)/.exec(s);
      if (!m || !areas.has(m[1]!)) continue;
      const name = `${m[1]}.${m[2]}`;
      if (/\.(ts|js|mjs|md|json|sh)$/.test(name)) continue; // a file name
      if (!methods.has(name) && !NOT_METHODS.has(name)) bad.push(`${f}: ${name}`);
    }
  }
  assert.deepEqual([...new Set(bad)], [], 'methods the docs name that the registry does not have');
});
