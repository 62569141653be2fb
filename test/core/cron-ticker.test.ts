/**
 * The agent's one cron loop (agent/util/cron-ticker.ts), which snapshot policies, restore drills
 * and replication tasks share: what is due in a minute, once per minute, ticks never doubled,
 * one record's failure not stopping the others.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CronTicker, dueIn, minuteSlot, nextScheduledRun } from '../../agent/util/cron-ticker.js';

const T = Date.parse('2026-12-06T10:15:20Z');

describe('cron ticker', () => {
  it('due: enabled, scheduled, matching the minute, not already run in it', () => {
    const slot = minuteSlot(T);
    assert.equal(slot, Date.parse('2026-12-06T10:15:00Z'));
    assert.equal(dueIn({ enabled: true, schedule: '15 * * * *' }, slot), true);
    assert.equal(dueIn({ enabled: true, schedule: '*/5 10 * * *' }, slot), true);
    assert.equal(dueIn({ enabled: true, schedule: '16 * * * *' }, slot), false);
    assert.equal(dueIn({ enabled: false, schedule: '15 * * * *' }, slot), false);
    assert.equal(dueIn({ enabled: true }, slot), false);
    assert.equal(dueIn({ enabled: true, schedule: '15 * * * *', lastSlot: slot }, slot), false);
    assert.equal(dueIn({ enabled: true, schedule: 'not cron' }, slot), false);
    assert.equal(
      nextScheduledRun({ enabled: true, schedule: '0 12 * * *' }, T),
      Date.parse('2026-12-06T12:00:00Z'),
    );
    assert.equal(nextScheduledRun({ enabled: false, schedule: '0 12 * * *' }, T), undefined);
  });

  it('a tick runs each due record once, joins a tick in progress, and isolates failures', async () => {
    const recs = [
      { id: 'a', enabled: true, schedule: '* * * * *', lastSlot: undefined as number | undefined },
      { id: 'b', enabled: true, schedule: '* * * * *', lastSlot: undefined as number | undefined },
      { id: 'c', enabled: true, schedule: '0 0 1 1 *', lastSlot: undefined as number | undefined },
    ];
    const ran: string[] = [];
    const failed: string[] = [];
    const ticker = new CronTicker({
      now: () => T,
      records: () => recs,
      run: async (r, slot) => {
        await new Promise((res) => setTimeout(res, 20));
        ran.push(r.id);
        r.lastSlot = slot;
        if (r.id === 'a') throw new Error('boom');
      },
      onError: (r) => failed.push(r.id),
    });
    await Promise.all([ticker.tick(), ticker.tick()]);
    assert.deepEqual(ran, ['a', 'b'], 'a and b due once each; c not due; the second tick joined the first');
    assert.deepEqual(failed, ['a']);
    await ticker.tick();
    assert.deepEqual(ran, ['a', 'b'], 'the same minute does not run twice');
    await ticker.stop();
  });
});
