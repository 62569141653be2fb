/**
 * Params refusals in plain words (issue #16). A constrained schema may carry an `errorMessage`
 * (agent/formats.ts builds them); when params fail validation the caller reads that sentence,
 * with the path, instead of the regular expression, which stays on the schema. One problem,
 * one message: errors are deduplicated per path (TypeBox reports a missing property once per
 * member of an allOf), and a union's alternatives collapse into one message.
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
function unionMessage(e: ValueError): string | undefined {
  for (const it of e.errors ?? []) {
    for (const sub of it) {
      const m = own(sub.schema) ?? (sub.type === ValueErrorType.Union ? unionMessage(sub) : undefined);
      if (m) return m;
    }
  }
  return undefined;
}

function messageOf(e: ValueError): string {
  if (e.type === ValueErrorType.ObjectRequiredProperty) {
    const m = own(e.schema);
    return m ? `is required (${m})` : 'is required';
  }
  if (e.type === ValueErrorType.ObjectAdditionalProperties) return 'is not a known parameter';
  if (e.type === ValueErrorType.Union) return own(e.schema) ?? unionMessage(e) ?? e.message;
  if (e.type === ValueErrorType.StringPattern && !own(e.schema)) {
    // never the regular expression itself: its rule in words (rpc/pattern-words.ts)
    const s = e.schema as { pattern?: string; minLength?: number; maxLength?: number };
    return patternRefusal(String(s.pattern), s.minLength, s.maxLength);
  }
  return own(e.schema) ?? e.message;
}

/** Plain-word problems, one per path, in the order TypeBox found them. */
export function paramProblems(errors: Iterable<ValueError>): ParamProblem[] {
  const seen = new Map<string, ParamProblem>();
  for (const e of errors) {
    const path = e.path || '/';
    if (seen.has(path)) continue;
    seen.set(path, { path, message: messageOf(e) });
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
