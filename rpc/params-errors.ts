/**
 * Params refusals in plain words (issue #16). A constrained schema may carry an `errorMessage`
 * (agent/formats.ts builds them); when params fail validation the caller reads that sentence,
 * with the path, instead of the regular expression, which stays on the schema. One problem,
 * one message: errors are deduplicated per path (TypeBox reports a missing property once per
 * member of an allOf), and a union's alternatives collapse into one message, which names the
 * alternative the caller meant (the one whose constant `kind` the value carries, else the one
 * closest to it) and the field that is wrong: `smtp: port must be 1–65535` (issue #22).
 */
import type { TSchema } from '@sinclair/typebox';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { patternRefusal } from './pattern-words.js';

export interface ParamProblem {
  path: string;
  message: string;
}

const MAX_PROBLEMS = 10;

function own(schema: TSchema): string | undefined {
  const m = (schema as { errorMessage?: unknown }).errorMessage;
  return typeof m === 'string' ? m : undefined;
}

/** The innermost errorMessage among a union's alternatives (the first alternative that has one). */
function unionMessage(branches: ValueError[][]): string | undefined {
  for (const it of branches) {
    for (const sub of it) {
      const m =
        own(sub.schema) ?? (sub.type === ValueErrorType.Union ? unionMessage(listed(sub)) : undefined);
      if (m) return m;
    }
  }
  return undefined;
}

/** A union error's alternatives, each as the list of its errors (TypeBox gives one-shot iterators). */
function listed(e: ValueError): ValueError[][] {
  return (e.errors ?? []).map((it) => [...it]);
}

type Schema = TSchema & { properties?: Record<string, Schema>; const?: unknown; anyOf?: Schema[] };

/** The constant properties of an object alternative (`kind: 'smtp'`): what tells the alternatives apart. */
function constants(alt: Schema): [string, unknown][] {
  return Object.entries(alt.properties ?? {}).flatMap(([k, p]) =>
    p.const !== undefined ? [[k, p.const]] : [],
  );
}

/** The alternative the caller meant and its label: the one whose constants the value carries, else the closest. */
function meant(e: ValueError, branches: ValueError[][]): { index: number; label: string } | undefined {
  const alts = ((e.schema as Schema).anyOf ?? []) as Schema[];
  const v = e.value as Record<string, unknown> | undefined;
  if (typeof v === 'object' && v !== null) {
    const hits = alts.flatMap((alt, index) => {
      const c = constants(alt);
      return c.length && c.every(([k, x]) => v[k] === x)
        ? [{ index, label: c.map(([, x]) => String(x)).join(' ') }]
        : [];
    });
    if (hits.length === 1) return hits[0];
    if (alts.some((a) => constants(a).length)) return undefined;
  }
  let best = -1;
  for (let i = 0; i < branches.length; i++)
    if (best < 0 || branches[i]!.length < branches[best]!.length) best = i;
  if (best < 0 || alts[best]?.const !== undefined) return undefined;
  const alt = alts[best] as { title?: string; description?: string } | undefined;
  return { index: best, label: alt?.title ?? alt?.description ?? `alternative ${best + 1}` };
}

/** The field a path ends in (`/target/smtp/port` → port; `/to/0` → to[0]). */
function fieldOf(p: string): string {
  const parts = p.split('/').filter(Boolean);
  const last = parts.at(-1) ?? '';
  return /^\d+$/.test(last) && parts.length > 1 ? `${parts.at(-2)}[${last}]` : last;
}

/** A union refused: the alternative the caller meant, the field and what is wrong with it. */
function unionProblem(e: ValueError): ParamProblem {
  const path = e.path || '/';
  const m = own(e.schema);
  if (m) return { path, message: m };
  const branches = listed(e);
  const alts = ((e.schema as Schema).anyOf ?? []) as Schema[];
  if (alts.length && alts.every((a) => a.const !== undefined))
    return { path, message: `must be one of ${alts.map((a) => JSON.stringify(a.const)).join(', ')}` };
  if (!alts.some((a) => a.properties))
    return { path, message: unionMessage(branches) ?? `must be ${alts.map(kindOf).join(' or ')}` };
  const pick = meant(e, branches);
  const first = pick ? branches[pick.index]?.[0] : undefined;
  if (!pick || !first) {
    if (typeof e.value === 'object' && e.value !== null && alts.some((a) => constants(a).length)) {
      const kinds = alts.map((a) =>
        constants(a)
          .map(([k, x]) => `${k} ${JSON.stringify(x)}`)
          .join(', '),
      );
      return { path, message: `must be one of: ${kinds.join('; ')}` };
    }
    return { path, message: unionMessage(branches) ?? e.message };
  }
  const inner =
    first.type === ValueErrorType.Union
      ? unionProblem(first)
      : { path: first.path, message: messageOf(first) };
  const field = fieldOf(inner.path);
  const subject = inner.path !== path && field ? `${field} ` : '';
  return { path: inner.path || path, message: `${pick.label}: ${subject}${inner.message}` };
}

/** What a scalar alternative is, in words: "a string", "null", "an integer". */
function kindOf(a: Schema): string {
  const t = (a as { type?: unknown }).type;
  if (a.const !== undefined) return JSON.stringify(a.const);
  if (t === 'null') return 'null';
  if (t === 'integer' || t === 'array' || t === 'object') return `an ${t}`;
  return typeof t === 'string' ? `a ${t}` : 'a value of another type';
}

const RANGE = new Set([
  ValueErrorType.IntegerMaximum,
  ValueErrorType.IntegerMinimum,
  ValueErrorType.NumberMaximum,
  ValueErrorType.NumberMinimum,
]);

function messageOf(e: ValueError): string {
  if (e.type === ValueErrorType.ObjectRequiredProperty) {
    const m = own(e.schema);
    return m ? `is required (${m})` : 'is required';
  }
  if (e.type === ValueErrorType.ObjectAdditionalProperties) return 'is not a known parameter';
  if (e.type === ValueErrorType.Union) return unionProblem(e).message;
  const m = own(e.schema);
  if (m) return m;
  if (e.type === ValueErrorType.StringPattern) {
    // never the regular expression itself: its rule in words (rpc/pattern-words.ts)
    const s = e.schema as { pattern?: string; minLength?: number; maxLength?: number };
    return patternRefusal(String(s.pattern), s.minLength, s.maxLength);
  }
  const { minimum, maximum } = e.schema as { minimum?: number; maximum?: number };
  if (RANGE.has(e.type) && minimum !== undefined && maximum !== undefined)
    return `must be ${minimum}–${maximum}`;
  return e.message;
}

/** Plain-word problems, one per path, in the order TypeBox found them. */
export function paramProblems(errors: Iterable<ValueError>): ParamProblem[] {
  const seen = new Map<string, ParamProblem>();
  for (const e of errors) {
    const p =
      e.type === ValueErrorType.Union ? unionProblem(e) : { path: e.path || '/', message: messageOf(e) };
    if (seen.has(p.path)) continue;
    seen.set(p.path, p);
    if (seen.size >= MAX_PROBLEMS) break;
  }
  return [...seen.values()];
}

/** Levenshtein distance, bounded: stops counting once it exceeds `cap`. */
function distance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > cap) return cap + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest method name, when one is close enough to be a typo (`pool.lst` → `pool.list`). */
export function closestName(name: string, names: Iterable<string>): string | undefined {
  const cap = Math.max(2, Math.floor(name.length / 4));
  let best: string | undefined;
  let bestD = cap + 1;
  for (const n of names) {
    const d = distance(name.toLowerCase(), n.toLowerCase(), cap);
    if (d < bestD || (d === bestD && best !== undefined && n < best)) {
      best = n;
      bestD = d;
    }
  }
  return bestD <= cap ? best : undefined;
}
