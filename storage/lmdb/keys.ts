// LMDB keys. Arrays sort element by element (ordered-binary), so one
// stream's slices are one contiguous range in time order.
import type { StreamRef } from '../../src/slices.js';

export type SliceKey = [venue: string, endpoint: string, symbol: string, interval: string, startMs: number];
export type StreamKey = [venue: string, endpoint: string, symbol: string, interval: string];
export type SinkKey = [sink: string, venue: string, endpoint: string, symbol: string, interval: string];

export function sliceKey(s: StreamRef, startMs: number): SliceKey {
  return [s.venue, s.endpoint, s.symbol, s.interval, startMs];
}

export function streamKey(s: StreamRef): StreamKey {
  return [s.venue, s.endpoint, s.symbol, s.interval];
}

export function sinkKey(sink: string, s: StreamRef): SinkKey {
  return [sink, s.venue, s.endpoint, s.symbol, s.interval];
}

/** Bounds of every slice of a stream from `fromMs` on. */
export function sliceRange(s: StreamRef, fromMs = -Infinity): { start: SliceKey; end: SliceKey } {
  return { start: sliceKey(s, Number.isFinite(fromMs) ? fromMs : -1), end: sliceKey(s, Number.MAX_SAFE_INTEGER) };
}
