/** Scrapes per token per minute (issue #28 item 3: 64 scrapers reached 98 scrapes/s). */
export class ScrapeLimiter {
  private windows = new Map<string, { since: number; n: number }>();
  constructor(
    private perMinute: number,
    private now: () => number,
  ) {}

  /** Seconds to wait when this scrape is over the limit, else undefined (and it is counted). */
  refusal(key: string): number | undefined {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || now - w.since >= 60_000) {
      if (this.windows.size > 1000)
        for (const [k, v] of this.windows) if (now - v.since >= 60_000) this.windows.delete(k);
      w = { since: now, n: 0 };
      this.windows.set(key, w);
    }
    if (w.n >= this.perMinute) return Math.max(1, Math.ceil((w.since + 60_000 - now) / 1000));
    w.n++;
    return undefined;
  }
}
