// Erlang's restart intensity: at most `intensity` restarts within `periodMs`.

export class RestartWindow {
  private readonly times: number[] = [];

  constructor(readonly intensity = 5, readonly periodMs = 30_000) {}

  /** Records a failure at `now`; false when restarting would exceed the intensity. */
  allow(now: number): boolean {
    while (this.times.length > 0 && this.times[0]! <= now - this.periodMs) this.times.shift();
    if (this.times.length >= this.intensity) return false;
    this.times.push(now);
    return true;
  }

  get recent(): number {
    return this.times.length;
  }
}
