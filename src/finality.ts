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
 * A window is final (`ok`) when its end plus `settleMs` is before the
 * exchange's time and no row is the still-open candle (DESIGN invariant 6).
 */
export function finality(endMs: number, facts: Pick<RowFacts, 'hasOpenCandle'>, exchangeNow: number, interval: Interval, settleMs: number): Finality {
  if (endMs + settleMs < exchangeNow && !facts.hasOpenCandle) return { status: 'ok', nextDueAt: null };
  const nextClose = Math.min(addIntervals(floorToInterval(exchangeNow, interval), interval, 1), endMs + 1);
  return { status: 'partial', nextDueAt: nextClose + settleMs };
}
