// The injected clock. Production uses the system clock; tests pass a fake
// one so that time-based decisions (backoff, restart windows) run without sleeps.

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early when `cancel` resolves. */
  sleep(ms: number, cancel?: Promise<unknown>): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, cancel) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, ms));
      void cancel?.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  },
};
