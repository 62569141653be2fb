/**
 * The Tape & VTL page in real Cockpit (cockpit-ws, headless Chromium) against a real agent
 * process: a configured changer that the real mtx cannot open shows mtx's failure in plain
 * words (no library answers here without the emulation of test/tape-emu); the virtual library
 * wizard shows the plan (mktape argv from the agent's dry run) and, on Create, why mhvtl
 * cannot run on this machine.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type CockpitSession, cockpitSession, screenshot } from '../cockpit/harness.js';

describe('Tape & VTL page in real Cockpit', { timeout: 240_000 }, () => {
  let s: CockpitSession | undefined;

  before(async () => {
    s = await cockpitSession({
      agent: {
        config: {
          tape: {
            changers: [
              {
                id: 'lib1',
                device: '/dev/tape/by-id/scsi-NOSUCHLIB',
                drives: [{ device: '/dev/tape/by-id/scsi-NOSUCHLIB-nst' }],
              },
            ],
          },
        } as never,
      },
    });
  });

  after(() => s?.stop());

  it('shows the library mtx cannot reach, and plans a virtual library it cannot create here', async () => {
    const { page, root } = await s!.open('tape');
    const lib = root.locator('cal-tape cal-tape-library');
    await lib.locator('h3', { hasText: 'lib1' }).waitFor();
    // the real mtx ran and failed: its own words reach the page
    const err = lib.locator('cal-error [role="alert"]');
    await err.waitFor({ timeout: 60_000 });
    assert.match((await err.textContent()) ?? '', /mtx|SCSI device|No such file/i);

    await root.locator('cal-tape button', { hasText: 'New virtual library' }).click();
    await root.locator('cal-tape form.wizard').waitFor();
    await root.locator('cal-tape input#tapes').fill('2');
    await root.locator('cal-tape input#tapes').dispatchEvent('change');
    await root.locator('cal-tape button', { hasText: 'Show plan' }).click();
    const cmds = root.locator('cal-tape pre[aria-label="Commands"]');
    await cmds.waitFor();
    const text = (await cmds.textContent()) ?? '';
    assert.match(text, /^mktape -C \S+ -l 10 -m E00001L8 -s 5000 -t data -d LTO8$/m);
    assert.match(text, /-m E00002L8 /);
    assert.match(text, /-m CLN010L8 .* -t clean /);
    assert.doesNotMatch(text, /-m E00003L8/);
    await screenshot(page, 'tape-01-wizard-plan');

    await root.locator('cal-tape button.primary', { hasText: 'Create' }).click();
    const why = root.locator('cal-tape > cal-error [role="alert"], cal-tape cal-error [role="alert"]', {
      hasText: /mhvtl/,
    });
    await why.first().waitFor({ timeout: 30_000 });
    assert.match((await why.first().textContent()) ?? '', /sys\/module\/mhvtl|not installed/);
    await screenshot(page, 'tape-02-wizard-unavailable');
  });
});
