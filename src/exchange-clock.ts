// "Now" is the exchange's clock, never ours: the offset is measured from
// the venue's time endpoint and kept conservative (never ahead of the
// exchange), because a candle counts as final only once its close time is past.

export class ExchangeClock {
  private offset = 0;
  private syncedAt = -Infinity;

  constructor(private readonly local: () => number = Date.now) {}

  /** Records a server time sampled between `sentAt` and `receivedAt` (local ms). */
  observe(serverTime: number, receivedAt: number): void {
    // serverTime was read before the answer arrived, so serverTime - receivedAt
    // never overestimates the offset.
    this.offset = serverTime - receivedAt;
    this.syncedAt = receivedAt;
  }

  now(): number {
    return this.local() + this.offset;
  }

  ageMs(): number {
    return this.local() - this.syncedAt;
  }

  /**
   * The exchange's time when a response was produced: our estimate, bounded
   * by its Date header (second resolution) so a slow or held exchange clock
   * is never overtaken.
   */
  atResponse(receivedAt: number, dateHeader: string | undefined): number {
    const estimate = receivedAt + this.offset;
    const date = dateHeader === undefined ? NaN : Date.parse(dateHeader);
    return Number.isFinite(date) ? Math.min(estimate, date + 999) : estimate;
  }
}
