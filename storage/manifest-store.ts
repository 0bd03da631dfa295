// The manifest: slice records, payloads and stream summaries. One commit
// batch is ONE LMDB transaction, so a slice is ok/partial only together with
// its payload and its summary (DESIGN invariants 1 and 4).
import { sliceWindow, streamName, type StreamGeometry, type StreamRef } from '../src/slices.js';
import { existsSync } from 'node:fs';
import { CkError } from '../src/errors.js';
import { openStore, type Store } from './environment.js';
import { sliceKey, sliceRange, streamKey, type SliceKey } from './keys.js';
import { decodeSliceRecord, decodeSummary, emptySummary, type SliceRecord, type StreamSummary } from './records.js';

export interface CommitItem {
  stream: StreamGeometry;
  record: SliceRecord;
  /** The encoded payload; null for a failed attempt. */
  payload: Uint8Array | null;
}

export class ManifestStore {
  private readonly summaries = new Map<string, StreamSummary>();

  constructor(readonly store: Store) {}

  static open(dataRoot: string, options: { readOnly?: boolean } = {}): ManifestStore {
    return new ManifestStore(openStore(dataRoot, options));
  }

  slice(ref: StreamRef, startMs: number): SliceRecord | undefined {
    const raw = this.store.slices.get(sliceKey(ref, startMs));
    return raw === undefined ? undefined : decodeSliceRecord(raw, `${streamName(ref)}@${startMs}`);
  }

  *records(ref: StreamRef, fromMs = -Infinity): Iterable<SliceRecord> {
    for (const { key, value } of this.store.slices.getRange(sliceRange(ref, fromMs))) {
      yield decodeSliceRecord(value, `${streamName(ref)}@${key[4]}`);
    }
  }

  /** Start of the stream's last slice record starting at or before `t`, if any (one reverse range step). */
  lastStartAtOrBefore(ref: StreamRef, t: number): number | undefined {
    for (const key of this.store.slices.getKeys({ start: sliceKey(ref, t), end: sliceKey(ref, -1), reverse: true, limit: 1 })) return (key as SliceKey)[4];
    return undefined;
  }

  payload(id: string): Buffer | undefined {
    return this.store.payloads.get(id);
  }

  /** The stored summary, or a fresh one when the stream is new or its geometry changed. */
  summary(g: StreamGeometry): StreamSummary {
    const name = streamName(g);
    let s = this.summaries.get(name);
    if (!s) {
      const raw = this.store.streams.get(streamKey(g));
      s = raw === undefined ? emptySummary(g.anchorMs, g.limit) : decodeSummary(raw, name);
      if (s.anchorMs !== g.anchorMs || s.limit !== g.limit) s = { ...s, anchorMs: g.anchorMs, limit: g.limit, okThroughIndex: 0 };
      this.summaries.set(name, s);
    }
    return s;
  }

  storedSummary(ref: StreamRef): StreamSummary | undefined {
    const raw = this.store.streams.get(streamKey(ref));
    return raw === undefined ? undefined : decodeSummary(raw, streamName(ref));
  }

  /** Applies every item in one transaction; resolves once it is committed. */
  async commit(items: readonly CommitItem[], now: number): Promise<SliceRecord[]> {
    const applied: SliceRecord[] = [];
    try {
      simulatedDiskFull();
      await this.store.root.transaction(() => {
        applied.length = 0;
        this.applyAll(items, now, (r) => applied.push(r));
      });
    } catch (err) {
      this.summaries.clear(); // the cache may hold writes that did not commit
      const e = err as NodeJS.ErrnoException;
      throw new CkError('CK_ERR_STORAGE', `LMDB write failed, nothing of this batch was stored: ${e.code ? `${e.code} ` : ''}${e.message}`, { cause: err });
    }
    return applied;
  }

  /**
   * Drops every slice record and summary and writes `items` instead, in ONE
   * transaction: a crash leaves either the old manifest or the new one.
   * Payloads are not touched.
   */
  async replaceAll(items: Iterable<CommitItem>, now: number): Promise<number> {
    let n = 0;
    this.summaries.clear();
    try {
      await this.store.root.transaction(() => {
        this.store.slices.clearSync();
        this.store.streams.clearSync();
        n = this.applyAll(items, now);
      });
    } finally {
      this.summaries.clear();
    }
    return n;
  }

  /**
   * Inside a transaction: every item's records, then once per stream the ok
   * prefix and the summary. Returns how many items were applied.
   */
  private applyAll(items: Iterable<CommitItem>, now: number, onApplied?: (r: SliceRecord) => void): number {
    const touched = new Map<string, StreamGeometry>();
    let n = 0;
    for (const item of items) {
      const r = this.apply(item, now);
      onApplied?.(r);
      touched.set(streamName(item.stream), item.stream);
      n++;
    }
    for (const g of touched.values()) {
      const s = this.summary(g);
      this.advanceOkThrough(g, s);
      void this.store.streams.put(streamKey(g), s);
    }
    return n;
  }

  private apply({ stream, record, payload }: CommitItem, now: number): SliceRecord {
    const key = sliceKey(stream, record.startMs);
    const prevRaw = this.store.slices.get(key);
    const prev = prevRaw === undefined ? undefined : decodeSliceRecord(prevRaw, record.key);
    let next = record;
    if (!payload && prev?.hasPayload && prev.key === record.key) {
      // A failed re-fetch of a partial slice keeps the rows it already has.
      next = { ...prev, attempts: record.attempts, error: record.error, nextDueAt: record.nextDueAt };
    }
    // Inside the transaction callback these writes join the transaction; their promises carry nothing more.
    if (payload) void this.store.payloads.put(record.id, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
    if (prev?.hasPayload && prev.id !== next.id) void this.store.payloads.remove(prev.id);
    void this.store.slices.put(key, next);

    const s = this.summary(stream);
    countInto(s, prev, next);
    s.lastCommitAt = now;
    return next;
  }

  private advanceOkThrough(g: StreamGeometry, s: StreamSummary): void {
    for (;;) {
      const spec = sliceWindow(g, s.okThroughIndex);
      if (!spec) return;
      const r = this.slice(g, spec.startMs);
      if (!r || r.status !== 'ok' || r.key !== spec.key) return;
      s.okThroughIndex++;
    }
  }

  async close(): Promise<void> {
    await this.store.root.flushed;
    await this.store.root.close();
  }
}

/** Moves a summary's counts from record `prev` (if any) to record `next`. */
function countInto(s: StreamSummary, prev: SliceRecord | undefined, next: SliceRecord): void {
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

/**
 * Test hook for the disk suite: while the file named by
 * CANDLEKEEP_TEST_ENOSPC exists, every write fails as a full disk would
 * (where a loop-mounted or tmpfs filesystem cannot be made).
 */
function simulatedDiskFull(): void {
  const flag = process.env.CANDLEKEEP_TEST_ENOSPC;
  if (flag && existsSync(flag)) throw Object.assign(new Error('no space left on device (simulated)'), { code: 'ENOSPC' });
}
