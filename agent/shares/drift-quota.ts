/**
 * Drift of a share dataset's quota: its refquota changed by hand (`zfs set refquota=…`) against
 * the share's desired quota, read through the zfs port (`DatasetsPort.space`), and the effects
 * that set it back (`DatasetsPort.setQuota`) — the same list for shares.apply's dry run and its
 * real run.
 */
import type { Effect } from '../config-set/index.js';
import { type DatasetsPort, sizeBytes } from '../zfs/port.js';
import type { SharesState } from './model.js';

export interface QuotaDrift {
  share: string;
  dataset: string;
  /** the desired quota as the share says it ("20M", bytes), or "none" */
  want: string;
  /** the dataset's refquota in bytes, or "none" */
  have: string;
  /** the bytes the effect's undo puts back (null: none) */
  haveBytes: number | null;
  wantQuota: string | number | null;
}

/** The shares whose dataset's refquota is not the desired quota (a dataset gone is the directory check's). */
export async function quotaDrift(state: SharesState, datasets: DatasetsPort): Promise<QuotaDrift[]> {
  const withDs = state.shares.filter((s) => s.dataset);
  if (!withDs.length) return [];
  const space = await datasets.space(withDs.map((s) => s.dataset as string));
  return withDs.flatMap((s) => {
    const have = space.get(s.dataset as string);
    if (!have) return [];
    const want = s.quota === undefined ? undefined : sizeBytes(String(s.quota));
    if ((want || undefined) === (have.quota || undefined)) return [];
    return [
      {
        share: s.name,
        dataset: s.dataset as string,
        want: s.quota === undefined ? 'none' : String(s.quota),
        have: have.quota ? String(have.quota) : 'none',
        haveBytes: have.quota ?? null,
        wantQuota: s.quota ?? null,
      },
    ];
  });
}

export const quotaDriftItem = (d: QuotaDrift) => ({
  kind: 'quota' as const,
  what: d.dataset,
  detail: `share ${d.share}: refquota is ${d.have === 'none' ? 'none' : `${d.have} bytes`}, the share wants ${d.want} (changed by hand?)`,
  want: d.want,
  have: d.have,
});

/** The effects that put each drifted refquota back (undo: the hand-set value). */
export const quotaFixes = (drift: QuotaDrift[], datasets: DatasetsPort): Effect[] =>
  drift.map((d) => datasets.setQuota(d.dataset, d.wantQuota, d.haveBytes));
