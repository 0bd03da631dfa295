// Per-IP accounting as Binance does it: request weight and raw request
// counts over declared windows, 429 with Retry-After when over, and an
// escalating 418 ban for an IP that keeps sending inside its 429 wait.

export type LimitType = 'REQUEST_WEIGHT' | 'RAW_REQUESTS';
export type LimitUnit = 'SECOND' | 'MINUTE' | 'HOUR' | 'DAY';

export interface RateLimitDecl {
  rateLimitType: LimitType;
  interval: LimitUnit;
  intervalNum: number;
  limit: number;
}

export const UNIT_MS: Record<LimitUnit, number> = { SECOND: 1000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };
const UNIT_LETTER: Record<LimitUnit, string> = { SECOND: 'S', MINUTE: 'M', HOUR: 'H', DAY: 'D' };

export const BINANCE_SPOT_LIMITS: RateLimitDecl[] = [
  { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
  { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 300_000 },
];

/** A limit of one path that exchangeInfo does not declare (USD-M fundingRate: 500 requests per 5 minutes). */
export interface PathLimitDecl extends RateLimitDecl {
  path: string;
}

export interface RateLimitOptions {
  limits?: RateLimitDecl[];
  /** Limits counting only the requests of one path; not declared, no used-weight header. */
  pathLimits?: PathLimitDecl[];
  /** `sliding` counts the last window before each request; `fixed` resets at window boundaries (Binance). */
  windowMode?: 'sliding' | 'fixed';
  /** First ban length; doubles per offence up to 3 days. Default 2 minutes. */
  banBaseMs?: number;
  /** Clock for windows and bans (real time unless a test scales it). */
  now?: () => number;
  /**
   * Requests arriving this soon after a 429 were already in flight when it was
   * sent: they get 429 again, not a ban (inferred). Default 100 ms.
   */
  inFlightGraceMs?: number;
}

export type Verdict =
  | { kind: 'ok' }
  | { kind: '429'; retryAfterS: number }
  | { kind: '418'; retryAfterS: number; bannedUntil: number };

/**
 * Counted requests of one limit, oldest first, with the running sum of those
 * still in the window: a request costs O(1) however many the window holds
 * (a backfill sends thousands a minute; summing the log each time made the
 * mock's CPU grow with the square of the request rate).
 */
class WindowLog {
  private at: number[] = [];
  private weight: number[] = [];
  private head = 0;
  private sum = 0;

  push(t: number, w: number): void {
    this.at.push(t);
    this.weight.push(w);
    this.sum += w;
  }

  /** Weight of the requests at or after `from`; older ones are dropped (time only moves forward). */
  usedSince(from: number): number {
    while (this.head < this.at.length && this.at[this.head]! < from) this.sum -= this.weight[this.head++]!;
    if (this.head > 4096 && this.head * 2 > this.at.length) {
      this.at = this.at.slice(this.head);
      this.weight = this.weight.slice(this.head);
      this.head = 0;
    }
    return this.sum;
  }

  /** The live requests, oldest first (call usedSince first). */
  *live(): Iterable<[number, number]> {
    for (let i = this.head; i < this.at.length; i++) yield [this.at[i]!, this.weight[i]!];
  }
}

interface IpState {
  /** Counted requests per limit, then per path limit. */
  logs: WindowLog[];
  noSendUntil: number;
  lastTooMany: number;
  bannedUntil: number;
  offences: number;
}

const MAX_BAN_MS = 3 * 86_400_000;

export class MockRateLimits {
  readonly limits: RateLimitDecl[];
  readonly pathLimits: PathLimitDecl[];
  /** The declared limits, then the path limits: the order of each IP's logs. */
  private readonly all: Array<RateLimitDecl | PathLimitDecl>;
  private readonly mode: 'sliding' | 'fixed';
  private readonly banBaseMs: number;
  private readonly graceMs: number;
  readonly now: () => number;
  private readonly ips = new Map<string, IpState>();
  private readonly forced: Array<{ kind: '429'; retryAfterS: number } | { kind: '418'; banMs: number }> = [];

  constructor(o: RateLimitOptions = {}) {
    this.limits = o.limits ?? BINANCE_SPOT_LIMITS;
    this.pathLimits = o.pathLimits ?? [];
    this.all = [...this.limits, ...this.pathLimits];
    this.mode = o.windowMode ?? 'sliding';
    this.banBaseMs = o.banBaseMs ?? 120_000;
    this.graceMs = o.inFlightGraceMs ?? 100;
    this.now = o.now ?? Date.now;
  }

  /** Decides one request of `weight` to `path` from `ip`, and counts it when allowed. */
  admit(ip: string, weight: number, path = ''): Verdict {
    const s = this.state(ip);
    const t = this.now();
    if (s.bannedUntil > t) return { kind: '418', retryAfterS: Math.ceil((s.bannedUntil - t) / 1000), bannedUntil: s.bannedUntil };
    if (s.noSendUntil > t && t - s.lastTooMany <= this.graceMs) return { kind: '429', retryAfterS: Math.ceil((s.noSendUntil - t) / 1000) };
    if (s.noSendUntil > t) {
      const ban = Math.min(MAX_BAN_MS, this.banBaseMs * 2 ** s.offences);
      s.offences++;
      s.bannedUntil = t + ban;
      return { kind: '418', retryAfterS: Math.ceil(ban / 1000), bannedUntil: s.bannedUntil };
    }
    const forced = this.forced.shift();
    if (forced?.kind === '429') {
      s.noSendUntil = t + forced.retryAfterS * 1000;
      s.lastTooMany = t;
      return { kind: '429', retryAfterS: forced.retryAfterS };
    }
    if (forced?.kind === '418') {
      s.offences++;
      s.bannedUntil = t + forced.banMs;
      return { kind: '418', retryAfterS: Math.ceil(forced.banMs / 1000), bannedUntil: s.bannedUntil };
    }
    // The declared limits count every request; a path limit only its path's.
    const counts = (l: RateLimitDecl | PathLimitDecl) => !('path' in l) || l.path === path;
    const cost = (l: RateLimitDecl) => (l.rateLimitType === 'REQUEST_WEIGHT' ? weight : 1);
    let wait = 0;
    this.all.forEach((l, i) => {
      if (counts(l)) wait = Math.max(wait, this.waitFor(s.logs[i]!, l, t, cost(l)));
    });
    if (wait > 0) {
      const retryAfterS = Math.max(1, Math.ceil(wait / 1000));
      s.noSendUntil = t + retryAfterS * 1000;
      s.lastTooMany = t;
      return { kind: '429', retryAfterS };
    }
    this.all.forEach((l, i) => {
      if (counts(l)) s.logs[i]!.push(t, cost(l));
    });
    return { kind: 'ok' };
  }

  /**
   * The next request gets a 429 with this Retry-After (and, as for a real
   * one, a request inside the wait gets a 418), or a 418 ban of `banMs`.
   */
  force(v: { kind: '429'; retryAfterS: number } | { kind: '418'; banMs: number }): void {
    this.forced.push(v);
  }

  /** Headers Binance sends on every response: used weight per declared weight window. */
  headers(ip: string): Record<string, string> {
    const s = this.state(ip);
    const t = this.now();
    const out: Record<string, string> = {};
    this.limits.forEach((l, i) => {
      if (l.rateLimitType !== 'REQUEST_WEIGHT') return;
      const used = String(this.used(s.logs[i]!, l, t));
      out[`x-mbx-used-weight-${l.intervalNum}${UNIT_LETTER[l.interval].toLowerCase()}`] = used;
      out['x-mbx-used-weight'] ??= used;
    });
    return out;
  }

  /** Weight used by `ip` in the first REQUEST_WEIGHT window now. */
  usedWeight(ip = '127.0.0.1'): number {
    const i = this.limits.findIndex((l) => l.rateLimitType === 'REQUEST_WEIGHT');
    return i < 0 ? 0 : this.used(this.state(ip).logs[i]!, this.limits[i]!, this.now());
  }

  private windowMs(l: RateLimitDecl): number {
    return UNIT_MS[l.interval] * l.intervalNum;
  }

  private used(log: WindowLog, l: RateLimitDecl, t: number): number {
    return log.usedSince(this.windowStart(l, t));
  }

  private windowStart(l: RateLimitDecl, t: number): number {
    const ms = this.windowMs(l);
    return this.mode === 'fixed' ? t - (t % ms) : t - ms + 1;
  }

  /** Milliseconds until `cost` more fits in the window (0 when it fits now). */
  private waitFor(log: WindowLog, l: RateLimitDecl, t: number, cost: number): number {
    let used = this.used(log, l, t);
    if (used + cost <= l.limit) return 0;
    const ms = this.windowMs(l);
    if (this.mode === 'fixed') return ms - (t % ms);
    for (const [at, w] of log.live()) {
      used -= w;
      if (used + cost <= l.limit) return at + ms - t;
    }
    return ms;
  }

  private state(ip: string): IpState {
    let s = this.ips.get(ip);
    if (!s) {
      s = { logs: this.all.map(() => new WindowLog()), noSendUntil: 0, lastTooMany: -Infinity, bannedUntil: 0, offences: 0 };
      this.ips.set(ip, s);
    }
    return s;
  }
}
