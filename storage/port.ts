// The storage port: the one interface between the core and where data is
// kept (DESIGN invariant 7). The manifest writer, verify, rebuild, the
// readers and the commands see only this; the LMDB implementation lives in
// storage/lmdb/ and is chosen by storage/open.ts. No database handle leaves it.
import type { StreamGeometry, StreamRef } from '../src/slices.js';
import type { SliceRecord, StreamSummary } from './records.js';

export interface CommitItem {
  stream: StreamGeometry;
  record: SliceRecord;
  /** The encoded payload; null for a failed attempt. */
  payload: Uint8Array | null;
}

export interface StoredStream {
  ref: StreamRef;
  summary: StreamSummary;
}

/** What a sink (PostgreSQL, Parquet, ...) remembers of a stream: opaque to storage, its meaning is the sink's. */
export type SinkOffset = string;

/** Faults a test injects into the store (never set in production). */
export interface StorageFaults {
  /** Runs before every write transaction; what it throws fails that transaction as a full disk would, storing nothing of it. */
  beforeWrite?(): void;
}

export interface OpenStorageOptions {
  /** Open for reading only (status, verify, export): creates nothing, and a store holding nothing yet reads as empty. Implies `existing`. */
  readOnly?: boolean;
  /** Refuse a data root that holds no store (CK_ERR_NO_DATA) instead of creating one. */
  existing?: boolean;
  faults?: StorageFaults;
}

export interface Storage {
  /**
   * Applies every item in ONE transaction: each payload, its slice record
   * and the stream summaries, so a slice is ok/partial only together with
   * its payload (DESIGN invariants 1 and 4). Resolves with the records as
   * stored once committed; CK_ERR_STORAGE and nothing stored otherwise.
   */
  commit(items: readonly CommitItem[], now: number): Promise<SliceRecord[]>;
  /**
   * Drops every slice record and summary, writes `items` instead and
   * removes the payloads named in `dropPayloads`, in ONE transaction: a
   * crash leaves either the old manifest or the new one (rebuild-manifest).
   */
  replaceAll(items: Iterable<CommitItem>, now: number, dropPayloads?: Iterable<string>): Promise<number>;

  /** The record of the slice starting at `startMs`, if any. */
  slice(ref: StreamRef, startMs: number): SliceRecord | undefined;
  /** The stream's records from `fromMs` on, in time order. */
  records(ref: StreamRef, fromMs?: number): Iterable<SliceRecord>;
  /** Start of the stream's last slice record starting at or before `t`, if any. */
  lastStartAtOrBefore(ref: StreamRef, t: number): number | undefined;

  /**
   * The payload committed with `record`, checked against the checksum the
   * record holds: bytes that do not match are refused with
   * CK_ERR_STORE_CORRUPT naming the slice, never returned. Undefined when
   * no payload is stored under the record's id.
   */
  payload(record: SliceRecord): Uint8Array | undefined;
  /** Every stored payload with its id, as stored (unchecked: rebuild-manifest judges each against its old record itself). */
  payloads(): Iterable<{ id: string; bytes: Uint8Array }>;

  /** The writer's summary of a stream (cached; fresh when the stream is new or its geometry changed). */
  summary(g: StreamGeometry): StreamSummary;
  /** The summary as stored, if any. */
  storedSummary(ref: StreamRef): StreamSummary | undefined;
  /** Every stored stream with its summary. */
  streams(): Iterable<StoredStream>;

  /** The offset `sink` last confirmed for the stream, if any. */
  sinkOffset(sink: string, ref: StreamRef): SinkOffset | undefined;
  /** Records that `sink` confirmed writing through `offset`, in its own transaction: call it only after the sink's write is confirmed (DESIGN invariant 10). */
  setSinkOffset(sink: string, ref: StreamRef, offset: SinkOffset): Promise<void>;

  /** Bytes the store takes on disk (0 before it exists). */
  bytesOnDisk(): number;
  /** Waits until everything committed is on disk, then closes. */
  close(): Promise<void>;
}
