// Reads a data root through the storage port and checks DESIGN.md's
// invariants: every ok/partial slice has its payload, intact (its
// checksum), and that payload is the slice's (key, row count),
// summaries count exactly the records, no final slice holds an open candle,
// and rows sit inside their window in order. Used by tests and `verify`,
// which adds its own checks on the same pass (see checkStream's visitor).
import type { CkError } from '../src/errors.js';
import { bodyText, decodeRawPayload, type RawPayload } from '../src/payload.js';
import type { StreamRef } from '../src/slices.js';
import { VENUES } from '../src/venues/index.js';
import type { RowModel } from '../src/venues/venue.js';
import { PAYLOAD_DAMAGED } from './checked-payload.js';
import type { Storage } from './port.js';
import { STATUSES, type SliceRecord, type StreamSummary } from './records.js';

export interface Finding {
  sliceKey: string;
  problem: string;
}

export interface StoredPayload extends RawPayload {
  rows: unknown[];
}

/** The payload with its body parsed into rows, oldest first (through the endpoint's row model when there is one: OKX keeps rows in an envelope). */
export function decodePayload(bytes: Uint8Array, model?: RowModel | null): StoredPayload {
  const p = decodeRawPayload(bytes);
  const parsed: unknown = JSON.parse(bodyText(p.body));
  return { ...p, rows: model ? model.rowsOf(parsed) : (parsed as unknown[]) };
}

export function checkManifest(store: Storage): Finding[] {
  const findings: Finding[] = [];
  for (const { ref, summary } of store.streams()) findings.push(...checkStream(store, ref, summary));
  return findings;
}

/** What checkStream hands a visitor for each slice: the record and its payload (when it has one, intact, that decodes). */
export type SliceVisitor = (r: SliceRecord, payload: StoredPayload | null) => void;

/** One pass over a stream's slices: the invariants, then `visit` for checks of its own on the same decoded payloads. */
export function checkStream(store: Storage, ref: StreamRef, summary: StreamSummary, visit?: SliceVisitor): Finding[] {
  const name = `${ref.venue}:${ref.endpoint}:${ref.symbol}:${ref.interval}`;
  const findings: Finding[] = [];
  const counts = { ok: 0, partial: 0, failed: 0 };
  let rows = 0;
  const model = VENUES[ref.venue]?.endpoints[ref.endpoint]?.rows ?? null;
  if (!model) findings.push({ sliceKey: name, problem: `unknown endpoint ${ref.venue}:${ref.endpoint}: its rows are not checked` });
  for (const r of store.records(ref)) {
    counts[r.status]++;
    if (r.hasPayload) rows += r.rows;
    const { findings: own, payload } = checkSlice(r, r.status === 'failed' && !r.hasPayload ? undefined : intactPayload(store, r), model);
    findings.push(...own);
    visit?.(r, payload);
  }
  for (const s of STATUSES) {
    if (counts[s] !== summary.counts[s]) findings.push({ sliceKey: name, problem: `summary counts ${summary.counts[s]} ${s} slices, records hold ${counts[s]}` });
  }
  const total = counts.ok + counts.partial + counts.failed;
  if (summary.total !== total) findings.push({ sliceKey: name, problem: `summary total ${summary.total} != ${total} records` });
  if (summary.rows !== rows) findings.push({ sliceKey: name, problem: `summary rows ${summary.rows} != ${rows} in payloads` });
  return findings;
}

/** The record's payload through the port (which checks its checksum), or `damaged`. */
function intactPayload(store: Storage, r: SliceRecord): Uint8Array | undefined | 'damaged' {
  try {
    return store.payload(r);
  } catch (err) {
    if ((err as CkError).code === 'CK_ERR_STORE_CORRUPT') return 'damaged';
    throw err;
  }
}

function checkSlice(r: SliceRecord, bytes: Uint8Array | undefined | 'damaged', model: RowModel | null): { findings: Finding[]; payload: StoredPayload | null } {
  const out: Finding[] = [];
  const bad = (problem: string) => out.push({ sliceKey: r.key, problem });
  if (r.status === 'failed' && !r.hasPayload) return { findings: out, payload: null };
  if (bytes === 'damaged') return { findings: [{ sliceKey: r.key, problem: `${PAYLOAD_DAMAGED}; \`rebuild-manifest\` drops it and the next run fetches the slice again` }], payload: null };
  if (!bytes) return { findings: [{ sliceKey: r.key, problem: `${r.status} slice has no payload` }], payload: null };
  let p: StoredPayload;
  try {
    p = decodePayload(bytes, model);
  } catch (err) {
    return { findings: [{ sliceKey: r.key, problem: `payload does not decode: ${(err as Error).message}` }], payload: null };
  }
  if (p.meta.key !== r.key) bad(`payload belongs to ${p.meta.key}`);
  if (!Array.isArray(p.rows) || p.rows.length !== r.rows) bad(`payload has ${p.rows?.length} rows, record says ${r.rows}`);
  let prev = -Infinity;
  if (model && Array.isArray(p.rows)) {
    for (const row of p.rows) {
      const t = model.time(row);
      if (!(t >= r.startMs && t <= r.endMs)) bad(`row at ${t} is outside ${r.startMs}-${r.endMs}`);
      if (!(t > prev)) bad(`row at ${t} is not after ${prev}`);
      prev = t;
      if (r.status === 'ok' && !model.finalAt(row, p.meta.serverTime)) bad(`final slice holds the row at ${t}, not final at the exchange's ${p.meta.serverTime} (an open candle)`);
    }
  }
  if (r.status === 'ok' && r.endMs >= p.meta.serverTime) bad(`ok slice window ends at ${r.endMs}, not before its fetch at ${p.meta.serverTime}`);
  return { findings: out, payload: p };
}
