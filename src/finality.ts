// When a fetched window is final, and when a partial one is due again.
// Shared by the fetcher (deciding at fetch time) and rebuild-manifest
// (deciding again from the stored payload), so both always agree.
import { addIntervals, floorToInterval, type Interval } from './intervals.js';
import type { RowFacts } from './venues/venue.js';

export interface Finality {
  status: 'ok' | 'partial';
  /** For a partial window: when the next candle will have closed and settled. */
  nextDueAt: number | null;
}

/**
 * Missing candles in a window that ended less than this long ago are not yet
 * believed (default 5 minutes, every venue alike): an exchange's caches and
 * replicas may answer a just-closed window with older data (Binance and OKX
 * both have been seen to), so the window stays partial and is asked again
 * every `GAP_RETRY_MS` until the grace has passed; only then do its missing
 * candles count as known-empty (maintenance, halts, before listing).
 */
export const GAP_GRACE_MS = 5 * 60_000;
/** While the grace lasts, a window with missing candles is asked again this soon (default 60 s). */
const GAP_RETRY_MS = 60_000;

/**
 * A window is final (`ok`) when its end plus `settleMs` is before the
 * exchange's time, no row is the still-open candle (DESIGN invariant 6), and
 * either no candle is missing or `graceMs` has passed since its end.
 */
export function finality(endMs: number, facts: Pick<RowFacts, 'hasOpenCandle' | 'gaps' | 'lastClosedClose'>, exchangeNow: number, interval: Interval, settleMs: number, graceMs = GAP_GRACE_MS): Finality {
  if (endMs + settleMs < exchangeNow && !facts.hasOpenCandle) {
    if (facts.gaps.length === 0 || exchangeNow >= endMs + graceMs) return { status: 'ok', nextDueAt: null };
    return { status: 'partial', nextDueAt: Math.min(exchangeNow + GAP_RETRY_MS, endMs + graceMs) };
  }
  const currentOpen = floorToInterval(exchangeNow, interval);
  const nextClose = Math.min(addIntervals(currentOpen, interval, 1), endMs + 1);
  // A window lacking the candle that closed last (a lagging cache) is asked again soon, not a candle later.
  const newestClose = Math.min(currentOpen - 1, endMs);
  if (exchangeNow < newestClose + graceMs && (facts.lastClosedClose ?? -Infinity) < newestClose) {
    return { status: 'partial', nextDueAt: Math.min(nextClose + settleMs, exchangeNow + GAP_RETRY_MS) };
  }
  return { status: 'partial', nextDueAt: nextClose + settleMs };
}
