// Deterministic synthetic USD-M funding events from (seed, symbol, event
// number): one every `everyH` hours from the listing day, some a few ms late
// (as Binance's are), rates of either sign, an empty mark price on the oldest
// events (before 2020-06-01, as on the real API's early records).
import { fixed8, hashOf, rng } from './kline-row.js';

export interface FundingEvent {
  symbol: string;
  fundingTime: number;
  fundingRate: string;
  markPrice: string;
}

const HOUR = 3_600_000;
const MARK_PRICE_FROM = Date.UTC(2020, 5, 1);

export function fundingEvents(seed: number, symbol: string, listedAt: number, everyH: number, from: number, to: number, limit: number): FundingEvent[] {
  const period = everyH * HOUR;
  const first = Math.floor(listedAt / 86_400_000) * 86_400_000;
  const out: FundingEvent[] = [];
  // The event numbered k is due at first + k * period and lands 0-9 ms later; look one back for a late one.
  for (let k = Math.max(0, Math.floor((from - first) / period) - 1); out.length < limit; k++) {
    const r = rng(hashOf(seed, symbol, 'funding', k));
    const t = first + k * period + (k % 3 === 1 ? Math.floor(r() * 10) : 0);
    if (t > to) break;
    if (t < from) continue;
    const rate = Math.round((r() - 0.3) * 40_000); // units of 1e-8: -0.00012000 .. 0.00028000
    const mark = Math.round(20_000_00 + r() * 50_000_00); // cents
    out.push({
      symbol,
      fundingTime: t,
      fundingRate: `${rate < 0 ? '-' : ''}${fixed8(Math.abs(rate), 8)}`,
      markPrice: t < MARK_PRICE_FROM ? '' : fixed8(mark, 2),
    });
  }
  return out;
}
