/**
 * The agent's one way to load a module on first use (the AWS SDK, nodemailer,
 * systeminformation, the WebSocket transport, the installer).
 *
 * Two things go wrong with `await import(x)` that this helper handles once for every caller:
 *
 * - Shape. Under tsc's per-file output, Node gives a CommonJS package's namespace its named
 *   exports *and* `default` (= module.exports); in the esbuild bundle a CommonJS package split
 *   into a chunk has **only** `default` (`export default require_x()`). Destructuring named
 *   exports from the bundle's namespace gave `undefined` ("S3Client is not a constructor").
 *   `lazyModule` returns the object that carries the export named as `probe`: the namespace
 *   itself when it has it, else its `default`; neither: a load failure.
 * - Failure. A module that cannot be loaded (a damaged or partial install, a missing chunk, a
 *   package that throws while it initialises) becomes `unavailable` with the reason and what to
 *   do, e.g. "the S3 client could not be loaded: Cannot find module …", never an internal error.
 *   A failed load is not cached: the next call tries again (after a repair it succeeds).
 */
import { RpcError, unavailable } from '../../rpc/errors.js';

export interface LazyModule<T> {
  /** The module, loaded on the first call; `unavailable` when it cannot be loaded. */
  (): Promise<T>;
  /** The module if a call has loaded it already (no load is started). */
  ifLoaded(): T | undefined;
}

/** The object of `ns` (a module namespace) that exports `probe`, or undefined. */
export function exportsOf<T>(ns: unknown, probe: string): T | undefined {
  const has = (o: unknown): o is Record<string, unknown> =>
    (typeof o === 'object' || typeof o === 'function') && o !== null && (o as never)[probe] !== undefined;
  // a CommonJS package's `default` (module.exports) first: the live object, the same one the
  // bundle's chunk exports; the namespace's named exports are a snapshot of it
  const d = (ns as { default?: unknown } | null)?.default;
  if (has(d)) return d as T;
  if (has(ns)) return ns as T;
  return undefined;
}

/**
 * A loader for one module. `what` names it for the administrator ("the S3 client"), `load`
 * is the `() => import('pkg')` (a literal import, so that the bundler sees it and splits it
 * into a chunk), `probe` an export every use needs.
 */
export function lazyModule<T>(
  what: string,
  load: () => Promise<unknown>,
  probe: keyof T & string,
): LazyModule<T> {
  let loading: Promise<T> | undefined;
  let loaded: T | undefined;
  const get = (() => {
    loading ??= load()
      .then((ns) => {
        const m = exportsOf<T>(ns, probe);
        if (!m) throw new Error(`it has no export ${probe}`);
        loaded = m;
        return m;
      })
      .catch((err: unknown) => {
        loading = undefined; // not cached: after a repair the next call loads it
        throw loadFailure(what, err);
      });
    return loading;
  }) as LazyModule<T>;
  get.ifLoaded = () => loaded;
  return get;
}

function loadFailure(what: string, err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  return unavailable(
    `${what} could not be loaded: ${reason}. The installed release may be damaged or incomplete: ` +
      'install the release again (calypsoctl release install FILE) or restart the agent',
    { module: what },
  );
}
