// A stream's slice geometry (anchor and limit) is part of its identity once
// stored (DESIGN invariant 8): slices cut on another grid would overlap the
// stored ones and store candles twice. A configured start that lands on the
// stored grid (a whole number of slices earlier or later) cuts the same
// windows and is accepted; any other start, or another limit, is refused
// before anything is written.
import { CkError } from '../src/errors.js';
import { addIntervals, intervalMs, type Interval } from '../src/intervals.js';
import { streamName, type StreamGeometry } from '../src/slices.js';
import type { Storage } from './port.js';

export interface Grid {
  anchorMs: number;
  limit: number;
}

/** Whole intervals from `a` to `b` (calendar months for 1M). */
function intervalsBetween(a: number, b: number, interval: Interval): number {
  if (interval === '1M') {
    const x = new Date(a);
    const y = new Date(b);
    return (y.getUTCFullYear() - x.getUTCFullYear()) * 12 + y.getUTCMonth() - x.getUTCMonth();
  }
  return (b - a) / intervalMs(interval);
}

/** True when geometry `g` cuts exactly the windows of the stored grid. */
export function onGrid(stored: Grid, g: StreamGeometry): boolean {
  return stored.limit === g.limit && intervalsBetween(stored.anchorMs, g.anchorMs, g.interval) % g.limit === 0;
}

/** The latest start on the stored grid at or before `t`. */
export function gridStartAtOrBefore(stored: Grid, interval: Interval, t: number): number {
  const slices = Math.floor(intervalsBetween(stored.anchorMs, t, interval) / stored.limit);
  return addIntervals(stored.anchorMs, interval, slices * stored.limit);
}

/** One line on what is stored, what is configured, and what to change. */
export function geometryProblem(stored: Grid, g: StreamGeometry): string {
  const iso = (t: number) => new Date(t).toISOString();
  if (stored.limit !== g.limit) {
    return `${streamName(g)}: its stored slices hold limit ${stored.limit}, the config asks for limit ${g.limit}; set "limit": ${stored.limit} for this stream again (or use a new data root for the new limit)`;
  }
  const earlier = gridStartAtOrBefore(stored, g.interval, g.anchorMs);
  return `${streamName(g)}: its stored slices start on a grid from ${iso(stored.anchorMs)} (limit ${stored.limit}), the configured start ${iso(g.anchorMs)} is off that grid; use "start": "${iso(earlier)}" (the nearest start on the grid at or before it) or "${iso(stored.anchorMs)}"`;
}

/** Refuses (CK_ERR_GEOMETRY_CHANGED, every stream named) a config whose streams would cut other windows than those stored. */
export function checkGeometry(storage: Pick<Storage, 'storedSummary'>, streams: readonly StreamGeometry[]): void {
  const problems: string[] = [];
  for (const g of streams) {
    const stored = storage.storedSummary(g);
    if (stored && stored.total > 0 && !onGrid(stored, g)) problems.push(geometryProblem(stored, g));
  }
  if (problems.length > 0) throw new CkError('CK_ERR_GEOMETRY_CHANGED', problems.join('; '));
}
