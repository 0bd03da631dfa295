// The storage port on LMDB: slice records, payloads, stream summaries and
// sink offsets in one environment. One commit batch is ONE LMDB
// transaction, so a slice is ok/partial only together with its payload and
// its summary (DESIGN invariants 1 and 4).
import { statSync } from 'node:fs';
import type { RootDatabase } from 'lmdb';
import { CkError } from '../../src/errors.js';
import { geometryProblem, onGrid } from '../geometry.js';
import { sliceWindow, streamName, type StreamGeometry, type StreamRef } from '../../src/slices.js';
import { checkedPayload, payloadIntact } from '../checked-payload.js';
import type { CommitItem, OpenStorageOptions, SinkOffset, Storage, StorageFaults, StoredStream } from '../port.js';
import { countInto, decodeSliceRecord, decodeSummary, emptySummary, type SliceRecord, type StreamSummary } from '../records.js';
import { openEnvironment, type Environment } from './environment.js';
import { sinkKey, sliceKey, sliceRange, streamKey, type SliceKey, type StreamKey } from './keys.js';

export class LmdbStorage implements Storage {
  private readonly summaries = new Map<string, StreamSummary>();

  private constructor(
    private readonly env: Environment,
    private readonly readOnly: boolean,
    private readonly faults: StorageFaults,
  ) {}

  static open(dataRoot: string, options: OpenStorageOptions = {}): LmdbStorage {
    const readOnly = options.readOnly ?? false;
    return new LmdbStorage(openEnvironment(dataRoot, { readOnly }), readOnly, options.faults ?? {});
  }

  slice(ref: StreamRef, startMs: number): SliceRecord | undefined {
    const raw = this.env.slices.get(sliceKey(ref, startMs));
    return raw === undefined ? undefined : decodeSliceRecord(raw, `${streamName(ref)}@${startMs}`);
  }

  *records(ref: StreamRef, fromMs = -Infinity): Iterable<SliceRecord> {
    for (const { key, value } of this.env.slices.getRange(sliceRange(ref, fromMs))) {
      yield decodeSliceRecord(value, `${streamName(ref)}@${key[4]}`);
    }
  }

  /** One reverse range step. */
  lastStartAtOrBefore(ref: StreamRef, t: number): number | undefined {
    for (const key of this.env.slices.getKeys({ start: sliceKey(ref, t), end: sliceKey(ref, -1), reverse: true, limit: 1 })) return (key as SliceKey)[4];
    return undefined;
  }

  payload(record: SliceRecord): Uint8Array | undefined {
    const bytes = this.env.payloads.get(record.id);
    return bytes === undefined ? undefined : checkedPayload(record, bytes);
  }

  *payloads(): Iterable<{ id: string; bytes: Uint8Array }> {
    for (const { key, value } of this.env.payloads.getRange({})) yield { id: String(key), bytes: value };
  }

  summary(g: StreamGeometry): StreamSummary {
    const name = streamName(g);
    let s = this.summaries.get(name);
    if (!s) {
      const raw = this.env.streams.get(streamKey(g));
      s = raw === undefined ? emptySummary(g.anchorMs, g.limit) : decodeSummary(raw, name);
      // Never cut windows that overlap the stored ones (the daemon refuses such a config before this; this is the last guard).
      if (s.total > 0 && !onGrid(s, g)) throw new CkError('CK_ERR_GEOMETRY_CHANGED', geometryProblem(s, g));
      // The same grid from another start: the ok prefix is counted again from the new anchor.
      if (s.anchorMs !== g.anchorMs || s.limit !== g.limit) s = { ...s, anchorMs: g.anchorMs, limit: g.limit, okThroughIndex: 0 };
      this.summaries.set(name, s);
    }
    return s;
  }

  storedSummary(ref: StreamRef): StreamSummary | undefined {
    const raw = this.env.streams.get(streamKey(ref));
    return raw === undefined ? undefined : decodeSummary(raw, streamName(ref));
  }

  *streams(): Iterable<StoredStream> {
    for (const { key, value } of this.env.streams.getRange({})) {
      const [venue, endpoint, symbol, interval] = key as StreamKey;
      const ref = { venue, endpoint, symbol, interval } as StreamRef;
      yield { ref, summary: decodeSummary(value, streamName(ref)) };
    }
  }

  sinkOffset(sink: string, ref: StreamRef): SinkOffset | undefined {
    return this.env.sinks.get(sinkKey(sink, ref));
  }

  async setSinkOffset(sink: string, ref: StreamRef, offset: SinkOffset): Promise<void> {
    const root = this.writable();
    try {
      this.faults.beforeWrite?.();
      await root.transaction(() => void this.env.sinks.put(sinkKey(sink, ref), offset));
    } catch (err) {
      throw writeFailed(err, `the offset of ${sink} for ${streamName(ref)} was not stored`);
    }
  }

  async commit(items: readonly CommitItem[], now: number): Promise<SliceRecord[]> {
    const root = this.writable();
    const applied: SliceRecord[] = [];
    try {
      this.faults.beforeWrite?.();
      await root.transaction(() => {
        applied.length = 0;
        this.applyAll(items, now, (r) => applied.push(r));
      });
    } catch (err) {
      this.summaries.clear(); // the cache may hold writes that did not commit
      throw writeFailed(err, 'nothing of this batch was stored');
    }
    return applied;
  }

  async replaceAll(items: Iterable<CommitItem>, now: number, dropPayloads: Iterable<string> = []): Promise<number> {
    const root = this.writable();
    let n = 0;
    this.summaries.clear();
    try {
      this.faults.beforeWrite?.();
      await root.transaction(() => {
        this.env.slices.clearSync();
        this.env.streams.clearSync();
        for (const id of dropPayloads) void this.env.payloads.remove(id);
        n = this.applyAll(items, now);
      });
    } finally {
      this.summaries.clear();
    }
    return n;
  }

  bytesOnDisk(): number {
    try {
      return statSync(this.env.path).size;
    } catch {
      return 0; // not created yet
    }
  }

  async close(): Promise<void> {
    const root = this.env.root;
    if (!root) return;
    if (!this.readOnly) await root.flushed;
    await root.close();
  }

  private writable(): RootDatabase {
    if (this.readOnly || !this.env.root) throw new CkError('CK_ERR_STORAGE', `${this.env.path} is open read-only`);
    return this.env.root;
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
      void this.env.streams.put(streamKey(g), s);
    }
    return n;
  }

  private apply({ stream, record, payload }: CommitItem, now: number): SliceRecord {
    const key = sliceKey(stream, record.startMs);
    const prevRaw = this.env.slices.get(key);
    const prev = prevRaw === undefined ? undefined : decodeSliceRecord(prevRaw, record.key);
    let next = record;
    if (!payload && prev?.hasPayload && prev.key === record.key) {
      // A failed re-fetch of a partial slice keeps the rows it already has,
      // unless their bytes are damaged: then the slice is fetched again.
      const kept = this.env.payloads.get(prev.id);
      if (kept && payloadIntact(prev, kept)) next = { ...prev, attempts: record.attempts, error: record.error, nextDueAt: record.nextDueAt };
      else void this.env.payloads.remove(prev.id);
    }
    // Inside the transaction callback these writes join the transaction; their promises carry nothing more.
    if (payload) void this.env.payloads.put(record.id, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
    if (prev?.hasPayload && prev.id !== next.id) void this.env.payloads.remove(prev.id);
    void this.env.slices.put(key, next);

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
}

function writeFailed(err: unknown, what: string): CkError {
  const e = err as NodeJS.ErrnoException;
  return new CkError('CK_ERR_STORAGE', `LMDB write failed, ${what}: ${e.code ? `${e.code} ` : ''}${e.message}`, { cause: err });
}
