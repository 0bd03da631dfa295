// Read side of the manifest for the data-out commands (status, verify,
// export), through the storage port. Works on a data root whether or not a
// daemon is writing to it: readers see the last committed transaction.
import { isInterval } from '../src/intervals.js';
import { streamName, type StreamRef } from '../src/slices.js';
import { decodeRawPayload, type RawPayload } from '../src/payload.js';
import type { Storage } from './port.js';
import type { SliceRecord, StreamSummary } from './records.js';

export interface StoredStreamInfo {
  ref: StreamRef;
  name: string;
  summary: StreamSummary;
}

export function listStreams(store: Storage): StoredStreamInfo[] {
  const out: StoredStreamInfo[] = [];
  for (const { ref, summary } of store.streams()) {
    if (!isInterval(ref.interval)) continue;
    out.push({ ref, name: streamName(ref), summary });
  }
  return out;
}

/** Streams whose name matches `pattern` (`*` matches within one part, e.g. `binance:klines:*:1m`). */
export function matchStreams(streams: readonly StoredStreamInfo[], pattern: string): StoredStreamInfo[] {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^:]*')}$`);
  return streams.filter((s) => re.test(s.name));
}

/**
 * Every slice that holds a payload, in time order, with its body as stored
 * (unparsed); a slice that starts before `fromMs` but reaches past it is
 * included. A payload whose bytes fail their checksum stops the read with
 * CK_ERR_STORE_CORRUPT (the port checks it): no reader sees damaged rows.
 */
export function* rawSlices(store: Storage, ref: StreamRef, fromMs = -Infinity): Generator<{ record: SliceRecord; payload: RawPayload }> {
  for (const record of store.records(ref, firstSliceStart(store, ref, fromMs))) {
    if (!record.hasPayload || record.endMs < fromMs) continue;
    const bytes = store.payload(record);
    if (!bytes) continue;
    yield { record, payload: decodeRawPayload(bytes) };
  }
}

export type KlineRow = [number, string, string, string, string, string, number, string, number, string, string, string];

/** Start of the slice whose window holds `fromMs` (the last one starting at or before it), so it is not skipped. */
function firstSliceStart(store: Storage, ref: StreamRef, fromMs: number): number {
  if (!Number.isFinite(fromMs)) return -Infinity;
  return store.lastStartAtOrBefore(ref, fromMs) ?? -Infinity;
}

export interface GapRange {
  /** First missing open time. */
  fromMs: number;
  /** Open time of the next candle present (exclusive end). */
  toMs: number;
}

/** Known-empty ranges recorded on the slices (listing, maintenance, halts), merged across slice borders. */
export function knownEmptyRanges(store: Storage, ref: StreamRef): GapRange[] {
  const out: GapRange[] = [];
  for (const r of store.records(ref)) {
    if (r.status === 'failed') continue;
    for (const [from, to] of r.gaps) {
      const last = out[out.length - 1];
      if (last && last.toMs >= from) last.toMs = Math.max(last.toMs, to);
      else out.push({ fromMs: from, toMs: to });
    }
  }
  return out;
}
