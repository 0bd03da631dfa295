// How far a stream is: slices expected up to a time, how many are missing,
// how far behind its last closed candle is. Shared by `status` (from a
// data root) and the daemon's /health and metrics (from the live summaries).
import type { StreamSummary } from '../storage/records.js';
import { intervalMs } from './intervals.js';
import { sliceIndexAt, type StreamGeometry } from './slices.js';

export interface Progress {
  expected: number;
  pending: number;
  completeness: number;
  lagSeconds: number | null;
  caughtUp: boolean;
}

/** Slices expected up to `now`, how many are missing, and how far behind the stored data is. */
export function progress(g: StreamGeometry, s: StreamSummary, now: number, settleMs: number): Progress {
  const until = Math.min(g.endMs ?? Infinity, now);
  const expected = until <= g.anchorMs ? 0 : sliceIndexAt(g, until - 1) + 1;
  const pending = Math.max(0, expected - s.total);
  const done = s.counts.ok + s.counts.partial;
  const lagSeconds = s.lastClosedClose === null ? null : Math.max(0, (Math.min(now, g.endMs ?? Infinity) - (s.lastClosedClose + 1)) / 1000);
  // Caught up: nothing missing, and the last closed candle is at most one candle (plus settling and a fetch) old.
  const slack = intervalMs(g.interval) + settleMs + 10_000;
  const caughtUp = pending === 0 && s.counts.failed === 0 && (g.endMs !== null && s.lastClosedClose !== null && s.lastClosedClose + 1 >= g.endMs - intervalMs(g.interval)
    || (lagSeconds !== null && lagSeconds * 1000 <= slack));
  return { expected, pending, completeness: expected === 0 ? 1 : Math.min(1, done / expected), lagSeconds, caughtUp };
}
