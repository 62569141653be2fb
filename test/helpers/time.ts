/**
 * Tests of `* * * * *` schedules: a run started in a minute's last seconds is followed within the test by the next
 * minute's run, which is due. Such a test begins at the top of a minute when fewer than `needS` seconds are left.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export async function clearOfMinuteEnd(needS = 20): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > (60 - needS) * 1000) await sleep(60_000 - into + 200);
}
