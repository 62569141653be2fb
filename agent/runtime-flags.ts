/**
 * How Node.js runs the agent: the V8 flags and environment that the release's launcher
 * (`bin/calypso-agent`, written by scripts/release.mjs, run by the systemd unit and the
 * supervisor) and the core benchmark both use, so the benchmark measures the agent as it ships.
 *
 * - `--max-semi-space-size=1`: V8's young generation at 1 MB per semi-space instead of Node 24's
 *   default (16 MB committed at start): about 5 MB (Node 20) to 9 MB (Node 24) less idle RSS; the
 *   agent's per-call garbage is small, and the p99 goal is checked with it (docs/benchmarks.md).
 * - `--turbo-filter=-normalizeString`: every function may be optimised by TurboFan except Node's
 *   own path normaliser. Module resolution at start calls it about 1,000 times, and its one
 *   TurboFan compilation was the only one of the whole start: it paged in about 5 MB of the
 *   optimising compiler that an idle agent never needs again (it stays at Maglev, V8's middle
 *   tier; nothing on the RPC path normalises paths). docs/benchmarks.md, issue #22.
 * - `MALLOC_ARENA_MAX=2`: glibc's malloc keeps at most two arenas for the agent's threads
 *   (libuv's pool, V8's platform workers, LMDB), about 1–2 MB less idle RSS.
 */
export const AGENT_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--turbo-filter=-normalizeString',
];
export const AGENT_NODE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
