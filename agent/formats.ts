/**
 * Named formats: constrained identifier schemas that explain a refusal in plain words.
 *
 * A schema keeps its pattern (the pattern is the rule, and the OpenRPC document publishes it);
 * `errorMessage` carries the sentence a person reads instead of the regular expression. The RPC
 * core reports the errorMessage of the innermost failing schema (issue #16). When one pattern
 * cannot say which rule failed, the format is an `allOf` of small rules, each with its own
 * message, most specific first, ending with the full pattern and lengths: the value is accepted
 * exactly when the full pattern accepts it (the rules are implied by it, test/core/formats.test.ts
 * checks that), and TypeBox reports the failing rules in order, so the first message names the
 * first rule broken.
 */
import { type SchemaOptions, type TIntersect, type TSchema, type TString, Type } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';

/** One rule of a format: the value must match `pattern` (and lengths); `message` says the rule. */
export interface FormatRule {
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  message: string;
}

export interface FormatSpec {
  /** What the value is, for the OpenRPC document and `calypsoctl describe`. */
  description: string;
  /** The whole rule as one pattern, kept on the schema. */
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  /** The sentence shown when the full pattern fails and no finer rule explains why. */
  errorMessage: string;
  /** Finer rules, most specific first; each must be implied by the full pattern and lengths. */
  rules?: FormatRule[];
  /** A valid value, published as `examples` (calypsoctl describe prints it in its example call). */
  example?: string;
  /** Extra schema options (default…), on the outer schema. */
  options?: SchemaOptions;
}

/** TIntersect<[TString]> for the type: Static<> of every format is string. */
export type Format = TString | TIntersect<[TString]>;

function ruleSchema(r: FormatRule): TString {
  return Type.String({
    ...(r.pattern !== undefined ? { pattern: r.pattern } : {}),
    ...(r.minLength !== undefined ? { minLength: r.minLength } : {}),
    ...(r.maxLength !== undefined ? { maxLength: r.maxLength } : {}),
    errorMessage: r.message,
  });
}

/** A named format: a plain string schema, or the rules and the full pattern as one `allOf`. */
export function format(spec: FormatSpec): Format {
  const full = {
    ...(spec.pattern !== undefined ? { pattern: spec.pattern } : {}),
    ...(spec.minLength !== undefined ? { minLength: spec.minLength } : {}),
    ...(spec.maxLength !== undefined ? { maxLength: spec.maxLength } : {}),
  };
  if (!spec.rules?.length) {
    return Type.String({
      ...full,
      errorMessage: spec.errorMessage,
      description: spec.description,
      ...(spec.example !== undefined ? { examples: [spec.example] } : {}),
      ...spec.options,
    });
  }
  return Type.Intersect(
    [...spec.rules.map(ruleSchema), Type.String({ ...full, errorMessage: spec.errorMessage })],
    // No `type: 'string'` on the allOf itself: TypeBox refuses an Intersect typed other than
    // object. Readers of the OpenRPC document take the type from the members (typeOfSchema).
    {
      description: spec.description,
      errorMessage: spec.errorMessage,
      ...(spec.example !== undefined ? { examples: [spec.example] } : {}),
      ...spec.options,
    },
  ) as unknown as TIntersect<[TString]>;
}

/** The full pattern of a format (the last member of an allOf, or the string schema itself). */
export function formatPattern(f: Format): string | undefined {
  const s = 'allOf' in f ? f.allOf[f.allOf.length - 1] : f;
  return (s as { pattern?: string } | undefined)?.pattern;
}

interface ErrorLike {
  schema: TSchema;
  path: string;
  message: string;
}

/**
 * The plain-word message for a failed check: the first error, in the words of its schema's
 * errorMessage when it has one. TypeBox yields an allOf's failing members before the allOf
 * itself, so for a format this is the innermost, first broken rule. The RPC core may use this.
 */
export function plainMessage(errors: Iterable<ErrorLike>): { path: string; message: string } | undefined {
  for (const e of errors) {
    const m = (e.schema as { errorMessage?: unknown }).errorMessage;
    return { path: e.path || '/', message: typeof m === 'string' ? m : e.message };
  }
  return undefined;
}

/** Convenience for tests and offline checks: the plain message for `value`, or undefined if valid. */
export function explain(check: TypeCheck<TSchema>, value: unknown): string | undefined {
  if (check.Check(value)) return undefined;
  return plainMessage(check.Errors(value))?.message;
}

/**
 * The JSON type of a schema as a reader of the OpenRPC document sees it: an allOf (a format with
 * rules) has the type its members share.
 */
export function typeOfSchema(s: Record<string, unknown>): string | undefined {
  if (typeof s.type === 'string') return s.type;
  if (Array.isArray(s.allOf)) {
    const types = new Set((s.allOf as Record<string, unknown>[]).map(typeOfSchema));
    if (types.size === 1) return [...types][0];
  }
  return undefined;
}
