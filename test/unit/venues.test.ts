// The venue definitions say what EXCHANGES.md says: hosts, paths, weights.
import { describe, expect, it } from 'vitest';
import { VENUES } from '../../src/venues/index.js';

const slice = { index: 0, startMs: 1_700_000_000_000, endMs: 1_700_029_939_999, limit: 499, key: 'k', id: 'i' };

describe('venues', () => {
  it('weigh each request as the exchange counts it', () => {
    const w = (venue: string, endpoint: string, limits: number[]) => limits.map((l) => VENUES[venue]!.endpoints[endpoint]!.weight(l));
    expect(w('binance', 'klines', [1, 499, 1000])).toEqual([2, 2, 2]);
    expect(w('binance', 'uiKlines', [1, 1000])).toEqual([2, 2]);
    expect(w('binanceus', 'klines', [1, 1000])).toEqual([1, 1]);
    expect(w('binanceusdm', 'klines', [1, 99, 100, 499, 500, 1000, 1001, 1500])).toEqual([1, 1, 2, 2, 5, 5, 10, 10]);
  });

  it('default to the cheapest rows per candle', () => {
    for (const v of Object.values(VENUES)) {
      for (const e of Object.values(v.endpoints)) {
        const perRow = (l: number) => e.weight(l) / l;
        for (let l = 1; l <= e.maxLimit; l++) expect(perRow(e.defaultLimit), `${v.name} ${e.name} ${l}`).toBeLessThanOrEqual(perRow(l));
      }
    }
    expect(VENUES.binanceusdm!.endpoints.klines!.defaultLimit).toBe(499);
  });

  it('ask their own hosts and paths', () => {
    expect(VENUES.binanceusdm!.endpoints.klines!.url('https://fapi.binance.com', 'BTCUSDT', '1m', slice))
      .toBe('https://fapi.binance.com/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=1700000000000&endTime=1700029939999&limit=499');
    expect([VENUES.binanceusdm!.timePath, VENUES.binanceusdm!.exchangeInfoPath, VENUES.binanceus!.timePath]).toEqual(['/fapi/v1/time', '/fapi/v1/exchangeInfo', '/api/v3/time']);
    expect(Object.fromEntries(Object.values(VENUES).map((v) => [v.name, [v.defaultBaseUrl, v.intervals.includes('1s')]]))).toEqual({
      binance: ['https://api.binance.com', true], binanceus: ['https://api.binance.us', false], binanceusdm: ['https://fapi.binance.com', false],
    });
  });
});
