/**
 * The plugin's unavailable and empty states in real Cockpit (cockpit-ws --local-session and
 * chromium) against a real agent process (issue #24). Its object storage points at a Ceph
 * cluster that does not exist: the Object storage page says so once, with the reason and what to
 * do, and its Create buttons are disabled with the reason as their title. No tape changer is
 * configured: the Tape page says how to add one. Screenshots: artifacts/cockpit/states-*.png.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type CockpitSession, cockpitSession, screenshot } from './harness.js';

describe('unavailable and empty states in real Cockpit', { timeout: 180_000 }, () => {
  let s: CockpitSession | undefined;

  before(async () => {
    s = await cockpitSession({
      agent: {
        config: {
          // a cluster that is not there: radosgw-admin cannot reach it
          object: { backend: 'rgw', port: 1, ceph: { conf: '/nonexistent/calypso-test/ceph.conf' } },
        } as never,
      },
    });
  });

  after(() => s?.stop());

  it('Object storage, unavailable: said once with the reason and what to do; Create disabled with the reason', async () => {
    const { page, root } = await s!.open('object');
    const banner = root.locator('cal-object [data-unavailable]');
    await banner.waitFor({ timeout: 30_000 });
    assert.equal(await banner.count(), 1, 'said once');
    const text = (await banner.textContent()) ?? '';
    assert.match(text, /Object storage is not available here/);
    assert.match(text, /calypso\.yaml/, 'what to do');
    const reason = ((await banner.locator('.reason').textContent()) ?? '').trim();
    assert.ok(reason.length > 10, `a reason: ${text}`);
    // not repeated in each card
    assert.equal(await root.locator('cal-object cal-error[role], cal-object cal-error .alert').count(), 0);
    for (const action of ['create-bucket', 'create-user']) {
      const b = root.locator(`cal-object button[data-action="${action}"]`);
      assert.equal(await b.isDisabled(), true, `${action} disabled`);
      assert.equal(await b.getAttribute('title'), reason, `${action}'s title is the reason`);
    }
    await screenshot(page, 'states-object-unavailable');
  });

  it('Tape, empty: says how to add a changer, and offers the virtual library', async () => {
    const { page, root } = await s!.open('tape');
    const empty = root.locator('cal-tape [data-empty]');
    await empty.waitFor({ timeout: 30_000 });
    assert.match(
      (await empty.textContent()) ?? '',
      /No tape changer configured: add one under tape\.changers in calypso\.yaml/,
    );
    assert.equal(await empty.locator('button[data-next]').count(), 1, 'the next step is a button');
    assert.equal(await root.locator('cal-tape [data-unavailable]').count(), 0, 'empty is not unavailable');
    await screenshot(page, 'states-tape-empty');
  });
});
