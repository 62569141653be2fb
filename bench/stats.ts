/** What every benchmark measures with: the median of runs and the wall time of one. */

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The wall time (ms) of `fn` and its result. */
export async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
}

/** The wall time (ms) of `fn`. */
export async function elapsed(fn: () => Promise<unknown>): Promise<number> {
  return (await timed(fn))[0];
}
