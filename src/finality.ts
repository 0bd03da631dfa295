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

/** A window whose tail is missing is looked at again this soon while its `tailGraceMs` lasts. */
const TAIL_RETRY_MS = 60_000;

/**
 * A window is final (`ok`) when its end plus `settleMs` is before the
 * exchange's time and no row is the still-open candle (DESIGN invariant 6);
 * with `tailGraceMs`, also only when its last candle is there or the grace
 * since its end has passed (a missing tail may be a stale cache, not a halt).
 */
export function finality(endMs: number, facts: Pick<RowFacts, 'hasOpenCandle' | 'gaps' | 'lastClosedClose'>, exchangeNow: number, interval: Interval, settleMs: number, tailGraceMs = 0): Finality {
  if (endMs + settleMs < exchangeNow && !facts.hasOpenCandle) {
    const tailMissing = facts.gaps.length > 0 && facts.gaps[facts.gaps.length - 1]![1] === endMs + 1;
    if (!tailMissing || exchangeNow >= endMs + tailGraceMs) return { status: 'ok', nextDueAt: null };
    return { status: 'partial', nextDueAt: Math.min(exchangeNow + TAIL_RETRY_MS, endMs + tailGraceMs) };
  }
  const currentOpen = floorToInterval(exchangeNow, interval);
  const nextClose = Math.min(addIntervals(currentOpen, interval, 1), endMs + 1);
  // With a grace, a window lacking the candle that closed last (a lagging cache) is asked again soon, not a candle later.
  const newestClose = Math.min(currentOpen - 1, endMs);
  if (tailGraceMs > 0 && exchangeNow < newestClose + tailGraceMs && (facts.lastClosedClose ?? -Infinity) < newestClose) {
    return { status: 'partial', nextDueAt: Math.min(nextClose + settleMs, exchangeNow + TAIL_RETRY_MS) };
  }
  return { status: 'partial', nextDueAt: nextClose + settleMs };
}
