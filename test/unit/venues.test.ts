// The venue definitions say what docs/exchanges.md says: hosts, paths, weights.
import { describe, expect, it } from 'vitest';
import { finality, GAP_GRACE_MS } from '../../src/finality.js';
import { validateFundingRates } from '../../src/venues/binance/funding.js';
import { OKX_ROWS, validateOkxCandles } from '../../src/venues/okx/candles.js';
import { classifyOkx } from '../../src/venues/okx/errors.js';
import { VENUES } from '../../src/venues/index.js';
import { sliceAt } from '../../src/slices.js';
import { fundingEvents } from '../support/synthetic-funding.js';

const slice = { index: 0, startMs: 1_700_000_000_000, endMs: 1_700_029_939_999, limit: 499, key: 'k', id: 'i' };

describe('venues', () => {
  it('weigh each request as the exchange counts it', () => {
    const w = (venue: string, endpoint: string, limits: number[]) => limits.map((l) => VENUES[venue]!.endpoints[endpoint]!.weight(l));
    expect(w('binance', 'klines', [1, 499, 1000])).toEqual([2, 2, 2]);
    expect(w('binance', 'uiKlines', [1, 1000])).toEqual([2, 2]);
    expect(w('binanceus', 'klines', [1, 1000])).toEqual([1, 1]);
    expect(w('binanceusdm', 'klines', [1, 99, 100, 499, 500, 1000, 1001, 1500])).toEqual([1, 1, 2, 2, 5, 5, 10, 10]);
  });

  it('default to the cheapest rows per candle (OKX: its default page of 100, see the README)', () => {
    for (const v of Object.values(VENUES).filter((x) => x.name !== 'okx')) {
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
      binance: ['https://api.binance.com', true], binanceus: ['https://api.binance.us', false], binanceusdm: ['https://fapi.binance.com', false], okx: ['https://www.okx.com', false],
    });
    expect(VENUES.okx!.endpoints.candles!.url('https://www.okx.com', 'BTC-USDT', '1h', { ...slice, limit: 100 }))
      .toBe('https://www.okx.com/api/v5/market/history-candles?instId=BTC-USDT&bar=1H&after=1700029940000&before=1699999999999&limit=100');
    expect(VENUES.okx!.endpoints.candles!.defaultLimit).toBe(100);
  });
});

describe('funding rates', () => {
  const geometry = { venue: 'binanceusdm', endpoint: 'fundingRate', symbol: 'BTCUSDT', interval: '8h' as const, anchorMs: Date.UTC(2021, 0, 1), endMs: null, limit: 1000 };
  const w = sliceAt(geometry, 0)!;
  const ctx = { slice: w, interval: '8h' as const, exchangeNow: Date.UTC(2024, 0, 1) };
  const events = fundingEvents(1, 'BTCUSDT', Date.UTC(2020, 0, 1), 8, w.startMs, w.endMs, 1000);
  const fail = (body: unknown) => {
    try {
      validateFundingRates(body, ctx);
    } catch (err) {
      return (err as Error).message;
    }
    return 'accepted';
  };

  it('accepts the events of a full window and reports their span', () => {
    expect(events).toHaveLength(1000);
    expect(validateFundingRates(events, ctx)).toMatchObject({ rows: 1000, firstOpen: events[0]!.fundingTime, lastOpen: events[999]!.fundingTime, hasOpenCandle: false, gaps: [] });
    expect(validateFundingRates([], ctx).rows).toBe(0);
  });

  it('rejects what is not this symbol, out of order, outside the window or not a rate', () => {
    expect(fail([{ ...events[0]!, symbol: 'ETHUSDT' }])).toBe('symbol: row 0 is for ETHUSDT, not BTCUSDT');
    expect(fail([events[1], events[0]])).toMatch(/^not-increasing: row 1/);
    expect(fail([{ ...events[0]!, fundingTime: w.endMs + 1 }])).toMatch(/^outside-window: row 0/);
    expect(fail([{ ...events[0]!, fundingRate: '1e-4' }])).toBe('field-type: row 0: fundingRate is not a decimal string');
    expect(fail([{ ...events[0]!, markPrice: null }])).toBe('field-type: row 0: markPrice is not a decimal string');
    expect(fail({ code: -1121 })).toBe('fundingRate body is not a JSON array');
  });

  it('a full answer that stops short of the window end is an overflow, not a cut', () => {
    const every4h = fundingEvents(1, 'BTCUSDT', Date.UTC(2020, 0, 1), 4, w.startMs, w.endMs, 1000);
    expect(fail(every4h)).toMatch(/^window-overflow: 1000 events \(the limit\) end at \d+, before the window's end \d+: this symbol pays funding more often than every 8h/);
  });
});

describe('OKX', () => {
  const geometry = { venue: 'okx', endpoint: 'candles', symbol: 'BTC-USDT', interval: '1m' as const, anchorMs: Date.UTC(2024, 0, 1), endMs: null, limit: 100 };
  const w = sliceAt(geometry, 0)!;
  const bar = (t: number, confirm = '1') => [String(t), '10.5', '11', '10', '10.8', '1.2', '12.96', '12.96', confirm];
  const env = (data: unknown[], code = '0') => ({ code, msg: code === '0' ? '' : 'said so', data });
  const ctx = (exchangeNow = Date.UTC(2024, 0, 2)) => ({ slice: w, interval: '1m' as const, exchangeNow });
  const fail = (body: unknown, c = ctx()) => {
    try {
      validateOkxCandles(body, c);
    } catch (err) {
      return `${(err as { code: string }).code} ${(err as Error).message}`;
    }
    return 'accepted';
  };

  it('reads the envelope newest first, the unconfirmed bar as the open candle, and gaps', () => {
    const t = (m: number) => w.startMs + m * 60_000;
    expect(validateOkxCandles(env([bar(t(3)), bar(t(1)), bar(t(0))]), ctx())).toEqual({
      rows: 3, firstOpen: t(0), lastOpen: t(3), lastClosedClose: t(4) - 1, hasOpenCandle: false, gaps: [[t(2), t(3)], [t(4), w.endMs + 1]], anomalies: [],
    });
    const open = validateOkxCandles(env([bar(t(1), '0'), bar(t(0))]), ctx(t(1) + 30_000));
    expect([open.hasOpenCandle, open.lastClosedClose]).toEqual([true, t(1) - 1]);
    expect(OKX_ROWS.rowsOf!(env([bar(t(1)), bar(t(0))])).map((r) => OKX_ROWS.time(r))).toEqual([t(0), t(1)]);
  });

  it('classifies errors inside HTTP 200 and refuses rows out of order or unconfirmed in the middle', () => {
    const t = (m: number) => w.startMs + m * 60_000;
    expect(fail(env([], '51001'))).toBe("CK_ERR_UNKNOWN_SYMBOL exchange says unknown instrument (51001: said so)");
    expect(fail(env([], '50011'))).toBe('CK_ERR_RATE_LIMITED HTTP 200 (50011: said so)');
    expect(fail(env([], '50013'))).toBe('CK_ERR_HTTP_5XX HTTP 200 (50013: said so)');
    expect(fail([bar(t(0))])).toBe('CK_ERR_RESPONSE_MALFORMED OKX answer is not an envelope {code, msg, data}');
    expect(fail(env([bar(t(0)), bar(t(1))]))).toMatch(/^CK_ERR_VALIDATION not-decreasing: row 0/);
    expect(fail(env([bar(t(1)), bar(t(0), '0')]))).toMatch(/^CK_ERR_VALIDATION confirm: row 1 is not confirmed/);
    expect(fail(env([bar(t(0) + 1)]))).toMatch(/^CK_ERR_VALIDATION unaligned/);
    expect(classifyOkx(429, {}, '{"code":"50011","msg":"Too Many Requests","data":[]}').retryAfterMs).toBe(2000);
  });

  it('a window ending in missing bars stays partial for the grace, then the gap is final', () => {
    const facts = { hasOpenCandle: false, lastClosedClose: w.endMs - 120_000, gaps: [[w.endMs + 1 - 120_000, w.endMs + 1]] as Array<[number, number]> };
    expect(finality(w.endMs, facts, w.endMs + 30_000, '1m', 1000)).toEqual({ status: 'partial', nextDueAt: w.endMs + 90_000 });
    expect(finality(w.endMs, facts, w.endMs + 300_001, '1m', 1000)).toEqual({ status: 'ok', nextDueAt: null });
  });
});

describe('short-binance-answer-is-not-a-permanent-gap', () => {
  // A Binance klines window answered short right after it closed: the missing candles are asked for again, as for OKX and funding.
  const w = { startMs: Date.UTC(2024, 0, 1), endMs: Date.UTC(2024, 0, 1) + 1000 * 60_000 - 1 };
  const inner = { hasOpenCandle: false, lastClosedClose: w.endMs, gaps: [[w.startMs + 60_000 * 10, w.startMs + 60_000 * 12]] as Array<[number, number]> };
  it('a gap inside a window that closed a minute ago keeps it partial, asked again within a minute', () => {
    expect(finality(w.endMs, inner, w.endMs + 60_000, '1m', 1000)).toEqual({ status: 'partial', nextDueAt: w.endMs + 120_000 });
  });
  it('the retry never waits past the grace, and after it the gap is known-empty', () => {
    expect(GAP_GRACE_MS).toBe(300_000);
    expect(finality(w.endMs, inner, w.endMs + 270_000, '1m', 1000)).toEqual({ status: 'partial', nextDueAt: w.endMs + GAP_GRACE_MS });
    expect(finality(w.endMs, inner, w.endMs + GAP_GRACE_MS, '1m', 1000)).toEqual({ status: 'ok', nextDueAt: null });
  });
  it('a complete window is final at once, and an old window with gaps too (history is not asked twice)', () => {
    expect(finality(w.endMs, { ...inner, gaps: [] }, w.endMs + 2000, '1m', 1000)).toEqual({ status: 'ok', nextDueAt: null });
    expect(finality(w.endMs, inner, w.endMs + 86_400_000, '1m', 1000)).toEqual({ status: 'ok', nextDueAt: null });
  });
});

describe('funding finality', () => {
  const H8 = 8 * 3_600_000;
  const endMs = Date.UTC(2024, 0, 1) + 1000 * H8 - 1;
  const at16 = Date.UTC(2023, 11, 20, 16);
  it('a funding time whose event is not published yet is asked for again within a minute, then at the next funding time', () => {
    const grace = GAP_GRACE_MS;
    const facts = (last: number) => ({ hasOpenCandle: false, lastClosedClose: last, gaps: [] });
    // Fetched 1 s after 16:00: the 16:00 event is there -> next funding time.
    expect(finality(endMs, facts(at16 + 3), at16 + 1000, '8h', 1000, grace)).toEqual({ status: 'partial', nextDueAt: at16 + H8 + 1000 });
    // Not there yet (the last is 08:00) -> a minute later.
    expect(finality(endMs, facts(at16 - H8), at16 + 1000, '8h', 1000, grace)).toEqual({ status: 'partial', nextDueAt: at16 + 61_000 });
    // Still missing 5 minutes after -> the next funding time.
    expect(finality(endMs, facts(at16 - H8), at16 + 301_000, '8h', 1000, grace)).toEqual({ status: 'partial', nextDueAt: at16 + H8 + 1000 });
  });
});
