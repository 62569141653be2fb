/**
 * Send-size estimates (pure).
 *
 * OpenZFS `zfs send -nvP [-i from] snap` prints tab-separated, parsable lines on stdout (stderr on
 * releases before 0.8), e.g.
 *   full	tank/ds@s1	5365760
 *   incremental	s1	tank/ds@s2	3244032
 *   size	8609792
 * A resumed send (`-t token`) prints `resume token` lines first. The `size` line is the total;
 * without it the per-stream numbers are summed.
 *
 * zfs-fuse 0.7 has no `-n`/`-v`/`-P`: the estimate comes from properties instead (see
 * estimateFromProperties), which is what the dry-run computes anyway for a plain stream.
 */

export interface SendEstimate {
  bytes: number;
  /** how the number was obtained */
  source: 'send-dry-run' | 'properties';
  streams: { kind: 'full' | 'incremental'; from?: string; snapshot: string; bytes: number }[];
}

export function parseSendEstimate(text: string): SendEstimate | undefined {
  let total: number | undefined;
  const streams: SendEstimate['streams'] = [];
  for (const line of text.split('\n')) {
    const cells = line.trim().split('\t');
    if (cells[0] === 'size' && cells[1] && /^\d+$/.test(cells[1])) total = Number(cells[1]);
    else if (cells[0] === 'full' && cells.length >= 3 && /^\d+$/.test(cells[2]!)) {
      streams.push({ kind: 'full', snapshot: cells[1]!, bytes: Number(cells[2]) });
    } else if (cells[0] === 'incremental' && cells.length >= 4 && /^\d+$/.test(cells[3]!)) {
      streams.push({ kind: 'incremental', from: cells[1]!, snapshot: cells[2]!, bytes: Number(cells[3]) });
    }
  }
  if (total === undefined && streams.length === 0) return undefined;
  return { bytes: total ?? streams.reduce((a, s) => a + s.bytes, 0), source: 'send-dry-run', streams };
}

/**
 * Estimate from `zfs get -Hp used,referenced` when the tool cannot dry-run a send:
 * full ≈ referenced(to); incremental ≈ referenced(to) − referenced(from) + used(from), i.e. the
 * net growth plus the blocks that were overwritten or freed after `from` (which are unique to it).
 * Recorded on zfs-fuse: full 5,365,760 estimated vs 5,265,064 sent; incremental 3,244,032 vs 3,161,336.
 */
export function estimateFromProperties(
  to: { referenced: number },
  from?: { referenced: number; used: number },
): SendEstimate {
  const bytes = from ? Math.max(0, to.referenced - from.referenced + from.used) : to.referenced;
  return { bytes, source: 'properties', streams: [] };
}

/** `zfs get -H -o value receive_resume_token ds` → the token, or undefined for "-" / empty. */
export function parseResumeToken(text: string): string | undefined {
  const t = text.trim();
  return t && t !== '-' && /^[0-9a-f]+-[0-9a-f-]+$/i.test(t) ? t : undefined;
}
