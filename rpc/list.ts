/**
 * The one shape of every list method's answer: `{ items, total }`, plus the paging fields where
 * it pages (`next`, or the request's `limit`/`offset`) and fields of its own. `total` is how many
 * there are, which is more than `items.length` only where the list pages.
 * test/core/list-shape.test.ts walks every `*.list` method and fails on any other shape.
 */
import { type TProperties, type TSchema, Type } from '@sinclair/typebox';

/** The result schema of a list of `item`, with `extra` fields next to `items` and `total`. */
export function listResult<T extends TSchema, E extends TProperties = Record<never, never>>(
  item: T,
  extra?: E,
  description?: string,
) {
  return Type.Object({
    items: Type.Array(item, description ? { description } : {}),
    total: Type.Integer({ minimum: 0, description: 'how many there are (all of them where the list pages)' }),
    ...((extra ?? {}) as E),
  });
}

/** A whole (unpaged) list's answer. */
export function listed<T>(items: T[]): { items: T[]; total: number } {
  return { items, total: items.length };
}
