// Deterministic slices: a stream's time axis cut into windows of
// `limit x interval` from an anchor (the configured start floored to the
// interval). Slices are generated lazily by index; nothing here ever
// materialises the whole range.
import { createHash } from 'node:crypto';
import { addIntervals, floorToInterval, type Interval } from './intervals.js';

export interface StreamRef {
  venue: string;
  endpoint: string;
  symbol: string;
  interval: Interval;
}

export interface StreamGeometry extends StreamRef {
  /** Configured start floored to the interval: slice 0 opens here. */
  anchorMs: number;
  /** Exclusive end of the stream (configured `end`), or null to follow forever. */
  endMs: number | null;
  /** Rows per slice (the request's `limit`). */
  limit: number;
}

export interface SliceSpec {
  index: number;
  /** Open time of the first candle in the window. */
  startMs: number;
  /** Inclusive end of the window: the request's `endTime`. */
  endMs: number;
  limit: number;
  /** `venue:endpoint:SYMBOL:interval:startMs-endMs:limit`, 1:1 with the request URL. */
  key: string;
  /** Short stable hash of `key` (hex), used as the payload's name. */
  id: string;
}

export function streamName(s: StreamRef): string {
  return `${s.venue}:${s.endpoint}:${s.symbol}:${s.interval}`;
}

export function geometry(ref: StreamRef, startMs: number, endMs: number | null, limit: number): StreamGeometry {
  return { ...ref, anchorMs: floorToInterval(startMs, ref.interval), endMs, limit };
}

export function sliceId(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** The parts of a slice key (`venue:endpoint:SYMBOL:interval:startMs-endMs:limit`). */
export interface ParsedKey {
  venue: string;
  endpoint: string;
  symbol: string;
  interval: string;
  startMs: number;
  endMs: number;
  limit: number;
}

const SLICE_KEY = /^([^:]+):([^:]+):([^:]+):([^:]+):(\d+)-(\d+):(\d+)$/;

export function parseSliceKey(key: string): ParsedKey | null {
  const m = SLICE_KEY.exec(key);
  if (!m) return null;
  return { venue: m[1]!, endpoint: m[2]!, symbol: m[3]!, interval: m[4]!, startMs: Number(m[5]), endMs: Number(m[6]), limit: Number(m[7]) };
}

/** Slice number `index` of a stream, or null when it starts at or after the stream's end. */
export function sliceAt(g: StreamGeometry, index: number): SliceSpec | null {
  const w = sliceWindow(g, index);
  return w && { ...w, id: sliceId(w.key) };
}

/** The slice's window and key without its id (a hash of the key): enough to compare with a stored record. */
export function sliceWindow(g: StreamGeometry, index: number): Omit<SliceSpec, 'id'> | null {
  const startMs = addIntervals(g.anchorMs, g.interval, index * g.limit);
  if (g.endMs !== null && startMs >= g.endMs) return null;
  let endMs = addIntervals(g.anchorMs, g.interval, (index + 1) * g.limit) - 1;
  if (g.endMs !== null && endMs >= g.endMs) endMs = g.endMs - 1;
  return { index, startMs, endMs, limit: g.limit, key: `${streamName(g)}:${startMs}-${endMs}:${g.limit}` };
}

/** Index of the slice whose window contains `t` (t >= anchor). */
export function sliceIndexAt(g: StreamGeometry, t: number): number {
  if (t < g.anchorMs) return 0;
  if (g.interval === '1M') {
    const a = new Date(g.anchorMs);
    const d = new Date(t);
    const months = (d.getUTCFullYear() - a.getUTCFullYear()) * 12 + d.getUTCMonth() - a.getUTCMonth();
    return Math.floor(months / g.limit);
  }
  const span = addIntervals(g.anchorMs, g.interval, g.limit) - g.anchorMs;
  return Math.floor((t - g.anchorMs) / span);
}
