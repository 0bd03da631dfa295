// The mock exchange's clock: real time, shifted, sped up or held still.
// Candle selection, the open candle and the Date header all read it.

export class MockClock {
  private base: number;
  private realBase = Date.now();
  private speed: number;
  private held: boolean;

  constructor(options: { start?: number; speed?: number; held?: boolean } = {}) {
    this.base = options.start ?? Date.now();
    this.speed = options.speed ?? 1;
    this.held = options.held ?? false;
  }

  now(): number {
    return this.held ? this.base : Math.floor(this.base + (Date.now() - this.realBase) * this.speed);
  }

  /** Jump to `t` and keep running (or stay held) from there. */
  set(t: number): void {
    this.base = t;
    this.realBase = Date.now();
  }

  advance(ms: number): void {
    this.set(this.now() + ms);
  }

  hold(): void {
    this.base = this.now();
    this.held = true;
  }

  run(speed = this.speed): void {
    this.base = this.now();
    this.realBase = Date.now();
    this.speed = speed;
    this.held = false;
  }
}
