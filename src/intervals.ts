// Interval arithmetic in UTC milliseconds. Fixed intervals are plain
// multiplication; `1w` opens on Monday 00:00 UTC and `1M` follows calendar
// months, so both need calendar arithmetic rather than a fixed length.

export const BINANCE_INTERVALS = [
  '1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M',
] as const;
export type Interval = (typeof BINANCE_INTERVALS)[number];

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** 1970-01-05T00:00Z, the first Monday of the epoch: the anchor of every `1w` candle. */
const FIRST_MONDAY = 4 * DAY;

const FIXED_MS: Record<Exclude<Interval, '1M'>, number> = {
  '1s': SECOND, '1m': MINUTE, '3m': 3 * MINUTE, '5m': 5 * MINUTE, '15m': 15 * MINUTE, '30m': 30 * MINUTE,
  '1h': HOUR, '2h': 2 * HOUR, '4h': 4 * HOUR, '6h': 6 * HOUR, '8h': 8 * HOUR, '12h': 12 * HOUR,
  '1d': DAY, '3d': 3 * DAY, '1w': WEEK,
};

export function isInterval(value: string): value is Interval {
  return (BINANCE_INTERVALS as readonly string[]).includes(value);
}

/** Nominal length in ms; for `1M` the length of the month that opens at `openTime`. */
export function intervalMs(interval: Interval, openTime = 0): number {
  return interval === '1M' ? addIntervals(openTime, '1M', 1) - openTime : FIXED_MS[interval];
}

/** The open time of the candle that contains `t`. */
export function floorToInterval(t: number, interval: Interval): number {
  if (interval === '1M') {
    const d = new Date(t);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
  const step = FIXED_MS[interval];
  const anchor = interval === '1w' ? FIRST_MONDAY : 0;
  return t - mod(t - anchor, step);
}

/** `t` moved by `n` whole intervals (t must be aligned for `1M`). */
export function addIntervals(t: number, interval: Interval, n: number): number {
  if (interval === '1M') {
    const d = new Date(t);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1);
  }
  return t + n * FIXED_MS[interval];
}

/** True when `t` is the open time of some candle of `interval`. */
export function isAligned(t: number, interval: Interval): boolean {
  return floorToInterval(t, interval) === t;
}

/** `a` modulo `b`, never negative. */
export function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}
