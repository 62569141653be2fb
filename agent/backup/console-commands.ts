/**
 * Pure builders of the bconsole lines the backup operations send, with the timeout each session
 * gets (it is part of bconsole's argv, `-u`). The real run and the dry run build from these
 * same functions, so a dry run lists exactly the argv and the lines the call would send.
 * Values are schema-checked before they get here (names, numbers; `where` by checkConsoleValue).
 */

/** One console session: its lines and its timeout. */
export interface ConsoleCall {
  lines: string[];
  /**
   * Answers to a prompt the (single) command raises, sent right after it (`label barcodes`
   * asks "Do you want to label these Volumes?" — Bacula 9.6 asks even with its `yes` keyword).
   */
  answers?: string[];
  timeoutMs: number;
}

const DEFAULT = 60_000;

export function runCall(a: { job: string; level?: string; pool?: string; client?: string }): ConsoleCall {
  const parts = [`run job=${a.job}`];
  if (a.level) parts.push(`level=${a.level}`);
  if (a.pool) parts.push(`pool=${a.pool}`);
  if (a.client) parts.push(`client=${a.client}`);
  parts.push('yes');
  return { lines: [parts.join(' ')], timeoutMs: DEFAULT };
}

export function cancelCall(jobId: number): ConsoleCall {
  return { lines: [`cancel jobid=${jobId}`], timeoutMs: DEFAULT };
}

/** A whole-job restore (`restore jobid=… all done yes`). */
export function restoreAllCall(jobIds: number[], target: string): ConsoleCall {
  return { lines: [`restore jobid=${jobIds.join(',')} ${target} all done yes`], timeoutMs: 300_000 };
}

export function restoreTarget(a: {
  client: string;
  restoreClient: string;
  restoreJob: string;
  where: string;
  replace: string;
}): string {
  return `client=${a.client} restoreclient=${a.restoreClient} restorejob=${a.restoreJob} where="${a.where}" replace=${a.replace}`;
}

export function labelCall(a: {
  storage: string;
  pool: string;
  volume: string;
  slot?: number;
  drive?: number;
}): ConsoleCall {
  // Every storage is an autochanger (disks a virtual one), and bconsole would prompt for the
  // drive and the slot: both are always given (slot 0 = not in a slot, as for disk volumes).
  return {
    lines: [
      `label storage=${a.storage} pool=${a.pool} volume=${a.volume} slot=${a.slot ?? 0} drive=${a.drive ?? 0}`,
    ],
    timeoutMs: 300_000,
  };
}

export function labelBarcodesCall(a: {
  storage: string;
  pool: string;
  slots?: string;
  drive?: number;
}): ConsoleCall {
  return {
    lines: [
      `label barcodes storage=${a.storage} pool=${a.pool}${a.slots ? ` slots=${a.slots}` : ''} drive=${a.drive ?? 0}`,
    ],
    answers: ['yes'],
    timeoutMs: 3_600_000,
  };
}

export function updateSlotsCall(a: { storage: string; drive?: number }): ConsoleCall {
  return { lines: [`update slots storage=${a.storage} drive=${a.drive ?? 0}`], timeoutMs: 600_000 };
}

export function purgeCall(volume: string): ConsoleCall {
  return { lines: [`purge volume=${volume}`], timeoutMs: DEFAULT };
}
