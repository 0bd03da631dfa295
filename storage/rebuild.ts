// rebuild-manifest: the slice records and stream summaries are derived data;
// the payloads (rows as received, with their URL key and fetch time) are
// the truth. This drops the manifest and derives it again from the payloads
// alone, deciding status exactly as the fetcher does (src/finality.ts).
// The one thing kept from the old manifest is each record's checksum, as
// the judge of its payload: damaged bytes are dropped, never given a fresh
// checksum, and their slices are fetched again.
import { finality } from '../src/finality.js';
import { decodeRawPayload, payloadHash, type RawPayload } from '../src/payload.js';
import { isInterval } from '../src/intervals.js';
import { parseSliceKey, sliceId, streamName, type SliceSpec, type StreamGeometry } from '../src/slices.js';
import { venueByName } from '../src/venues/index.js';
import { PAYLOAD_DAMAGED, payloadIntact } from './checked-payload.js';
import type { CommitItem, Storage } from './port.js';
import type { SliceRecord } from './records.js';

export interface RebuildReport {
  slices: number;
  streams: number;
  /** Payloads that could not be used, with why (they are left in place). */
  skipped: Array<{ id: string; problem: string }>;
  /** Payloads whose bytes fail the checksum their slice record held: removed, so their slices are pending and fetched again. */
  dropped: Array<{ id: string; key: string; problem: string }>;
}

/**
 * `anchors` gives a stream's configured first slice start (by stream name);
 * streams not in it are anchored at their earliest stored slice.
 */
export async function rebuildManifest(store: Storage, settleMs: number, anchors: ReadonlyMap<string, number> = new Map()): Promise<RebuildReport> {
  const skipped: RebuildReport['skipped'] = [];
  const dropped: RebuildReport['dropped'] = [];
  const byStream = new Map<string, { geometry: StreamGeometry; slices: Map<number, SliceRecord> }>();
  for (const { id, bytes: value } of store.payloads()) {
    const problem = (p: string) => skipped.push({ id: String(id), problem: p });
    let payload: RawPayload;
    try {
      payload = decodeRawPayload(value);
    } catch (err) {
      problem(`does not decode: ${(err as Error).message}`);
      continue;
    }
    const k = parseSliceKey(String(payload.meta?.key));
    if (!k || !isInterval(k.interval)) {
      problem(`meta.key ${JSON.stringify(payload.meta?.key)} is not a slice key`);
      continue;
    }
    if (sliceId(payload.meta.key) !== id) {
      problem(`stored under ${String(id)}, but its key ${payload.meta.key} names ${sliceId(payload.meta.key)}`);
      continue;
    }
    const ref = { venue: k.venue, endpoint: k.endpoint, symbol: k.symbol, interval: k.interval };
    const old = store.slice(ref, k.startMs);
    if (old?.hasPayload && old.id === id && !payloadIntact(old, value)) {
      dropped.push({ id, key: payload.meta.key, problem: PAYLOAD_DAMAGED });
      continue;
    }
    const endpoint = venueByName(k.venue).endpoints[k.endpoint];
    if (!endpoint) {
      problem(`unknown endpoint ${k.venue}:${k.endpoint}`);
      continue;
    }
    const spec: SliceSpec = { index: 0, startMs: k.startMs, endMs: k.endMs, limit: k.limit, key: payload.meta.key, id: String(id) };
    let facts;
    try {
      facts = endpoint.validate(payload.body, { slice: spec, interval: k.interval, exchangeNow: payload.meta.serverTime });
    } catch (err) {
      problem(`rows fail validation: ${(err as Error).message}`);
      continue;
    }
    const { status, nextDueAt } = finality(k.endMs, facts, payload.meta.serverTime, k.interval, settleMs);
    const record: SliceRecord = {
      status, key: spec.key, id: spec.id, startMs: k.startMs, endMs: k.endMs, limit: k.limit,
      rows: facts.rows, firstOpen: facts.firstOpen, lastOpen: facts.lastOpen, lastClosedClose: facts.lastClosedClose,
      gaps: facts.gaps, anomalies: facts.anomalies, fetchedAt: payload.meta.fetchedAt, attempts: 0, error: null,
      nextDueAt, hasPayload: true, payloadHash: payloadHash(value),
    };
    const name = streamName(ref);
    let s = byStream.get(name);
    if (!s) {
      s = { geometry: { ...ref, anchorMs: anchors.get(name) ?? k.startMs, endMs: null, limit: k.limit }, slices: new Map() };
      byStream.set(name, s);
    }
    const other = s.slices.get(k.startMs);
    if (other) {
      // Two windows at one start (the stream's limit changed): keep the newer fetch.
      const keep = (other.fetchedAt ?? 0) >= (record.fetchedAt ?? 0) ? other : record;
      problem(`${name}: two payloads start at ${k.startMs}; kept ${keep.key}`);
      if (keep === other) continue;
    }
    s.slices.set(k.startMs, record);
    if (!anchors.has(name) && k.startMs < s.geometry.anchorMs) s.geometry.anchorMs = k.startMs;
  }
  function* items(): Generator<CommitItem> {
    for (const { geometry, slices } of byStream.values()) {
      const ordered = [...slices.values()].sort((a, b) => a.startMs - b.startMs);
      geometry.limit = ordered[0]?.limit ?? geometry.limit;
      for (const record of ordered) yield { stream: geometry, record, payload: null };
    }
  }
  const n = await store.replaceAll(items(), Date.now(), dropped.map((d) => d.id));
  return { slices: n, streams: byStream.size, skipped, dropped };
}
