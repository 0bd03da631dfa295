// Read side of the manifest for the data-out commands (status, verify,
// export). Works on a data root whether or not a daemon is writing to it:
// LMDB readers see the last committed transaction.
import { isInterval } from '../src/intervals.js';
import { streamName, type StreamRef } from '../src/slices.js';
import { decodeRawPayload, type RawPayload } from '../src/payload.js';
import type { StreamKey } from './keys.js';
import type { ManifestStore } from './manifest-store.js';
import { decodeSummary, type SliceRecord, type StreamSummary } from './records.js';

export interface StoredStreamInfo {
  ref: StreamRef;
  name: string;
  summary: StreamSummary;
}

export function listStreams(store: ManifestStore): StoredStreamInfo[] {
  const out: StoredStreamInfo[] = [];
  for (const { key, value } of store.store.streams.getRange({})) {
    const [venue, endpoint, symbol, interval] = key as StreamKey;
    if (!isInterval(interval)) continue;
    const ref: StreamRef = { venue, endpoint, symbol, interval };
    out.push({ ref, name: streamName(ref), summary: decodeSummary(value, streamName(ref)) });
  }
  return out;
}

/** Streams whose name matches `pattern` (`*` matches within one part, e.g. `binance:klines:*:1m`). */
export function matchStreams(streams: readonly StoredStreamInfo[], pattern: string): StoredStreamInfo[] {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^:]*')}$`);
  return streams.filter((s) => re.test(s.name));
}

/** Every slice that holds a payload, in time order, with its body as stored (unparsed); a slice that starts before `fromMs` but reaches past it is included. */
export function* rawSlices(store: ManifestStore, ref: StreamRef, fromMs = -Infinity): Generator<{ record: SliceRecord; payload: RawPayload }> {
  for (const record of store.records(ref, firstSliceStart(store, ref, fromMs))) {
    if (!record.hasPayload || record.endMs < fromMs) continue;
    const bytes = store.payload(record.id);
    if (!bytes) continue;
    yield { record, payload: decodeRawPayload(bytes) };
  }
}

export type KlineRow = [number, string, string, string, string, string, number, string, number, string, string, string];

/** Start of the slice whose window holds `fromMs` (the last one starting at or before it), so it is not skipped. */
function firstSliceStart(store: ManifestStore, ref: StreamRef, fromMs: number): number {
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
export function knownEmptyRanges(store: ManifestStore, ref: StreamRef): GapRange[] {
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
