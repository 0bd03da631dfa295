// Reads a data root and checks DESIGN.md's invariants: every ok/partial
// slice has its payload and that payload is the slice's (key, row count),
// summaries count exactly the records, no final slice holds an open candle,
// and rows sit inside their window in order. Used by tests and `verify`.
import { bodyText, decodeRawPayload, type RawPayload } from '../src/payload.js';

export { decodeRawPayload };
import type { StreamKey } from './keys.js';
import { ManifestStore } from './manifest-store.js';
import { decodeSummary, STATUSES, type SliceRecord } from './records.js';


export interface Finding {
  sliceKey: string;
  problem: string;
}

export type { RawPayload };

export interface StoredPayload extends RawPayload {
  rows: unknown[][];
}

/** The payload with its body parsed into rows. */
export function decodePayload(bytes: Uint8Array): StoredPayload {
  const p = decodeRawPayload(bytes);
  return { ...p, rows: JSON.parse(bodyText(p.body)) as unknown[][] };
}

export function checkManifest(store: ManifestStore): Finding[] {
  const findings: Finding[] = [];
  for (const { key, value } of store.store.streams.getRange({})) {
    const [venue, endpoint, symbol, interval] = key as StreamKey;
    const name = `${venue}:${endpoint}:${symbol}:${interval}`;
    const summary = decodeSummary(value, name);
    const counts = { ok: 0, partial: 0, failed: 0 };
    let rows = 0;
    for (const r of store.records({ venue, endpoint, symbol, interval: interval as never })) {
      counts[r.status]++;
      if (r.hasPayload) rows += r.rows;
      findings.push(...checkSlice(store, r));
    }
    for (const s of STATUSES) {
      if (counts[s] !== summary.counts[s]) findings.push({ sliceKey: name, problem: `summary counts ${summary.counts[s]} ${s} slices, records hold ${counts[s]}` });
    }
    const total = counts.ok + counts.partial + counts.failed;
    if (summary.total !== total) findings.push({ sliceKey: name, problem: `summary total ${summary.total} != ${total} records` });
    if (summary.rows !== rows) findings.push({ sliceKey: name, problem: `summary rows ${summary.rows} != ${rows} in payloads` });
  }
  return findings;
}

function checkSlice(store: ManifestStore, r: SliceRecord): Finding[] {
  const out: Finding[] = [];
  const bad = (problem: string) => out.push({ sliceKey: r.key, problem });
  if (r.status === 'failed' && !r.hasPayload) return out;
  const bytes = store.payload(r.id);
  if (!bytes) return [{ sliceKey: r.key, problem: `${r.status} slice has no payload` }];
  let p: StoredPayload;
  try {
    p = decodePayload(bytes);
  } catch (err) {
    return [{ sliceKey: r.key, problem: `payload does not decode: ${(err as Error).message}` }];
  }
  if (p.meta.key !== r.key) bad(`payload belongs to ${p.meta.key}`);
  if (!Array.isArray(p.rows) || p.rows.length !== r.rows) bad(`payload has ${p.rows?.length} rows, record says ${r.rows}`);
  let prev = -Infinity;
  for (const row of p.rows ?? []) {
    const open = row[0] as number;
    const close = row[6] as number;
    if (open < r.startMs || open > r.endMs) bad(`row opens at ${open}, outside ${r.startMs}-${r.endMs}`);
    if (open <= prev) bad(`row at ${open} is not after ${prev}`);
    prev = open;
    if (r.status === 'ok' && close >= p.meta.serverTime) bad(`final slice holds a candle closing at ${close}, after the exchange's ${p.meta.serverTime}`);
  }
  if (r.status === 'ok' && r.endMs >= p.meta.serverTime) bad(`ok slice window ends at ${r.endMs}, not before its fetch at ${p.meta.serverTime}`);
  return out;
}
