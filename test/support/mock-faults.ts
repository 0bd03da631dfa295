// The mock exchange's faults: drawn at random by rate (seeded) or scripted
// for the next data requests. Each kind is one thing a real exchange or
// network has done to a kline download.
import { rng } from './kline-row.js';

export const FAULT_KINDS = [
  'http-500-json', // 500 with a Binance JSON error body (-1000)
  'http-502-html', // 502 from a proxy, HTML body
  'busy-503', // 503 with -1008 "server busy"
  'delay-headers', // headers only after `delayMs`
  'stall-body', // half the body, then a pause of `delayMs`, then the rest
  'reset', // the connection is destroyed before any response
  'truncate', // Content-Length says more than is sent; the socket closes
  'malformed-json', // 200 with a body that is not JSON
  'rows-outside-window', // an extra row after endTime
  'duplicate-rows', // one row twice
  'out-of-order', // two rows swapped
  'wrong-close-time', // one row closes 1 ms after its nominal close
  'waf-403', // the web application firewall answers with HTML
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultOptions {
  /** Probability per data request, per kind (0..1). */
  rates?: Partial<Record<FaultKind, number>>;
  seed?: number;
  /** Delay used by delay-headers and stall-body. Default 30 s (past any sane timeout). */
  delayMs?: number;
  /** Retry-After sent with the waf-403 fault; real WAF blocks send none (the default). */
  wafRetryAfterS?: number;
}

export class MockFaults {
  private readonly queue: FaultKind[] = [];
  private rates: Partial<Record<FaultKind, number>>;
  private readonly random: () => number;
  delayMs: number;
  wafRetryAfterS: number | undefined;

  constructor(o: FaultOptions = {}) {
    this.rates = o.rates ?? {};
    this.random = rng(o.seed ?? 7);
    this.delayMs = o.delayMs ?? 30_000;
    this.wafRetryAfterS = o.wafRetryAfterS;
  }

  /** The next data requests get these faults, in order. */
  script(...kinds: FaultKind[]): void {
    this.queue.push(...kinds);
  }

  setRates(rates: Partial<Record<FaultKind, number>>): void {
    this.rates = rates;
  }

  /** The fault for the next data request, if any. */
  next(): FaultKind | null {
    const scripted = this.queue.shift();
    if (scripted) return scripted;
    for (const kind of FAULT_KINDS) {
      const p = this.rates[kind];
      if (p && this.random() < p) return kind;
    }
    return null;
  }
}
