/**
 * Documented defaults, applied before params are checked (issue #22). A property that is
 * required by its schema and carries a `default` may be left out by the caller: the default is
 * filled in, and the handler sees a complete value. Inside a union, each alternative gets its own
 * defaults before it is matched (an SMTP target without `port` is an SMTP target with port 587),
 * so a caller who leaves out a documented default is never refused for it.
 *
 * Only required properties are filled: an optional property with a default keeps meaning "not
 * given" (an update method must not overwrite a setting the caller did not name), and the
 * handler applies that default itself.
 */
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

type Schema = TSchema & {
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  allOf?: Schema[];
  items?: Schema;
  default?: unknown;
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether the value carries the constant properties that mark this alternative (`kind: 'smtp'`). */
function carriesConstants(alt: Schema, value: unknown): boolean {
  if (!isObject(value)) return false;
  const c = Object.entries(alt.properties ?? {}).filter(
    ([, p]) => (p as { const?: unknown }).const !== undefined,
  );
  return c.length > 0 && c.every(([k, p]) => value[k] === (p as { const?: unknown }).const);
}

/** Whether the schema has a required property with a default anywhere inside it. */
export function hasRequiredDefaults(schema: TSchema): boolean {
  const s = schema as Schema;
  if (s.properties) {
    const req = new Set(s.required ?? []);
    for (const [k, p] of Object.entries(s.properties)) {
      if (req.has(k) && p.default !== undefined) return true;
      if (hasRequiredDefaults(p)) return true;
    }
  }
  if (s.anyOf?.some(hasRequiredDefaults) || s.allOf?.some(hasRequiredDefaults)) return true;
  return s.items !== undefined && hasRequiredDefaults(s.items);
}

/**
 * The value with the defaults of its required properties filled in; the input is not changed.
 * A union takes the first alternative that accepts the value once that alternative's defaults
 * are in; when none does, the value is returned as given (the check then says why).
 */
export function withDefaults(schema: TSchema, value: unknown): unknown {
  const s = schema as Schema;
  if (s.anyOf) {
    let meant: unknown;
    for (const alt of s.anyOf) {
      const v = withDefaults(alt, value);
      if (Value.Check(alt, v)) return v;
      if (meant === undefined && carriesConstants(alt, value)) meant = v;
    }
    // none accepts it: the alternative the caller named (its `kind`) keeps its defaults, so the
    // refusal names what is really wrong, not a default the caller was entitled to leave out
    return meant ?? value;
  }
  let v = value;
  if (s.allOf) for (const part of s.allOf) v = withDefaults(part, v);
  if (s.properties && isObject(v)) {
    const req = new Set(s.required ?? []);
    const out: Record<string, unknown> = { ...v };
    for (const [k, p] of Object.entries(s.properties)) {
      if (out[k] === undefined) {
        if (req.has(k) && p.default !== undefined) out[k] = structuredClone(p.default);
      } else out[k] = withDefaults(p, out[k]);
    }
    return out;
  }
  if (s.items && Array.isArray(v)) return v.map((x) => withDefaults(s.items!, x));
  return v;
}
