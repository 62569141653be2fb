/**
 * The standing health check of the shares' Active Directory membership (issue #26), apart from the
 * join and leave methods (directory-ad.ts): `net ads testjoin` on a timer, one alert raised or cleared,
 * and a winbindd that died started again (directory-ad-revive.ts).
 */
import type { AlertPort } from '../alert-engine.js';
import type { AdState } from './directory-ad-model.js';

export const AD_ALERT = 'shares.ad.join';

/**
 * The standing check: `net ads testjoin` every interval while the shares are a domain member;
 * a broken join raises `shares.ad.join` (critical: domain users cannot reach the shares), a
 * join that holds again clears it.
 */
export class AdHealth {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private running: Promise<{ joined: boolean; detail: string }> | undefined;

  constructor(
    private readonly o: {
      alerts: AlertPort;
      intervalMs: () => number;
      configured: () => AdState | undefined;
      testjoin: () => Promise<{ joined: boolean; detail: string }>;
      /** before the test: the member's winbindd started again when it died (directory-ad-revive.ts) */
      revive?: () => Promise<unknown>;
    },
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Test again soon (after a join: the interval may have changed). */
  kick(): void {
    if (!this.stopped) this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void (async () => {
        if (this.o.configured()) await this.check().catch(() => {});
        if (!this.stopped) this.schedule();
      })();
    }, this.o.intervalMs());
    this.timer.unref();
  }

  /** One test of the join, its alert raised or cleared; concurrent callers share one run. */
  check(): Promise<{ joined: boolean; detail: string }> {
    this.running ??= this.once().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async once(): Promise<{ joined: boolean; detail: string }> {
    const ad = this.o.configured();
    if (!ad) {
      await this.o.alerts.clear(AD_ALERT);
      return { joined: false, detail: 'not joined to a domain' };
    }
    await this.o.revive?.().catch(() => {});
    const t = await this.o.testjoin();
    if (t.joined) await this.o.alerts.clear(AD_ALERT);
    else
      await this.o.alerts.raise({
        key: AD_ALERT,
        level: 'critical',
        source: 'shares',
        title: `Active Directory: this machine’s join to ${ad.realm} is broken`,
        detail: `${t.detail}. Domain users cannot reach the shares: join again (shares.directory.ad.join).`,
        data: { realm: ad.realm, detail: t.detail },
      });
    return t;
  }
}
