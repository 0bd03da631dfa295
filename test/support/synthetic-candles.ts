// Deterministic synthetic candles from (seed, symbol, interval, open time),
// consistent across intervals: days come from a per-symbol random walk and
// are split top-down into hours, minutes and seconds, so a 1h candle is
// exactly the aggregate of its 1m candles. Coarser candles aggregate days or hours.
import { addIntervals, floorToInterval, intervalMs, type Interval } from '../../src/intervals.js';
import { aggregate, fixed8, hashOf, rng, type Agg, type KlineRow } from './kline-row.js';

const PRICE_DECIMALS = 2; // prices are whole cents
const VOLUME_DECIMALS = 5; // volumes in units of 0.00001
const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;
const CACHE_LIMIT = 20_000;
/** Share of children with no trades: no empty hours, a few quiet minutes, many quiet seconds. */
const EMPTY_SHARE: Record<string, number> = { h: 0, m: 0.01, s: 0.05 };

export interface SyntheticSymbol {
  symbol: string;
  /** Listing time; floored to a UTC day. Nothing exists before it. */
  listedAt: number;
}

export class SyntheticCandles {
  private readonly days = new Map<string, Agg[]>(); // per symbol, index 0 = listing day
  private readonly cache = new Map<string, Agg[]>();

  constructor(private readonly seed: number) {}

  /** Closed-form rows with open time in [from, to], ascending, at most `limit`. */
  rows(sym: SyntheticSymbol, interval: Interval, from: number, to: number, limit: number): KlineRow[] {
    const listed = floorToInterval(sym.listedAt, '1d');
    const out: KlineRow[] = [];
    let open = floorToInterval(Math.max(from, listed), interval);
    if (open < from) open = addIntervals(open, interval, 1);
    // A coarse candle that opened before listing still exists if listing falls inside it.
    if (open > listed && floorToInterval(listed, interval) >= from && floorToInterval(listed, interval) < open) open = floorToInterval(listed, interval);
    while (open <= to && out.length < limit) {
      const agg = this.candle(sym, interval, open);
      if (agg) out.push(toRow(open, addIntervals(open, interval, 1) - 1, agg));
      open = addIntervals(open, interval, 1);
    }
    return out;
  }

  private candle(sym: SyntheticSymbol, interval: Interval, open: number): Agg | null {
    const listed = floorToInterval(sym.listedAt, '1d');
    switch (interval) {
      case '1d': return this.day(sym, open);
      case '1h': return this.hours(sym, floorToInterval(open, '1d'))?.[(open % DAY) / HOUR] ?? null;
      case '1m': return this.minutes(sym, floorToInterval(open, '1h'))?.[(open % HOUR) / MINUTE] ?? null;
      case '1s': return this.seconds(sym, floorToInterval(open, '1m'))?.[(open % MINUTE) / 1000] ?? null;
      case '3m': case '5m': case '15m': case '30m':
        return this.sum(sym, '1m', open, intervalMs(interval) / MINUTE);
      case '2h': case '4h': case '6h': case '8h': case '12h':
        return this.sum(sym, '1h', open, intervalMs(interval) / HOUR);
      case '3d': case '1w': case '1M': {
        const end = addIntervals(open, interval, 1);
        const first = Math.max(open, listed);
        return first < end ? this.sum(sym, '1d', first, (end - first) / DAY) : null;
      }
    }
  }

  private sum(sym: SyntheticSymbol, unit: Interval, open: number, count: number): Agg | null {
    const parts: Agg[] = [];
    for (let i = 0; i < count; i++) {
      const p = this.candle(sym, unit, addIntervals(open, unit, i));
      if (p) parts.push(p);
    }
    return parts.length > 0 ? aggregate(parts) : null;
  }

  private day(sym: SyntheticSymbol, open: number): Agg | null {
    const listed = floorToInterval(sym.listedAt, '1d');
    if (open < listed) return null;
    const index = (open - listed) / DAY;
    let chain = this.days.get(sym.symbol);
    if (!chain) {
      chain = [];
      this.days.set(sym.symbol, chain);
    }
    while (chain.length <= index) {
      const r = rng(hashOf(this.seed, sym.symbol, 'day', chain.length));
      const prev = chain[chain.length - 1];
      const o = prev ? prev.c : 5_000 + Math.floor(rng(hashOf(this.seed, sym.symbol))() * 50_000);
      const drift = (r() + r() + r() - 1.5) * 0.04;
      const c = Math.max(100, Math.round(o * (1 + drift)));
      const h = Math.max(o, c) + Math.floor(Math.max(o, c) * r() * 0.03);
      const l = Math.max(50, Math.min(o, c) - Math.floor(Math.min(o, c) * r() * 0.03));
      const v = Math.floor((2e10 + r() * 8e10));
      const q = Math.floor((v * ((o + c) / 2)) / 10 ** PRICE_DECIMALS);
      const n = 100_000 + Math.floor(r() * 200_000);
      const share = 0.4 + r() * 0.2;
      chain.push({ o, h, l, c, v, q, n, tbv: Math.floor(v * share), tbq: Math.floor(q * share) });
    }
    return chain[index]!;
  }

  private hours(sym: SyntheticSymbol, dayOpen: number): Agg[] | null {
    return this.children(sym, 'h', dayOpen, 24, () => this.day(sym, dayOpen));
  }

  private minutes(sym: SyntheticSymbol, hourOpen: number): Agg[] | null {
    return this.children(sym, 'm', hourOpen, 60, () => this.hours(sym, floorToInterval(hourOpen, '1d'))?.[(hourOpen % DAY) / HOUR] ?? null);
  }

  private seconds(sym: SyntheticSymbol, minuteOpen: number): Agg[] | null {
    return this.children(sym, 's', minuteOpen, 60, () => this.minutes(sym, floorToInterval(minuteOpen, '1h'))?.[(minuteOpen % HOUR) / MINUTE] ?? null);
  }

  private children(sym: SyntheticSymbol, level: string, open: number, n: number, parent: () => Agg | null): Agg[] | null {
    const key = `${sym.symbol}:${level}:${open}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const p = parent();
    if (!p) return null;
    if (this.cache.size > CACHE_LIMIT) this.cache.clear();
    const kids = split(p, n, rng(hashOf(this.seed, sym.symbol, level, open)), EMPTY_SHARE[level] ?? 0);
    this.cache.set(key, kids);
    return kids;
  }
}

/**
 * Splits a candle into `n` children whose aggregate is exactly the parent:
 * opens chain to closes, one child reaches the high and one the low, and
 * integer amounts are divided by largest remainder. Children that get no
 * trades are flat at the previous close with zero volume, as on Binance.
 */
export function split(p: Agg, n: number, r: () => number, emptyShare = 0.05): Agg[] {
  const weights = Array.from({ length: n }, () => (r() < emptyShare ? 0 : 0.2 + r()));
  let trades = divide(p.n, weights);
  if (trades.every((t) => t === 0)) trades = divide(p.n, weights.map(() => 1));
  const live = trades.map((t) => t > 0);
  const liveIdx = live.flatMap((x, i) => (x ? [i] : []));
  const w = trades.map((t) => t);
  const vols = divide(p.v, w);
  const quotes = divide(p.q, w);
  const tbv = divideBy(p.tbv, vols, p.v);
  const tbq = divideBy(p.tbq, quotes, p.q);

  // Price path: boundaries from open to close, flat across empty children.
  const bounds = [p.o];
  const lastLive = liveIdx[liveIdx.length - 1] ?? n - 1;
  for (let i = 0; i < n; i++) {
    const prev = bounds[i]!;
    if (i === lastLive) bounds.push(p.c);
    else if (!live[i] || i > lastLive) bounds.push(prev);
    else {
      const target = prev + (p.c - prev) / (lastLive - i + 1);
      const noise = (r() - 0.5) * (p.h - p.l) * 0.3;
      bounds.push(Math.min(p.h, Math.max(p.l, Math.round(target + noise))));
    }
  }
  const iH = liveIdx[Math.floor(r() * liveIdx.length)] ?? 0;
  const iL = liveIdx[Math.floor(r() * liveIdx.length)] ?? 0;
  return Array.from({ length: n }, (_, i) => {
    const o = bounds[i]!, c = bounds[i + 1]!;
    const top = Math.max(o, c), bottom = Math.min(o, c);
    const h = i === iH ? p.h : live[i] ? top + Math.floor((p.h - top) * r() * 0.3) : top;
    const l = i === iL ? p.l : live[i] ? bottom - Math.floor((bottom - p.l) * r() * 0.3) : bottom;
    return { o, h, l, c, v: vols[i]!, q: quotes[i]!, n: trades[i]!, tbv: tbv[i]!, tbq: tbq[i]! };
  });
}

/** Splits integer `total` in proportion to `weights`, exactly (largest remainder). */
function divide(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  let rest = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).filter(([, i]) => weights[i]! > 0).sort((a, b) => b[0] - a[0]);
  for (let k = 0; rest > 0; k = (k + 1) % order.length, rest--) out[order[k]![1]]! += 1;
  return out;
}

/** Splits `part` (<= whole) in proportion to `parts` of `whole`, keeping each share <= its part. */
function divideBy(part: number, parts: readonly number[], whole: number): number[] {
  if (whole === 0) return parts.map(() => 0);
  const out = parts.map((x) => Math.floor((x * part) / whole));
  let rest = part - out.reduce((a, b) => a + b, 0);
  for (let i = 0; rest > 0 && i < out.length * 2; i++) {
    const k = i % out.length;
    if (out[k]! < parts[k]!) {
      out[k]! += 1;
      rest--;
    }
  }
  return out;
}

export function toRow(open: number, close: number, a: Agg): KlineRow {
  return [
    open, fixed8(a.o, PRICE_DECIMALS), fixed8(a.h, PRICE_DECIMALS), fixed8(a.l, PRICE_DECIMALS), fixed8(a.c, PRICE_DECIMALS),
    fixed8(a.v, VOLUME_DECIMALS), close, fixed8(a.q, VOLUME_DECIMALS), a.n, fixed8(a.tbv, VOLUME_DECIMALS), fixed8(a.tbq, VOLUME_DECIMALS), '0',
  ];
}
