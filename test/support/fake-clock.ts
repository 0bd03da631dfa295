// A clock that moves only when the test says so: sleeps resolve on advance().
import type { Clock } from '../../src/clock.js';

export class FakeClock implements Clock {
  private t: number;
  private readonly sleepers: Array<{ at: number; resolve: () => void }> = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, cancel?: Promise<unknown>): Promise<void> {
    return new Promise((resolve) => {
      const s = { at: this.t + ms, resolve };
      this.sleepers.push(s);
      void cancel?.then(() => resolve());
    });
  }

  get pendingSleeps(): number {
    return this.sleepers.length;
  }

  /** Moves time forward, waking sleepers in order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      this.sleepers.sort((a, b) => a.at - b.at);
      const next = this.sleepers[0];
      if (!next || next.at > target) break;
      this.sleepers.shift();
      this.t = next.at;
      next.resolve();
      await flush();
    }
    this.t = target;
    await flush();
  }
}

export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
}
