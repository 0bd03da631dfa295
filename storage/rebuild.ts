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
import { parseSliceKey, sliceId, streamName, type SliceSpec, type StreamGeometry, type StreamRef } from '../src/slices.js';
import { onGrid, type Grid } from './geometry.js';
import { venueByName } from '../src/venues/index.js';
import { PAYLOAD_DAMAGED, payloadIntact } from './checked-payload.js';
import type { CommitItem, Storage } from './port.js';
import type { SliceRecord } from './records.js';

export interface RebuildReport {
  slices: number;
  streams: number;
  /** Payloads that could not be used, with why (they are left in place). */
  skipped: Array<{ id: string; problem: string }>;
  /**
   * Payloads removed, so their slices are pending and fetched again: bytes
   * that fail the checksum their slice record held, and windows off the
   * stream's kept slice grid (a changed `limit` once stored them twice).
   */
  dropped: Array<{ id: string; key: string; problem: string }>;
}

/**
 * `configured` gives a stream's configured slice grid (first slice start and
 * limit, by stream name); streams not in it are anchored at their earliest
 * stored slice.
 */
export async function rebuildManifest(store: Storage, settleMs: number, configured: ReadonlyMap<string, Grid> = new Map()): Promise<RebuildReport> {
  const skipped: RebuildReport['skipped'] = [];
  const dropped: RebuildReport['dropped'] = [];
  const byStream = new Map<string, { ref: StreamRef; records: SliceRecord[] }>();
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
      s = { ref, records: [] };
      byStream.set(name, s);
    }
    s.records.push(record);
  }
  const kept = [...byStream].map(([name, { ref, records }]) => keepOneGrid(name, ref, records, configured.get(name), dropped));
  function* items(): Generator<CommitItem> {
    for (const { geometry, records } of kept) for (const record of records) yield { stream: geometry, record, payload: null };
  }
  const n = await store.replaceAll(items(), Date.now(), dropped.map((d) => d.id));
  return { slices: n, streams: byStream.size, skipped, dropped };
}

/**
 * A stream's slices must partition its range (DESIGN invariant 3). Payloads
 * cut on different grids (a store an older candlekeep let a changed `limit`
 * write into) overlap: the configured grid is kept when the config is given,
 * else the one holding the most rows; every other
 * payload is dropped and reported, and what only they covered is fetched
 * again on the kept grid by the next run.
 */
function keepOneGrid(name: string, ref: StreamRef, records: SliceRecord[], configured: Grid | undefined, dropped: RebuildReport['dropped']): { geometry: StreamGeometry; records: SliceRecord[] } {
  const grids: Array<{ grid: StreamGeometry; records: SliceRecord[]; rows: number }> = [];
  for (const r of records) {
    const g = grids.find((x) => onGrid(x.grid, { ...ref, anchorMs: r.startMs, endMs: null, limit: r.limit }));
    if (g) {
      g.records.push(r);
      g.rows += r.rows;
    } else {
      grids.push({ grid: { ...ref, anchorMs: r.startMs, endMs: null, limit: r.limit }, records: [r], rows: r.rows });
    }
  }
  const onConfigured = (g: StreamGeometry) => (configured && onGrid(configured, g) ? 1 : 0);
  grids.sort((a, b) => onConfigured(b.grid) - onConfigured(a.grid) || b.rows - a.rows || b.grid.limit - a.grid.limit);
  const [keep, ...others] = grids;
  const ordered = keep!.records.sort((a, b) => a.startMs - b.startMs);
  const limit = keep!.grid.limit;
  const anchorMs = configured && onGrid(keep!.grid, { ...ref, anchorMs: configured.anchorMs, endMs: null, limit }) ? configured.anchorMs : ordered[0]!.startMs;
  const kept = `limit ${limit} from ${new Date(anchorMs).toISOString()}`;
  for (const o of others) for (const r of o.records) dropped.push({ id: r.id, key: r.key, problem: `${name}: off the kept slice grid (${kept}); it overlaps kept slices` });
  return { geometry: { ...ref, anchorMs, endMs: null, limit }, records: ordered };
}
