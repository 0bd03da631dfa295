// The mock exchange answers an ordinary HTTP client as docs/exchanges.md says.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { MockClock } from '../support/mock-clock.js';
import { MockExchange } from '../support/mock-exchange.js';

const NOW = Date.UTC(2024, 2, 1, 12, 0, 30);
let mock: MockExchange;

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await request(`${mock.url}${path}`, { headers });
  const text = await res.body.text();
  let json: any = null;
  try { json = JSON.parse(text); } catch { /* html */ }
  return { status: res.statusCode, headers: res.headers, text, json };
}

async function start(o: ConstructorParameters<typeof MockExchange>[0] = {}) {
  mock = new MockExchange({ clock: new MockClock({ start: NOW, held: true }), symbols: [{ symbol: 'BTCUSDT', listedAt: Date.UTC(2024, 0, 10) }], ...o });
  await mock.start();
}

afterEach(async () => mock?.stop());

describe('mock exchange', () => {
  it('serves time, ping and exchangeInfo with rate limits and weight headers', async () => {
    await start();
    expect((await get('/api/v3/time')).json).toEqual({ serverTime: NOW });
    expect((await get('/api/v3/ping')).json).toEqual({});
    const info = await get('/api/v3/exchangeInfo');
    expect(info.json.rateLimits[0]).toEqual({ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 });
    expect(info.json.symbols.map((s: any) => [s.symbol, s.status])).toEqual([['BTCUSDT', 'TRADING']]);
    expect(info.headers['x-mbx-used-weight-1m']).toBe('22');
    expect(info.headers['x-mbx-used-weight']).toBe('22');
    expect(new Date(info.headers.date as string).getTime()).toBe(Math.floor(NOW / 1000) * 1000);
  });

  it('pagination by open time yields contiguous rows with exact types and 8-decimal strings', async () => {
    await start();
    const rows: any[] = [];
    let startTime = Date.UTC(2024, 1, 1);
    for (let i = 0; i < 3; i++) {
      const r = await get(`/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${startTime}&limit=1000`);
      expect(r.status).toBe(200);
      expect(r.json).toHaveLength(1000);
      rows.push(...r.json);
      startTime = r.json[r.json.length - 1][0] + 60_000;
    }
    for (let i = 1; i < rows.length; i++) expect(rows[i][0]).toBe(rows[i - 1][6] + 1);
    const row = rows[0];
    expect(row.map((v: unknown) => typeof v)).toEqual(['number', 'string', 'string', 'string', 'string', 'string', 'number', 'string', 'number', 'string', 'string', 'string']);
    for (const f of [1, 2, 3, 4, 5, 7, 9, 10]) expect(row[f]).toMatch(/^\d+\.\d{8}$/);
    expect(row[11]).toBe('0');
  });

  it('selects by open time, both ends inclusive; startTime inside a candle gives the next one', async () => {
    await start();
    const t = Date.UTC(2024, 1, 1, 10);
    const r = await get(`/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=${t}&endTime=${t + 2 * 3_600_000}`);
    expect(r.json.map((x: any) => x[0])).toEqual([t, t + 3_600_000, t + 7_200_000]);
    const inside = await get(`/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=${t + 1}&limit=1`);
    expect(inside.json[0][0]).toBe(t + 3_600_000);
  });

  it('a 1h candle aggregates its 1m candles', async () => {
    await start();
    const t = Date.UTC(2024, 1, 3, 7);
    const [h] = (await get(`/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=${t}&limit=1`)).json;
    const m = (await get(`/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${t}&endTime=${t + 3_599_999}&limit=1000`)).json;
    expect(m).toHaveLength(60);
    expect(h[1]).toBe(m[0][1]);
    expect(h[4]).toBe(m[59][4]);
    expect(Number(h[2])).toBe(Math.max(...m.map((x: any) => Number(x[2]))));
    expect(Number(h[3])).toBe(Math.min(...m.map((x: any) => Number(x[3]))));
    expect(h[8]).toBe(m.reduce((a: number, x: any) => a + x[8], 0));
  });

  it('startTime before listing returns from the first kline; no times returns the latest rows', async () => {
    await start();
    const r = await get(`/api/v3/klines?symbol=BTCUSDT&interval=1d&startTime=${Date.UTC(2023, 0, 1)}&limit=3`);
    expect(r.json[0][0]).toBe(Date.UTC(2024, 0, 10));
    const latest = await get('/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=5');
    expect(latest.json).toHaveLength(5);
    expect(latest.json[4][0]).toBe(Date.UTC(2024, 2, 1, 12, 0)); // the open candle
  });

  it('returns the still-open candle with a future close time and values that change until it closes', async () => {
    await start();
    const open = Date.UTC(2024, 2, 1, 12, 0);
    const q = `/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=${open}`;
    const a = (await get(q)).json[0];
    expect(a[6]).toBe(open + 3_599_999);
    expect(a[6]).toBeGreaterThan(NOW);
    mock.clock.set(NOW + 20 * 60_000);
    const b = (await get(q)).json[0];
    mock.clock.set(open + 3_600_000);
    const closed = (await get(q)).json[0];
    expect(b[5]).not.toBe(a[5]);
    expect(closed[5]).not.toBe(b[5]);
    expect(Number(closed[5])).toBeGreaterThan(Number(b[5]));
  });

  it('weeks open on Monday and months follow the calendar', async () => {
    await start();
    const w = (await get(`/api/v3/klines?symbol=BTCUSDT&interval=1w&startTime=${Date.UTC(2024, 0, 10)}&limit=2`)).json;
    expect(new Date(w[0][0]).getUTCDay()).toBe(1);
    expect(w[1][0] - w[0][0]).toBe(7 * 86_400_000);
    const M = (await get(`/api/v3/klines?symbol=BTCUSDT&interval=1M&startTime=${Date.UTC(2024, 0, 1)}&limit=2`)).json;
    expect(M.map((x: any) => x[0])).toEqual([Date.UTC(2024, 0, 1), Date.UTC(2024, 1, 1)]);
    expect(M[1][6]).toBe(Date.UTC(2024, 2, 1) - 1); // 29 days of a leap February
  });

  it('answers Binance error codes as JSON 400s, and 404 for unknown paths', async () => {
    await start();
    const cases: Array<[string, number]> = [
      ['/api/v3/klines?symbol=NOPEUSDT&interval=1m', -1121],
      ['/api/v3/klines?symbol=BTCUSDT&interval=2m', -1120],
      ['/api/v3/klines?symbol=btc/usdt&interval=1m', -1100],
      ['/api/v3/klines?interval=1m', -1102],
      ['/api/v3/klines?symbol=BTCUSDT', -1102],
      ['/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1001', -1130],
      ['/api/v3/klines?symbol=BTCUSDT&interval=1m&foo=1', -1104],
    ];
    for (const [path, code] of cases) {
      const r = await get(path);
      expect([path, r.status, r.json.code]).toEqual([path, 400, code]);
      expect(typeof r.json.msg).toBe('string');
    }
    expect((await get('/api/v3/nope')).status).toBe(404);
  });

  it('switches times to microseconds on request', async () => {
    await start();
    const t = Date.UTC(2024, 1, 1);
    const r = await get(`/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${t * 1000}&limit=1`, { 'x-mbx-time-unit': 'MICROSECOND' });
    expect(r.json[0][0]).toBe(t * 1000);
    expect(r.json[0][6]).toBe((t + 60_000) * 1000 - 1);
  });

  it('leaves maintenance windows empty and cuts the candle before them short', async () => {
    const from = Date.UTC(2024, 1, 2, 10, 7, 30);
    await start({ maintenance: [{ from, to: Date.UTC(2024, 1, 2, 12, 30) }] });
    const m = (await get(`/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${Date.UTC(2024, 1, 2, 10, 5)}&limit=6`)).json;
    expect(m.map((x: any) => x[0] - Date.UTC(2024, 1, 2, 10, 0))).toEqual([5, 6, 7, 150, 151, 152].map((k) => k * 60_000));
    expect(m[2][6]).toBe(from - 1);
  });

  it('limits weight per IP: 429 with Retry-After, then 418 with an escalating ban', async () => {
    let t = 1_000_000;
    await start({ rateLimits: { limits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'SECOND', intervalNum: 10, limit: 10 }], now: () => t, banBaseMs: 60_000 } });
    const q = '/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1';
    for (let i = 0; i < 5; i++) expect((await get(q)).status).toBe(200);
    const r429 = await get(q);
    expect(r429.status).toBe(429);
    expect(r429.json.code).toBe(-1003);
    expect(r429.headers['retry-after']).toBe('10');
    expect(r429.headers['x-mbx-used-weight-10s']).toBe('10');
    t += 1000;
    const r418 = await get(q);
    expect(r418.status).toBe(418);
    expect(r418.json.msg).toContain(`IP banned until ${t + 60_000}`);
    t += 61_000;
    expect((await get(q)).status).toBe(200);
    const again = await get(q), again2 = await get(q), again3 = await get(q), again4 = await get(q), over = await get(q);
    expect([again, again2, again3, again4].map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(over.status).toBe(429);
    // arriving with the 429 (within 100 ms): already in flight, so 429 again rather than a ban
    expect((await get(q)).status).toBe(429);
    t += 1000;
    const ban2 = await get(q);
    expect(ban2.json.msg).toContain(`IP banned until ${t + 120_000}`); // doubled
    expect(mock.log.filter((e) => e.status === 418)).toHaveLength(2);
  });

  it('injects scripted faults and logs every request', async () => {
    await start({ faults: { delayMs: 200 } });
    const q = `/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${Date.UTC(2024, 1, 1)}&limit=10`;
    mock.faults.script('http-500-json', 'http-502-html', 'busy-503', 'malformed-json', 'duplicate-rows', 'out-of-order', 'wrong-close-time', 'rows-outside-window', 'waf-403');
    expect((await get(q)).json.code).toBe(-1000);
    const html = await get(q);
    expect([html.status, html.json]).toEqual([502, null]);
    expect((await get(q)).json.code).toBe(-1008);
    expect((await get(q)).json).toBe(null);
    const dup = (await get(q)).json;
    expect(dup).toHaveLength(11);
    expect(dup[5]).toEqual(dup[6]);
    const ooo = (await get(q)).json;
    expect(ooo[4][0]).toBeGreaterThan(ooo[5][0]);
    const wrong = (await get(q)).json;
    expect(wrong[5][6]).toBe(wrong[5][0] + 60_000);
    const outside = (await get(q)).json;
    expect(outside).toHaveLength(11);
    expect(outside[10][0]).toBe(Date.UTC(2024, 1, 1) + 10 * 60_000);
    expect((await get(q)).status).toBe(403);
    mock.faults.script('reset', 'truncate');
    await expect(get(q)).rejects.toThrow();
    await expect(get(q)).rejects.toThrow();
    mock.faults.script('delay-headers');
    const t0 = Date.now();
    expect((await get(q)).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(mock.log.map((e) => e.fault).filter(Boolean)).toHaveLength(12);
    expect(mock.log[0]).toMatchObject({ path: '/api/v3/klines', weight: 2, status: 500, params: { symbol: 'BTCUSDT', interval: '1m' } });
  });

  it('serves real archive rows padded to 8 decimals', async () => {
    const csv = fileURLToPath(new URL('../fixtures/binance-spot-1m/FILUSDT-1m-2023-05.csv.gz', import.meta.url));
    mock = new MockExchange({ clock: new MockClock({ start: Date.UTC(2023, 6, 1), held: true }), symbols: [{ symbol: 'FILUSDT', csv }] });
    await mock.start();
    const r = (await get(`/api/v3/klines?symbol=FILUSDT&interval=1m&startTime=0&limit=2`)).json;
    expect(r[0]).toEqual([1682899200000, '5.41400000', '5.42200000', '5.41300000', '5.41800000', '58915.00000000', 1682899259999, '319130.23150000', 624, '32215.50000000', '174505.37140000', '0']);
  });
});

describe('mock exchange playing Binance.US and USD-M futures', () => {
  it('Binance.US: its own limits, klines weigh 1, no 1s, no uiKlines', async () => {
    await start({ venue: 'binanceus' });
    const info = await get('/api/v3/exchangeInfo');
    expect(info.json.rateLimits[0]).toEqual({ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 1200 });
    const k = await get(`/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${Date.UTC(2024, 1, 1)}&limit=1000`);
    expect(k.json).toHaveLength(1000);
    expect(k.headers['x-mbx-used-weight-1m']).toBe('21');
    expect((await get('/api/v3/klines?symbol=BTCUSDT&interval=1s&limit=1')).json.code).toBe(-1120);
    expect((await get('/api/v3/uiKlines?symbol=BTCUSDT&interval=1m&limit=1')).status).toBe(404);
  });

  it('USD-M: /fapi/v1 paths, weight by limit, up to 1500 rows, the 12th field is not "0"', async () => {
    await start({ venue: 'binanceusdm' });
    expect((await get('/fapi/v1/time')).json).toEqual({ serverTime: NOW });
    expect((await get('/api/v3/time')).status).toBe(404);
    const info = await get('/fapi/v1/exchangeInfo');
    expect(info.json.rateLimits[0]).toEqual({ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 });
    expect(info.headers['x-mbx-used-weight-1m']).toBe('2'); // time 1 + exchangeInfo 1 (a 404 weighs nothing)
    const from = Date.UTC(2024, 1, 1);
    let used = 2;
    for (const [limit, weight] of [[99, 1], [100, 2], [499, 2], [500, 5], [1000, 5], [1500, 10]] as const) {
      const k = await get(`/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=${from}&limit=${limit}`);
      used += weight;
      expect([limit, k.json.length, k.headers['x-mbx-used-weight-1m']]).toEqual([limit, limit, String(used)]);
      expect(k.json.every((r: any[]) => r.length === 12 && r[11] !== '0' && r[11] === r[7])).toBe(true);
    }
    expect((await get(`/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1501`)).json.code).toBe(-1130);
    expect((await get('/fapi/v1/klines?symbol=BTCUSDT&interval=1s&limit=1')).json.code).toBe(-1120);
  });

  it('USD-M funding rates: oldest first within startTime..endTime, default 100, max 1000, the latest without startTime', async () => {
    await start({ venue: 'binanceusdm' });
    const from = Date.UTC(2024, 0, 20);
    const r = await get(`/fapi/v1/fundingRate?symbol=BTCUSDT&startTime=${from}&endTime=${Date.UTC(2024, 0, 21)}`);
    expect(r.headers['x-mbx-used-weight-1m']).toBe('1');
    expect(r.json.map((e: any) => Math.floor((e.fundingTime - from) / 1000) * 1000)).toEqual([0, 8, 16, 24].map((h) => h * 3_600_000));
    expect(Object.keys(r.json[0])).toEqual(['symbol', 'fundingTime', 'fundingRate', 'markPrice']);
    expect(r.json.every((e: any) => e.symbol === 'BTCUSDT' && /^-?\d+\.\d{8}$/.test(e.fundingRate) && /^\d+\.\d{8}$/.test(e.markPrice))).toBe(true);
    expect((await get(`/fapi/v1/fundingRate?symbol=BTCUSDT&startTime=${Date.UTC(2024, 0, 10)}`)).json).toHaveLength(100);
    // The latest 3 up to now (Mar 1 12:00:30); some events land a few ms after the hour, as Binance's do.
    const latest = (await get('/fapi/v1/fundingRate?symbol=BTCUSDT&limit=3')).json;
    expect(latest.map((e: any) => Math.floor(e.fundingTime / 1000) * 1000)).toEqual([Date.UTC(2024, 1, 29, 16), Date.UTC(2024, 2, 1, 0), Date.UTC(2024, 2, 1, 8)]);
    expect((await get('/fapi/v1/fundingRate?symbol=BTCUSDT&limit=1001')).json.code).toBe(-1130);
    expect((await get('/fapi/v1/fundingRate?symbol=NOPE')).json.code).toBe(-1121);
  });

  it('USD-M funding rates have their own 500 requests per 5 minutes, which exchangeInfo does not declare', async () => {
    let t = 1_000_000;
    await start({ venue: 'binanceusdm', rateLimits: { now: () => t } });
    expect((await get('/fapi/v1/exchangeInfo')).json.rateLimits).toEqual([{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 }]);
    const q = '/fapi/v1/fundingRate?symbol=BTCUSDT&limit=1';
    const first = await Promise.all(Array.from({ length: 500 }, () => get(q)));
    expect(first.map((r) => r.status)).toEqual(Array(500).fill(200));
    const over = await get(q);
    expect(over.status).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(200); // the oldest of the 500 leaves the window in 5 minutes
    expect(over.headers['x-mbx-used-weight-1m']).toBe('501'); // no header of its own; the IP's weight counts them (and exchangeInfo's 1)
    t += 5 * 60_000;
    expect((await get(q)).status).toBe(200);
    // other paths never count against it
    for (let i = 0; i < 600; i++) expect((await get('/fapi/v1/klines?symbol=BTCUSDT&interval=1h&limit=1')).status).toBe(200);
  });
});
