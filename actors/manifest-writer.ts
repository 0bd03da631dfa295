// The manifest-writer actor: the only code that writes to storage (through
// the storage port, storage/port.ts). It lives on the main thread, answers
// `writer.plan` from each fetcher's port and applies commits; commits that
// arrive together share one transaction.
import type { MessagePort } from 'node:worker_threads';
import { toWireError, type CkError, type WireError } from '../src/errors.js';
import { payloadHash } from '../src/payload.js';
import { assertNever, type FetcherMessage, type MainMessage } from '../src/protocol.js';
import { sliceIndexAt, sliceWindow, streamName, type StreamGeometry } from '../src/slices.js';
import type { CommitItem, Storage } from '../storage/port.js';
import type { SliceRecord } from '../storage/records.js';
import { StreamPlan } from './planner.js';

/** Most commits applied in one transaction (default 256). */
const MAX_BATCH = 256;
/** A slice whose commit failed at the storage layer is offered again after this (ms). */
const STORAGE_RETRY_MS = 5000;

type Reply = (m: MainMessage, transfer?: ArrayBuffer[]) => void;

interface Queued {
  item: CommitItem;
  plan: StreamPlan;
  reply: Reply;
  id: number;
}

export interface WriterEvents {
  /** Messages that are not for the writer (logs) go here. */
  onOther(stream: string, msg: FetcherMessage): void;
  onCommitted?(records: readonly SliceRecord[], stream: readonly string[], payloadBytes: readonly number[]): void;
  /** One transaction: how many commits it held and how long it took (s); `ok` false when it failed. */
  onBatch?(size: number, seconds: number, ok: boolean): void;
}

export class ManifestWriter {
  private readonly plans = new Map<string, StreamPlan>();
  private queue: Queued[] = [];
  private flushing: Promise<void> | null = null;
  lastCommitAt: number | null = null;
  /** The last storage failure, cleared by the next successful commit (disk full shows here). */
  lastError: WireError | null = null;

  private batches = 0;

  constructor(
    readonly store: Storage,
    private readonly settleMs: number,
    private readonly events: WriterEvents,
    private readonly now: () => number = Date.now,
    /** Test hook: SIGKILL this process right before or right after the Nth LMDB transaction. */
    private readonly killAt: { when: 'before' | 'after'; batch: number } | null = null,
  ) {}

  get queueDepth(): number {
    return this.queue.length;
  }

  /** Serves one fetcher's port until it closes. */
  attach(stream: StreamGeometry & { name: string }, port: MessagePort): void {
    const reply: Reply = (m, transfer) => port.postMessage(m, transfer);
    port.on('message', (msg: FetcherMessage) => this.handle(stream, msg, reply));
  }

  /** The actor holding this stream is gone: its planned-but-uncommitted slices are offered again. */
  detach(stream: string): void {
    this.plans.get(stream)?.releaseInFlight();
  }

  handle(stream: StreamGeometry & { name: string }, msg: FetcherMessage, reply: Reply): void {
    switch (msg.type) {
      case 'writer.plan': {
        const r = this.planFor(stream).plan(msg.now, msg.max);
        reply({ type: 'writer.planned', id: msg.id, ...r });
        return;
      }
      case 'writer.commit': {
        const { slice, facts } = msg;
        const record: SliceRecord = {
          status: msg.status, key: slice.key, id: slice.id, startMs: slice.startMs, endMs: slice.endMs, limit: slice.limit,
          rows: facts.rows, firstOpen: facts.firstOpen, lastOpen: facts.lastOpen, lastClosedClose: facts.lastClosedClose,
          gaps: facts.gaps, anomalies: facts.anomalies, fetchedAt: msg.fetchedAt, attempts: 0, error: null,
          nextDueAt: msg.nextDueAt, hasPayload: true, payloadHash: payloadHash(msg.payload), // hashed here: the main thread has spare CPU
        };
        this.enqueue({ item: { stream, record, payload: msg.payload }, plan: this.planFor(stream), reply, id: msg.id });
        return;
      }
      case 'writer.fail': {
        const { slice } = msg;
        const record: SliceRecord = {
          status: 'failed', key: slice.key, id: slice.id, startMs: slice.startMs, endMs: slice.endMs, limit: slice.limit,
          rows: 0, firstOpen: null, lastOpen: null, lastClosedClose: null, gaps: [], anomalies: [], fetchedAt: null,
          attempts: msg.attempts, error: { code: msg.error.code, message: msg.error.message }, nextDueAt: msg.nextDueAt, hasPayload: false, payloadHash: null,
        };
        this.enqueue({ item: { stream, record, payload: null }, plan: this.planFor(stream), reply, id: msg.id });
        return;
      }
      case 'fetcher.logged':
      case 'fetcher.requests':
        this.events.onOther(stream.name, msg);
        return;
      default:
        assertNever(msg);
    }
  }

  /** Resolves when every queued commit has been applied. */
  async drain(): Promise<void> {
    while (this.flushing || this.queue.length > 0) {
      if (!this.flushing) this.flush();
      await this.flushing;
    }
  }

  async close(): Promise<void> {
    await this.drain();
    await this.store.close();
  }

  private planFor(stream: StreamGeometry & { name: string }): StreamPlan {
    let plan = this.plans.get(stream.name);
    if (!plan) {
      const summary = this.store.summary(stream);
      plan = new StreamPlan(stream, summary.okThroughIndex, this.settleMs);
      const from = sliceWindow(stream, summary.okThroughIndex);
      if (from) {
        for (const r of this.store.records(stream, from.startMs)) {
          const index = sliceIndexAt(stream, r.startMs);
          const expected = sliceWindow(stream, index);
          // A slice whose key differs, or whose payload fails its checksum, is fetched again at once (its commit rewrites it).
          plan.noteStored(index, r.status, r.nextDueAt, r.attempts, expected?.key === r.key && this.intact(r));
        }
      }
      this.plans.set(stream.name, plan);
    }
    return plan;
  }

  /**
   * Whether a record's payload passes its checksum. Checked for the records
   * a plan loads (those from the first non-ok slice on: the partial tail,
   * and slices after a hole), so it costs a few payloads per stream; ok
   * slices before them are checked by `verify` (repair: rebuild-manifest).
   */
  private intact(r: SliceRecord): boolean {
    if (!r.hasPayload) return true;
    try {
      this.store.payload(r);
      return true;
    } catch (err) {
      if ((err as CkError).code === 'CK_ERR_STORE_CORRUPT') return false;
      throw err;
    }
  }

  private enqueue(q: Queued): void {
    this.queue.push(q);
    if (!this.flushing) this.flush();
  }

  private flush(): void {
    // Let every message already delivered this turn join the batch.
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, MAX_BATCH);
        this.queue = this.queue.slice(batch.length);
        await this.commitBatch(batch);
      }
    }).finally(() => {
      this.flushing = null;
    });
  }

  private async commitBatch(batch: Queued[]): Promise<void> {
    const now = this.now();
    const started = performance.now();
    const n = ++this.batches;
    try {
      if (this.killAt?.when === 'before' && this.killAt.batch === n) process.kill(process.pid, 'SIGKILL');
      const applied = await this.store.commit(batch.map((q) => q.item), now);
      if (this.killAt?.when === 'after' && this.killAt.batch === n) process.kill(process.pid, 'SIGKILL');
      this.lastCommitAt = now;
      this.lastError = null;
      this.events.onBatch?.(batch.length, (performance.now() - started) / 1000, true);
      const bytes = batch.map((q) => q.item.payload?.byteLength ?? 0);
      batch.forEach((q, i) => {
        const r = applied[i]!;
        q.plan.settled(sliceIndexAt(q.item.stream, r.startMs), r.status, r.nextDueAt, r.attempts);
      });
      replyGivingBack(batch, { type: 'writer.committed' });
      this.events.onCommitted?.(applied, batch.map((q) => streamName(q.item.stream)), bytes);
    } catch (err) {
      const error = toWireError(err);
      this.lastError = error;
      this.events.onBatch?.(batch.length, (performance.now() - started) / 1000, false);
      for (const q of batch) {
        // Due again on the fetchers' (exchange) clock, which may differ from this one.
        q.plan.settled(sliceIndexAt(q.item.stream, q.item.record.startMs), 'failed', q.plan.lastNow + STORAGE_RETRY_MS, q.item.record.attempts);
      }
      replyGivingBack(batch, { type: 'writer.rejected', error: { ...error, code: error.code === 'CK_ERR_INTERNAL' ? 'CK_ERR_STORAGE' : error.code } });
    }
  }
}

/**
 * One reply per port for the commits of a transaction. LMDB copied each
 * payload into its pages when it was put, so the payloads' buffers go back
 * to the fetcher's thread with the reply (transferred, not copied) for the
 * next responses to reuse (src/payload.ts): a fresh 160 KB buffer per
 * response costs page faults in both threads. Payloads only reach the
 * writer through its ports, so each owns its buffer.
 */
function replyGivingBack(batch: readonly Queued[], m: { type: 'writer.committed' } | { type: 'writer.rejected'; error: WireError }): void {
  const byPort = new Map<Reply, { ids: number[]; buffers: ArrayBuffer[] }>();
  for (const q of batch) {
    let r = byPort.get(q.reply);
    if (!r) byPort.set(q.reply, (r = { ids: [], buffers: [] }));
    r.ids.push(q.id);
    const buffer = q.item.payload?.buffer;
    if (buffer instanceof ArrayBuffer && buffer.byteLength > 0) r.buffers.push(buffer);
  }
  for (const [reply, r] of byPort) reply({ ...m, ...r }, r.buffers);
}
