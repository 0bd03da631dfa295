// One request budget per venue, shared by every fetcher actor on every
// worker thread through a SharedArrayBuffer.
//
// Each declared limit (REQUEST_WEIGHT or RAW_REQUESTS, any window) is a
// sliding window kept as a ring of BUCKETS + 1 time buckets. A request may go
// only when, for every limit, the weight reserved in the last window (counting
// the oldest bucket whole, so never less than the exchange counts) plus the
// weight other programs on this IP are using stays within `cap` (the
// exchange's limit times `maxBudgetShare`). A sliding window is never looser
// than the fixed windows Binance counts, so it is safe against both.
//
// Other programs are seen through the used-weight header on each response:
// what the exchange counted minus what this budget had reserved is someone
// else's weight. Their use is taken as the most they held in the last window
// (a program the exchange saw less of for a moment, delayed rather than
// quieter, comes back with its backlog), and the latest reading is kept
// after a pause or an idle spell until an answer tells more.
//
// Venue-wide stops (429 pause, 403 pause, 418 ban) live here too, so one
// actor being told off stops every actor of that venue at once.
//
// All state is guarded by a spin lock (critical sections are a few dozen
// array reads); plain reads and writes inside it are race-free because
// Atomics operations order them.
import { headerValue, type ResponseHeaders } from '../src/http/headers.js';
import { mod } from '../src/intervals.js';

export type LimitType = 'REQUEST_WEIGHT' | 'RAW_REQUESTS';

export interface BudgetLimit {
  type: LimitType;
  windowMs: number;
  /** What the exchange allows per window. */
  limit: number;
  /** What candlekeep allows itself: floor(limit * maxBudgetShare). */
  cap: number;
  /** Response header carrying the exchange's count for this window, lower-case, or null. */
  header: string | null;
  /** Counts only this endpoint's requests (USD-M fundingRate's own limit); absent: every request of the venue. */
  endpoint?: string;
}

/** Plain data that crosses to worker threads (the buffer is shared, not copied). */
export interface SharedBudget {
  venue: string;
  limits: BudgetLimit[];
  buffer: SharedArrayBuffer;
}

export type StopReason = 'rate-limited' | 'waf-blocked' | 'banned';

export interface BudgetSnapshot {
  venue: string;
  limits: Array<BudgetLimit & { used: number; own: number; foreign: number }>;
  pausedUntil: number;
  bannedUntil: number;
  stopReason: StopReason | null;
  events: { rateLimited: number; banned: number; wafBlocked: number };
  /** Weight reserved since start (REQUEST_WEIGHT), for budget-use reports. */
  weightSent: number;
  requestsSent: number;
}

/** A reservation: what this budget had counted per limit before the request. */
export interface Ticket {
  ownBefore: number[];
  weight: number;
  endpoint: string | null;
}

const BUCKETS = 64;
const RING = BUCKETS + 1;
const LOCK = 0;
// Float64 slots of the venue-wide part.
const PAUSED_UNTIL = 0;
const BANNED_UNTIL = 1;
const STOP_REASON = 2;
const N_429 = 3;
const N_418 = 4;
const N_403 = 5;
const WEIGHT_SENT = 6;
const REQUESTS_SENT = 7;
const CREATED_AT = 8;
const HEAD = 9;
// Per limit: our reservations as epochs[RING], weights[RING]; others' use read
// from the headers as lower bounds per bucket, epochs[RING], lows[RING]; then
// the slots below.
const OWN_RING = 0;
const LOW_RING = 2 * RING;
const SEEN = 4 * RING; // the latest bucket's largest upper reading
const SEEN_AT = SEEN + 1;
const SEEN_BUCKET = SEEN + 2;
const FIRST_LOW = SEEN + 3; // the first reading's lower bound, and when it was read
const FIRST_AT = SEEN + 4;
const LAST_LOW = SEEN + 5; // the latest bucket's largest lower bound
const PER_LIMIT = 4 * RING + 6;
const REASONS: Array<StopReason | null> = [null, 'rate-limited', 'waf-blocked', 'banned'];

export class VenueBudget {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly bucketMs: number[];

  private constructor(readonly shared: SharedBudget, private readonly now: () => number) {
    this.i32 = new Int32Array(shared.buffer, 0, 2);
    this.f64 = new Float64Array(shared.buffer, 8);
    this.bucketMs = shared.limits.map((l) => l.windowMs / BUCKETS);
  }

  static create(venue: string, limits: BudgetLimit[], now: () => number = Date.now): VenueBudget {
    if (limits.length === 0) throw new Error(`venue ${venue}: no rate limits`);
    const buffer = new SharedArrayBuffer(8 + 8 * (HEAD + PER_LIMIT * limits.length));
    const budget = new VenueBudget({ venue, limits, buffer }, now);
    limits.forEach((_, i) => {
      budget.f64.fill(-1, budget.base(i) + OWN_RING, budget.base(i) + OWN_RING + RING);
      budget.f64.fill(-1, budget.base(i) + LOW_RING, budget.base(i) + LOW_RING + RING);
    });
    budget.f64[CREATED_AT] = now();
    return budget;
  }

  static attach(shared: SharedBudget, now: () => number = Date.now): VenueBudget {
    return new VenueBudget(shared, now);
  }

  /**
   * Reserves `weight` now, or says how long to wait. Never blocks.
   */
  tryAcquire(weight: number, endpoint: string | null = null): { ticket: Ticket } | { waitMs: number } {
    return this.locked(() => {
      const t = this.now();
      const stop = Math.max(this.f64[PAUSED_UNTIL]!, this.f64[BANNED_UNTIL]!);
      if (stop > t) return { waitMs: stop - t };
      let wait = 0;
      const ownBefore: number[] = [];
      this.shared.limits.forEach((l, i) => {
        const own = this.ownSum(i, t);
        ownBefore.push(own);
        const w = this.waitFor(i, t, own, cost(l, weight, endpoint));
        if (w > wait) wait = w;
      });
      if (wait > 0) return { waitMs: wait };
      this.shared.limits.forEach((l, i) => this.add(i, t, cost(l, weight, endpoint)));
      this.f64[WEIGHT_SENT] = this.f64[WEIGHT_SENT]! + weight;
      this.f64[REQUESTS_SENT] = this.f64[REQUESTS_SENT]! + 1;
      return { ticket: { ownBefore, weight, endpoint } };
    });
  }

  /** Waits for room (or until `stopped` settles, then returns null). */
  async acquire(weight: number, sleep: (ms: number, stopped?: Promise<unknown>) => Promise<void>, stopped?: Promise<unknown>, endpoint: string | null = null): Promise<Ticket | null> {
    let done = false;
    void stopped?.then(() => (done = true));
    for (;;) {
      if (done) return null;
      const r = this.tryAcquire(weight, endpoint);
      if ('ticket' in r) return r.ticket;
      await sleep(Math.max(1, Math.min(r.waitMs, 60_000)), stopped);
    }
  }

  /** Reconciles with the exchange's own count from a response's headers. */
  observe(headers: ResponseHeaders, ticket: Ticket): void {
    this.locked(() => {
      const t = this.now();
      this.shared.limits.forEach((l, i) => {
        if (!l.header) return;
        const said = Number(headerValue(headers, l.header));
        if (!Number.isFinite(said) || said < 0) return;
        // Our requests in flight blur a reading both ways: those reserved before this one and not yet
        // arrived make it low, those reserved after it and arrived first make it high. `seen` may be
        // high by the latter; `low` (everything we have reserved so far taken off) never is.
        const seen = Math.max(0, said - ticket.ownBefore[i]! - cost(l, ticket.weight, ticket.endpoint));
        const low = Math.min(seen, Math.max(0, said - this.ownSum(i, t)));
        const b = this.base(i);
        const bucket = Math.floor(t / this.bucketMs[i]!);
        // Within one bucket keep the largest readings.
        const same = this.f64[b + SEEN_BUCKET] === bucket;
        this.f64[b + SEEN] = same ? Math.max(this.f64[b + SEEN]!, seen) : seen;
        this.f64[b + LAST_LOW] = same ? Math.max(this.f64[b + LAST_LOW]!, low) : low;
        this.f64[b + SEEN_AT] = t;
        this.f64[b + SEEN_BUCKET] = bucket;
        const lowAt = this.bucket(b + LOW_RING, bucket);
        this.f64[lowAt] = Math.max(this.f64[lowAt]!, low); // readings are >= 0: a fresh bucket takes the first
        if (this.f64[b + FIRST_AT] === 0) {
          this.f64[b + FIRST_LOW] = low;
          this.f64[b + FIRST_AT] = t;
        }
      });
    });
  }

  /**
   * Stops the whole venue until `untilMs`. Returns true when this call
   * extended the stop (so only one actor reports each episode).
   */
  stop(reason: StopReason, untilMs: number): boolean {
    return this.locked(() => {
      const slot = reason === 'banned' ? BANNED_UNTIL : PAUSED_UNTIL;
      const counter = reason === 'banned' ? N_418 : reason === 'rate-limited' ? N_429 : N_403;
      this.f64[counter] = this.f64[counter]! + 1;
      if (untilMs <= this.f64[slot]!) return false;
      this.f64[slot] = untilMs;
      this.f64[STOP_REASON] = REASONS.indexOf(reason);
      return true;
    });
  }

  snapshot(): BudgetSnapshot {
    return this.locked(() => {
      const t = this.now();
      const stoppedUntil = Math.max(this.f64[PAUSED_UNTIL]!, this.f64[BANNED_UNTIL]!);
      return {
        venue: this.shared.venue,
        limits: this.shared.limits.map((l, i) => {
          const own = this.ownSum(i, t);
          const foreign = this.fresh(i, t) ? this.foreign(i, t) : 0; // what others use now, as far as is known
          return { ...l, own, foreign, used: own + foreign };
        }),
        pausedUntil: this.f64[PAUSED_UNTIL]!,
        bannedUntil: this.f64[BANNED_UNTIL]!,
        stopReason: stoppedUntil > t ? REASONS[this.f64[STOP_REASON]!] ?? null : null,
        events: { rateLimited: this.f64[N_429]!, banned: this.f64[N_418]!, wafBlocked: this.f64[N_403]! },
        weightSent: this.f64[WEIGHT_SENT]!,
        requestsSent: this.f64[REQUESTS_SENT]!,
      };
    });
  }

  // --- inside the lock ------------------------------------------------

  private base(i: number): number {
    return HEAD + i * PER_LIMIT;
  }

  /** Weight reserved in buckets that overlap (t - window, t]. */
  private ownSum(i: number, t: number): number {
    return this.fold(i, OWN_RING, t, (a, v) => a + v);
  }

  /** The largest lower bound of others' use read in buckets that overlap (t - window, t]. */
  private lowMax(i: number, t: number): number {
    return this.fold(i, LOW_RING, t, Math.max);
  }

  /** Folds the values of limit `i`'s ring at `ring` over the buckets that overlap (t - window, t], from 0. */
  private fold(i: number, ring: number, t: number, f: (acc: number, v: number) => number): number {
    const b = this.base(i) + ring;
    const cur = Math.floor(t / this.bucketMs[i]!);
    let acc = 0;
    for (let k = cur - BUCKETS; k <= cur; k++) {
      const slot = mod(k, RING);
      if (this.f64[b + slot] === k) acc = f(acc, this.f64[b + RING + slot]!);
    }
    return acc;
  }

  /** Index of bucket `k`'s value in the ring at `ring` (absolute), reset to 0 when the slot held an older bucket. */
  private bucket(ring: number, k: number): number {
    const slot = mod(k, RING);
    if (this.f64[ring + slot] !== k) {
      this.f64[ring + slot] = k;
      this.f64[ring + RING + slot] = 0;
    }
    return ring + RING + slot;
  }

  /** True while the latest reading of others' use is less than a window old. */
  private fresh(i: number, t: number): boolean {
    return t - this.f64[this.base(i) + SEEN_AT]! < this.shared.limits[i]!.windowMs;
  }

  /**
   * Weight other programs hold in the window, as admission counts it: the
   * latest reading or the most they were seen holding in the last window,
   * whichever is larger; the latest reading is kept when it is stale.
   * During the first window after start, their usage may still be growing
   * into it (a client that started with us), so growth seen since the first
   * reading is projected to the end of that window; otherwise it would fill
   * the window behind our reservations. Growth is read from the lower
   * bounds, which our own requests in flight cannot inflate (with 16 in
   * flight, upper readings wobbled by 30 and the projection made that 200,
   * idling the first window). Usage from before our start is history.
   */
  private foreign(i: number, t: number): number {
    const b = this.base(i);
    const { windowMs } = this.shared.limits[i]!;
    const seen = this.f64[b + SEEN]!;
    if (!this.fresh(i, t)) return seen;
    const held = Math.max(seen, this.lowMax(i, t));
    const elapsed = t - this.f64[CREATED_AT]!;
    if (elapsed >= windowMs) return held;
    const rate = Math.max(0, this.f64[b + LAST_LOW]! - this.f64[b + FIRST_LOW]!) / Math.max(t - this.f64[b + FIRST_AT]!, windowMs / 8);
    return Math.ceil(held + rate * (windowMs - elapsed));
  }

  /**
   * 0 when `c` more fits now; else ms until enough old buckets leave the
   * window. With nothing of ours in the window one request always goes when
   * it could not otherwise (larger than the cap, or others' use known only
   * from a stale reading): its answer brings a fresh reading.
   */
  private waitFor(i: number, t: number, own: number, c: number): number {
    const l = this.shared.limits[i]!;
    const used = own + this.foreign(i, t);
    if (used + c <= l.cap || (own === 0 && (c > l.cap || (l.header !== null && !this.fresh(i, t))))) return 0;
    const b = this.base(i) + OWN_RING;
    const size = this.bucketMs[i]!;
    const cur = Math.floor(t / size);
    let freed = 0;
    for (let k = cur - BUCKETS; k <= cur; k++) {
      const slot = mod(k, RING);
      if (this.f64[b + slot] !== k) continue;
      freed += this.f64[b + RING + slot]!;
      if (used - freed + c <= l.cap) return (k + 1 + BUCKETS) * size - t;
    }
    return size; // other programs hold the room: look again in one bucket
  }

  private add(i: number, t: number, c: number): void {
    const at = this.bucket(this.base(i) + OWN_RING, Math.floor(t / this.bucketMs[i]!));
    this.f64[at] = this.f64[at]! + c;
  }

  private locked<T>(fn: () => T): T {
    while (Atomics.compareExchange(this.i32, LOCK, 0, 1) !== 0) {
      // Another thread is inside a section of a few microseconds: spin.
    }
    try {
      return fn();
    } finally {
      Atomics.store(this.i32, LOCK, 0);
    }
  }
}

/** What a request of `endpoint` counts against limit `l`: its weight, one request, or nothing (another endpoint's limit). */
function cost(l: BudgetLimit, weight: number, endpoint: string | null): number {
  if (l.endpoint !== undefined && l.endpoint !== endpoint) return 0;
  return l.type === 'REQUEST_WEIGHT' ? weight : 1;
}
