// The fetcher actor: one per stream, hosted as a long-lived piscina task in a
// worker thread. It asks the manifest writer what to fetch, does the HTTP,
// validates and encodes in this thread, and sends commits back. It never
// opens LMDB. Expected faults (HTTP errors, timeouts, 429) are handled here
// with backoff; only bugs make it throw (and the supervisor restart it).
import type { MessagePort } from 'node:worker_threads';
import { systemClock, type Clock } from '../src/clock.js';
import { CkError, toWireError, type ErrorCode, type WireError } from '../src/errors.js';
import { ExchangeClock } from '../src/exchange-clock.js';
import { ExchangeHttp, type HttpSettings } from '../src/http/exchange-http.js';
import { headerValue } from '../src/http/headers.js';
import { finality } from '../src/finality.js';
import { encodePackedPayload, encodePayload } from '../src/payload.js';
import type { PayloadMeta, PlannedSlice } from '../src/protocol.js';
import type { StreamGeometry } from '../src/slices.js';
import { venueByName } from '../src/venues/index.js';
import type { RowFacts, ValidationContext } from '../src/venues/venue.js';
import { VenueBudget, type SharedBudget, type StopReason, type Ticket } from './rate-limiter.js';
import { Semaphore } from './semaphore.js';
import { backoffMs } from './backoff.js';
import { WriterClient } from './writer-client.js';

export interface FetcherSettings extends HttpSettings {
  /** Requests in flight per stream (default 2). */
  concurrency: number;
  /** Fetched slices waiting for their commit before fetching pauses (default 4). */
  maxUncommitted: number;
  /** Attempts per slice before `backfill` gives the stream up (default 8). */
  maxAttempts: number;
  /** A candle is final this long after its close time (default 1000 ms). */
  settleMs: number;
  /** Re-measure the exchange clock when idle and older than this (default 30 s). */
  timeSyncMs?: number;
}

export interface FetcherTask {
  stream: StreamGeometry & { name: string };
  baseUrl: string;
  /** The venue's request budget, shared with every actor of the venue. */
  budget: SharedBudget;
  mode: 'run' | 'backfill';
  settings: FetcherSettings;
  port: MessagePort;
  /** Test hook: crash this incarnation after N commits. */
  testCrash?: { afterCommits: number; kind: 'throw' | 'exit' } | undefined;
}

export type FetcherResult =
  | { outcome: 'caught-up' | 'end-reached' | 'stopped' }
  | { outcome: 'failed'; error: WireError };

/** Longest idle sleep before looking again (ms). */
const MAX_IDLE_MS = 30_000;
/** Backoff for failed slices: base and cap (ms). */
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 5 * 60_000;
/** Pause after the writer could not store a commit (disk full), matching its retry delay. */
const STORAGE_HOLD_MS = 5000;
const PERMANENT = new Set(['CK_ERR_UNKNOWN_SYMBOL', 'CK_ERR_INVALID_INTERVAL', 'CK_ERR_EXCHANGE_REJECTED']);
/** Answers that stop the whole venue; they are not the slice's fault, so they do not count as attempts. */
const VENUE_STOPS: Partial<Record<ErrorCode, StopReason>> = { CK_ERR_RATE_LIMITED: 'rate-limited', CK_ERR_WAF_BLOCKED: 'waf-blocked', CK_ERR_IP_BANNED: 'banned' };

const httpByThread = new Map<string, ExchangeHttp>();

/**
 * One exchange clock per venue host per thread, shared by the thread's
 * actors, with at most one time request in flight: a thousand streams cost
 * one time request per thread every `timeSyncMs`, not one each (two per
 * stream per minute would be a third of Binance's weight budget).
 */
interface VenueClock {
  clock: ExchangeClock;
  syncing: Promise<void> | null;
}
const clockByVenue = new Map<string, VenueClock>();

/** One agent per thread and settings, shared by the thread's actors (and its one-off GETs). */
export function httpFor(settings: HttpSettings): ExchangeHttp {
  const key = JSON.stringify(settings);
  let http = httpByThread.get(key);
  if (!http) {
    http = new ExchangeHttp(settings);
    httpByThread.set(key, http);
  }
  return http;
}

function clockFor(venue: string, baseUrl: string): VenueClock {
  const key = `${venue} ${baseUrl}`;
  let c = clockByVenue.get(key);
  if (!c) {
    c = { clock: new ExchangeClock(), syncing: null };
    clockByVenue.set(key, c);
  }
  return c;
}

export async function runFetcher(task: FetcherTask, clock: Clock = systemClock): Promise<FetcherResult> {
  const writer = new WriterClient(task.port);
  try {
    return await new Fetcher(task, writer, clock).run();
  } finally {
    writer.close();
  }
}

class Fetcher {
  private readonly venue;
  private readonly endpoint;
  private readonly http: ExchangeHttp;
  private readonly venueClock: VenueClock;
  private readonly uncommitted: Semaphore;
  private readonly commits = new Set<Promise<void>>();
  private readonly budget: VenueBudget;
  /** After storage rejected a commit, fetching waits until then. */
  private storageHoldUntil = 0;
  private committed = 0;
  private failure: WireError | null = null;
  /** Set by the crash test hook; thrown from the main loop so the task rejects. */
  private crash: Error | null = null;

  constructor(private readonly t: FetcherTask, private readonly writer: WriterClient, private readonly clock: Clock) {
    this.venue = venueByName(t.stream.venue);
    const endpoint = this.venue.endpoints[t.stream.endpoint];
    if (!endpoint) throw new CkError('CK_ERR_INTERNAL', `no endpoint ${t.stream.endpoint} at ${t.stream.venue}`);
    this.endpoint = endpoint;
    this.http = httpFor(t.settings);
    this.venueClock = clockFor(t.stream.venue, t.baseUrl);
    this.uncommitted = new Semaphore(t.settings.maxUncommitted);
    this.budget = VenueBudget.attach(t.budget);
  }

  /** The venue's clock as this thread last measured it (shared by the thread's actors). */
  private get exchange(): ExchangeClock {
    return this.venueClock.clock;
  }

  async run(): Promise<FetcherResult> {
    const s = this.t.settings;
    while (!this.writer.stopping && !this.failure) {
      if (this.crash) throw this.crash;
      if (this.exchange.ageMs() > (s.timeSyncMs ?? 30_000)) await this.syncTime();
      const plan = await this.writer.plan(this.exchange.now(), s.concurrency * 4);
      if (plan.slices.length > 0) {
        await this.fetchAll(plan.slices);
        continue;
      }
      if (this.commits.size > 0) {
        await Promise.race(this.commits);
        continue;
      }
      if (plan.finished) return this.finish('end-reached');
      if (plan.caughtUp && this.t.mode === 'backfill') return this.finish('caught-up');
      const wait = plan.wakeAt === null ? MAX_IDLE_MS : plan.wakeAt - this.exchange.now();
      await this.clock.sleep(Math.min(Math.max(wait, 50), MAX_IDLE_MS, s.timeSyncMs ?? 30_000), this.writer.stopped);
    }
    return this.finish(this.failure ? 'failed' : 'stopped');
  }

  private async finish(outcome: 'caught-up' | 'end-reached' | 'stopped' | 'failed'): Promise<FetcherResult> {
    await Promise.allSettled(this.commits);
    if (this.crash) throw this.crash;
    if (this.failure) return { outcome: 'failed', error: this.failure };
    return { outcome: outcome === 'failed' ? 'stopped' : outcome };
  }

  /**
   * Keeps `concurrency` lanes busy: when the queue runs low the next plan is
   * asked for while the lanes go on, so no lane waits for a batch to finish.
   */
  private async fetchAll(first: PlannedSlice[]): Promise<void> {
    const { concurrency } = this.t.settings;
    const queue = [...first];
    let planning: Promise<void> | null = null;
    let more = true;
    const refill = () => {
      if (planning || !more) return;
      planning = this.writer.plan(this.exchange.now(), concurrency * 4)
        .then((p) => {
          if (p.slices.length === 0) more = false;
          else queue.push(...p.slices);
        })
        .finally(() => (planning = null));
    };
    const lane = async () => {
      while (!this.writer.stopping && !this.failure && !this.crash) {
        if (queue.length <= concurrency) refill();
        if (queue.length === 0 && planning) await planning;
        const slice = queue.shift();
        if (!slice) return;
        await this.fetchOne(slice);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    if (planning) await planning;
    // A plan that arrived as the lanes ended is fetched too: its slices are this actor's until the port closes.
    if (queue.length > 0 && !this.writer.stopping && !this.failure && !this.crash) await this.fetchAll(queue);
    // Slices planned but never fetched (stop or failure) go back to pending when the port closes.
  }

  private async fetchOne(slice: PlannedSlice): Promise<void> {
    const { stream, baseUrl, settings } = this.t;
    const url = this.endpoint.url(baseUrl, stream.symbol, stream.interval, slice);
    const hold = this.storageHoldUntil - Date.now();
    if (hold > 0) await this.clock.sleep(hold, this.writer.stopped);
    const ticket = await this.takeBudget(this.endpoint.weight(slice.limit), this.endpoint.name);
    if (!ticket || this.writer.stopping) return;
    const fetchedAt = Date.now();
    let status = 0;
    let bytes = 0;
    const observe = (code: ErrorCode | null, reason: string | null, exchangeNow: number) =>
      this.writer.observe({ endpoint: this.endpoint.name, status, code, reason, durationMs: Date.now() - fetchedAt, bytes, exchangeNow });
    try {
      const res = await this.http.get(url);
      status = res.status;
      bytes = res.size;
      this.budget.observe(res.headers, ticket);
      const exchangeNow = this.exchange.atResponse(res.receivedAt, headerValue(res.headers, 'date'));
      if (res.status !== 200) throw this.venue.classify(res.status, res.headers, res.body.toString('utf8'));
      const meta: PayloadMeta = { url, key: slice.key, fetchedAt, serverTime: exchangeNow, httpStatus: res.status };
      const { payload, facts } = this.stored(meta, res.chunks, res.size, { slice, interval: stream.interval, exchangeNow });
      observe(null, null, exchangeNow);
      const { status: sliceStatus, nextDueAt } = finality(slice.endMs, facts, exchangeNow, stream.interval, settings.settleMs);
      await this.uncommitted.acquire();
      const commit = this.writer.commit(slice, sliceStatus, payload, facts, fetchedAt, nextDueAt)
        .then(
          () => this.afterCommit(),
          (err: unknown) => {
            // Storage cannot take data (disk full): stop fetching for a while rather than fetch what cannot be kept.
            const e = toWireError(err);
            const first = this.storageHoldUntil < Date.now();
            this.storageHoldUntil = Date.now() + STORAGE_HOLD_MS;
            if (first) this.writer.log('error', 'commit rejected; fetching pauses', { sliceKey: slice.key, code: e.code, error: e.message, pauseMs: STORAGE_HOLD_MS });
          },
        )
        .finally(() => {
          this.uncommitted.release();
          this.commits.delete(commit);
        });
      this.commits.add(commit);
    } catch (err) {
      const e = toWireError(err);
      observe(e.code, e.code === 'CK_ERR_VALIDATION' ? e.message.split(':')[0]! : null, status === 0 ? 0 : this.exchange.now());
      await this.failed(slice, err);
    }
  }

  /**
   * What is stored for a 200 answer, and its facts: the endpoint's hot path
   * validates and packs in one pass when it has one and the body is the
   * usual answer; otherwise the body as received (copied once, from the
   * socket's chunks into the payload) and `validate` on it, which throws
   * when the body is not valid.
   */
  private stored(meta: PayloadMeta, chunks: readonly Uint8Array[], size: number, ctx: ValidationContext): { payload: Uint8Array; facts: RowFacts } {
    const fast = this.endpoint.scanAndPack?.(chunks, size, ctx);
    if (fast) return { payload: encodePackedPayload(meta, fast.packed), facts: fast.facts };
    const { bytes, body } = encodePayload(meta, chunks, size);
    return { payload: bytes, facts: this.endpoint.validate(body, ctx) };
  }

  private afterCommit(): void {
    this.committed++;
    const crash = this.t.testCrash;
    if (crash && this.committed >= crash.afterCommits) {
      if (crash.kind === 'exit') process.exit(1); // ends this worker thread and every actor on it
      this.crash = new Error(`test hook: crash after ${this.committed} commits`);
    }
  }

  private async failed(slice: PlannedSlice, err: unknown): Promise<void> {
    const error = toWireError(err);
    const attempts = this.stopVenueIfTold(error) ? slice.attempts : slice.attempts + 1;
    const now = this.exchange.now();
    const nextDueAt = now + Math.max(error.retryAfterMs ?? 0, backoffMs(attempts, BACKOFF_BASE_MS, BACKOFF_CAP_MS));
    this.writer.log(error.code === 'CK_ERR_INTERNAL' ? 'error' : 'warn', 'slice failed', { sliceKey: slice.key, code: error.code, error: error.message, attempts });
    await this.writer.fail(slice, error, attempts, nextDueAt);
    if (error.code === 'CK_ERR_INTERNAL') throw new Error(error.message); // a bug: let the supervisor restart the actor
    if (PERMANENT.has(error.code)) {
      this.failure = { ...error, message: `${this.t.stream.symbol}: ${error.message}` };
      this.writer.log('error', 'stream stopped', { code: error.code, error: error.message });
    } else if (this.t.mode === 'backfill' && attempts >= this.t.settings.maxAttempts) {
      this.failure = { code: 'CK_ERR_STREAM_FAILED', message: `${slice.key} failed ${attempts} times; last: ${error.code} ${error.message}`, retryable: false };
    }
  }

  /** Waits for room in the venue's budget; null when the actor is told to stop first. */
  private takeBudget(weight: number, endpoint: string | null = null): Promise<Ticket | null> {
    return this.budget.acquire(weight, (ms, stopped) => this.clock.sleep(ms, stopped), this.writer.stopped, endpoint);
  }

  /**
   * A 429, 418 or 403 stops every actor of the venue (the actor whose answer
   * extended the stop says so). True when `error` was one of them.
   */
  private stopVenueIfTold(error: WireError): boolean {
    const reason = VENUE_STOPS[error.code];
    if (!reason) return false;
    const until = Date.now() + (error.retryAfterMs ?? BACKOFF_BASE_MS);
    if (!this.budget.stop(reason, until)) return true;
    const fields = { venue: this.t.stream.venue, code: error.code, error: error.message, until: new Date(until).toISOString(), waitMs: until - Date.now() };
    if (reason === 'banned') this.writer.log('error', `IP BANNED by ${this.t.stream.venue}: every stream of the venue is stopped until the ban ends`, fields);
    else this.writer.log('warn', `${this.t.stream.venue} ${reason === 'rate-limited' ? 'rate limit hit (429)' : 'firewall block (403)'}: every stream of the venue pauses`, fields);
    return true;
  }

  /** Measures the venue's clock, or waits for the measurement another actor of this thread has under way. */
  private syncTime(): Promise<void> {
    const shared = this.venueClock;
    shared.syncing ??= this.measureTime().finally(() => (shared.syncing = null));
    return shared.syncing;
  }

  private async measureTime(): Promise<void> {
    const ticket = await this.takeBudget(this.venue.timeWeight);
    if (!ticket) return;
    try {
      const res = await this.http.get(`${this.t.baseUrl}${this.venue.timePath}`);
      this.budget.observe(res.headers, ticket);
      if (res.status !== 200) throw this.venue.classify(res.status, res.headers, res.body.toString('utf8'));
      const serverTime = this.venue.parseTime(JSON.parse(res.body.toString('utf8')));
      if (serverTime !== null) this.exchange.observe(serverTime, res.receivedAt);
    } catch (err) {
      const error = toWireError(err);
      this.stopVenueIfTold(error);
      this.writer.log('warn', 'time sync failed', { code: error.code, error: error.message });
    }
  }
}
