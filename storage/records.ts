// What the manifest stores, the decoding of it at the storage boundary (a
// status read from disk is checked against the union before code sees it),
// and how a record moves its stream's summary counts.
import type { ErrorCode } from '../src/errors.js';

export const STATUSES = ['ok', 'partial', 'failed'] as const;
/** `pending` is never stored: a slice with no record is pending. */
export type StoredStatus = (typeof STATUSES)[number];
export type SliceStatus = StoredStatus | 'pending';

export interface SliceRecord {
  status: StoredStatus;
  key: string;
  id: string;
  startMs: number;
  endMs: number;
  limit: number;
  /** Rows in the committed payload (0 for an ok slice = known-empty range). */
  rows: number;
  firstOpen: number | null;
  lastOpen: number | null;
  lastClosedClose: number | null;
  gaps: Array<[number, number]>;
  anomalies: string[];
  /** When the payload was fetched (local ms), null if none. */
  fetchedAt: number | null;
  /** Failed attempts since the last success. */
  attempts: number;
  error: { code: ErrorCode; message: string } | null;
  /** When this slice should be fetched again (failed, partial); null when final. */
  nextDueAt: number | null;
  /** True when a payload for `id` was committed with this record. */
  hasPayload: boolean;
  /** Checksum of the payload bytes (src/payload.ts payloadHash: `crc32:` + 8 hex digits; 32 hex digits of SHA-256 in stores written before), null without a payload. */
  payloadHash: string | null;
}

export interface StreamSummary {
  anchorMs: number;
  limit: number;
  counts: Record<StoredStatus, number>;
  /** Number of slice records: counts add up to it. */
  total: number;
  /** Rows in committed payloads. */
  rows: number;
  /** ok slices with zero rows. */
  emptySlices: number;
  /** Every slice with a lower index is ok. */
  okThroughIndex: number;
  firstOpen: number | null;
  lastClosedClose: number | null;
  lastCommitAt: number | null;
}

export function emptySummary(anchorMs: number, limit: number): StreamSummary {
  return {
    anchorMs, limit, counts: { ok: 0, partial: 0, failed: 0 }, total: 0, rows: 0, emptySlices: 0,
    okThroughIndex: 0, firstOpen: null, lastClosedClose: null, lastCommitAt: null,
  };
}

export function decodeSliceRecord(raw: unknown, where: string): SliceRecord {
  const r = raw as SliceRecord;
  if (!r || typeof r !== 'object' || !(STATUSES as readonly string[]).includes(r.status)) {
    throw new Error(`${where}: slice record has no valid status (${JSON.stringify((r as { status?: unknown } | null)?.status)})`);
  }
  return r;
}

export function decodeSummary(raw: unknown, where: string): StreamSummary {
  const s = raw as StreamSummary;
  if (!s || typeof s !== 'object' || typeof s.total !== 'number' || !s.counts) throw new Error(`${where}: stream summary is malformed`);
  return s;
}

/** Moves a summary's counts from record `prev` (if any) to record `next`. */
export function countInto(s: StreamSummary, prev: SliceRecord | undefined, next: SliceRecord): void {
  if (prev) {
    s.counts[prev.status]--;
    s.total--;
    if (prev.hasPayload) s.rows -= prev.rows;
    if (prev.status === 'ok' && prev.rows === 0) s.emptySlices--;
  }
  s.counts[next.status]++;
  s.total++;
  if (next.hasPayload) s.rows += next.rows;
  if (next.status === 'ok' && next.rows === 0) s.emptySlices++;
  if (next.firstOpen !== null && (s.firstOpen === null || next.firstOpen < s.firstOpen)) s.firstOpen = next.firstOpen;
  if (next.lastClosedClose !== null && (s.lastClosedClose === null || next.lastClosedClose > s.lastClosedClose)) s.lastClosedClose = next.lastClosedClose;
}
