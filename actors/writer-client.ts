// The fetcher's end of its MessagePort: request/reply to the manifest
// writer, logs to the main logger, and the stop command from the supervisor.
import type { MessagePort } from 'node:worker_threads';
import { fromWireError, type WireError } from '../src/errors.js';
import { reusePayloadBuffer } from '../src/payload.js';
import { assertNever, type FetcherMessage, type LogLevel, type MainMessage, type RequestObservation } from '../src/protocol.js';
import type { SliceSpec } from '../src/slices.js';
import type { RowFacts } from '../src/venues/venue.js';

type Planned = Extract<MainMessage, { type: 'writer.planned' }>;
type Pending = { resolve: (m: MainMessage) => void; reject: (e: Error) => void };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class WriterClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private stopRequested = false;
  /** Request observations go to the main thread in batches (one message per 64, or every 250 ms). */
  private observed: RequestObservation[] = [];
  private observeTimer: NodeJS.Timeout | null = null;
  /** Resolves when the supervisor asks this actor to stop. */
  readonly stopped: Promise<void>;
  private onStop!: () => void;

  constructor(private readonly port: MessagePort) {
    this.stopped = new Promise((resolve) => (this.onStop = resolve));
    port.on('message', (msg: MainMessage) => this.receive(msg));
  }

  get stopping(): boolean {
    return this.stopRequested;
  }

  plan(now: number, max: number): Promise<Planned> {
    return this.request({ type: 'writer.plan', now, max }) as Promise<Planned>;
  }

  async commit(slice: SliceSpec, status: 'ok' | 'partial', payload: Uint8Array, facts: RowFacts, fetchedAt: number, nextDueAt: number | null): Promise<void> {
    // The payload's buffer moves to the main thread instead of being copied.
    await this.request({ type: 'writer.commit', slice, status, payload, facts, fetchedAt, nextDueAt }, [payload.buffer as ArrayBuffer]);
  }

  async fail(slice: SliceSpec, error: WireError, attempts: number, nextDueAt: number): Promise<void> {
    await this.request({ type: 'writer.fail', slice, error, attempts, nextDueAt });
  }

  /** One HTTP attempt, for the main thread's metrics. */
  observe(m: RequestObservation): void {
    this.observed.push(m);
    if (this.observed.length >= 64) this.flushObserved();
    else this.observeTimer ??= setTimeout(() => this.flushObserved(), 250);
  }

  private flushObserved(): void {
    if (this.observeTimer) clearTimeout(this.observeTimer);
    this.observeTimer = null;
    if (this.observed.length === 0) return;
    this.port.postMessage({ type: 'fetcher.requests', requests: this.observed } satisfies FetcherMessage);
    this.observed = [];
  }

  log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
    this.port.postMessage({ type: 'fetcher.logged', level, msg, fields } satisfies FetcherMessage);
  }

  close(): void {
    this.flushObserved();
    for (const p of this.pending.values()) p.reject(new Error('port closed'));
    this.pending.clear();
    this.port.close();
  }

  private request(msg: DistributiveOmit<Extract<FetcherMessage, { id: number }>, 'id'>, transfer: ArrayBuffer[] = []): Promise<MainMessage> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.port.postMessage({ ...msg, id } as FetcherMessage, transfer);
    });
  }

  private settle(id: number, how: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    how(p);
  }

  private receive(msg: MainMessage): void {
    switch (msg.type) {
      case 'fetcher.stop':
        this.stopRequested = true;
        this.onStop();
        return;
      case 'writer.planned':
        this.settle(msg.id, (p) => p.resolve(msg));
        return;
      case 'writer.committed':
      case 'writer.rejected':
        for (const b of msg.buffers) reusePayloadBuffer(b);
        for (const id of msg.ids) this.settle(id, (p) => (msg.type === 'writer.rejected' ? p.reject(fromWireError(msg.error)) : p.resolve(msg)));
        return;
      default:
        assertNever(msg);
    }
  }
}
