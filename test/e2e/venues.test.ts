// The Binance family in one daemon: binance.com spot, Binance.US and USD-M
// futures, each served by its own mock playing that exchange. Same worker
// code for all three; what differs is data (paths, limits, weights).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestFindings, readStream, runCandlekeep, servedClosed, tempDir, writeConfig } from '../support/daemon-harness.js';
import { MockClock } from '../support/mock-clock.js';
import { MockExchange, type MockVenue } from '../support/mock-exchange.js';
import { fundingEvents } from '../support/synthetic-funding.js';

const NOW = Date.UTC(2024, 2, 1, 12, 0, 30);
const START = Date.UTC(2024, 1, 27);
const VENUES: MockVenue[] = ['binance', 'binanceus', 'binanceusdm'];
const LISTED = Date.UTC(2019, 8, 1);
const ref = (venue: string) => ({ venue, endpoint: 'klines', symbol: 'BTCUSDT', interval: '1m' } as const);
const FUNDING = { venue: 'binanceusdm', endpoint: 'fundingRate', symbol: 'BTCUSDT', interval: '8h' } as const;

const mocks = new Map<MockVenue, MockExchange>();
let dir: string;
let cfg: string;

beforeAll(async () => {
  for (const [i, venue] of VENUES.entries()) {
    // Different seeds: the three markets trade at different prices.
    const mock = new MockExchange({ venue, seed: i + 1, clock: new MockClock({ start: NOW, held: true }), symbols: [{ symbol: 'BTCUSDT', listedAt: LISTED }, { symbol: 'ETHUSDT', listedAt: LISTED, fundingEveryH: 4 }] });
    await mock.start();
    mocks.set(venue, mock);
  }
  dir = tempDir();
  cfg = writeConfig(dir, {
    venues: Object.fromEntries(VENUES.map((v) => [v, { baseUrl: mocks.get(v)!.url }])),
    streams: [
      ...VENUES.map((venue) => ({ venue, endpoint: 'klines', symbols: ['BTCUSDT'], intervals: ['1m'], start: new Date(START).toISOString() })),
      { venue: 'binanceusdm', endpoint: 'fundingRate', symbols: ['BTCUSDT'], intervals: ['8h'], start: '2019-01-01' },
    ],
  });
  const r = await runCandlekeep(['backfill', '--config', cfg]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}, 60_000);
afterAll(async () => {
  for (const m of mocks.values()) await m.stop();
});

const klineRequests = (venue: MockVenue) => mocks.get(venue)!.log.filter((e) => e.path.endsWith('/klines'));

describe('three Binance venues in one daemon', () => {
  it('stores each venue under its own name, exactly what that exchange served', () => {
    const root = join(dir, 'data');
    expect(manifestFindings(root)).toEqual([]);
    const stored = VENUES.map((v) => readStream(root, ref(v)));
    for (const [i, venue] of VENUES.entries()) {
      const served = servedClosed(mocks.get(venue)!, 'BTCUSDT', '1m', START, NOW);
      // USD-M rows end with something other than "0" (docs/exchanges.md); the mock sends the quote volume there.
      const expected = venue === 'binanceusdm' ? served.map((r) => [...r.slice(0, 11), r[7]]) : served;
      expect(stored[i]!.closedRows).toEqual(expected);
      expect(stored[i]!.records.every((r) => r.key.startsWith(`${venue}:klines:BTCUSDT:1m:`))).toBe(true);
    }
    expect(stored[0]!.closedRows.length).toBe(stored[1]!.closedRows.length);
    expect(stored[0]!.closedRows).not.toEqual(stored[1]!.closedRows);
    expect(stored[2]!.closedRows.every((r) => r[11] !== '0')).toBe(true);
  });

  it('asks each exchange for its own row count at its own weight', () => {
    const spot = klineRequests('binance');
    const us = klineRequests('binanceus');
    const usdm = klineRequests('binanceusdm');
    expect(spot.every((e) => e.params.limit === '1000' && e.weight === 2 && e.status === 200)).toBe(true);
    expect(us.every((e) => e.params.limit === '1000' && e.weight === 1 && e.status === 200)).toBe(true);
    // 499 rows weigh 2 on USD-M; 500-1000 weigh 5: 499 is the cheapest per candle.
    expect(usdm.every((e) => e.params.limit === '499' && e.weight === 2 && e.status === 200)).toBe(true);
    const minutes = (NOW - START) / 60_000;
    expect(spot.length).toBe(Math.ceil(minutes / 1000));
    expect(us.length).toBe(spot.length);
    expect(usdm.length).toBe(Math.ceil(minutes / 499));
    // Each venue's own paths only: nobody asked the futures host for /api/v3.
    expect(mocks.get('binanceusdm')!.log.every((e) => e.path.startsWith('/fapi/v1/'))).toBe(true);
    expect(mocks.get('binanceus')!.log.every((e) => e.path.startsWith('/api/v3/'))).toBe(true);
  });

  it('verify and rebuild-manifest read every venue with its own endpoint', async () => {
    const root = join(dir, 'data');
    const before = [...VENUES.map(ref), FUNDING].map((r) => readStream(root, r).records);
    expect((await runCandlekeep(['verify', '--config', cfg])).code).toBe(0);
    expect((await runCandlekeep(['rebuild-manifest', '--config', cfg])).code).toBe(0);
    const after = [...VENUES.map(ref), FUNDING].map((r) => readStream(root, r).records);
    expect(after.map((rs) => rs.map((r) => [r.key, r.status, r.rows]))).toEqual(before.map((rs) => rs.map((r) => [r.key, r.status, r.rows])));
    expect((await runCandlekeep(['verify', '--config', cfg])).code).toBe(0);
  });

  it('keeps USD-M funding rates: every event the exchange served, final windows ok, the last one partial', async () => {
    const stored = readStream(join(dir, 'data'), FUNDING);
    const served = fundingEvents(3, 'BTCUSDT', LISTED, 8, Date.UTC(2019, 0, 1), NOW, Infinity);
    expect(served.length).toBeGreaterThan(4500);
    expect(stored.closedRows).toEqual(served);
    expect(served.some((e) => e.fundingRate.startsWith('-')) && served.some((e) => e.markPrice === '') && served.some((e) => e.fundingTime % 1000 !== 0)).toBe(true);
    // 1000 x 8h windows from 2019-01-01 (about 333 days each); the last one reaches now.
    expect(stored.records.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'partial']);
    expect(stored.records[0]!.firstOpen).toBe(LISTED);
    const requests = mocks.get('binanceusdm')!.log.filter((e) => e.path === '/fapi/v1/fundingRate');
    expect(requests.every((e) => e.params.limit === '1000' && e.weight === 1 && e.status === 200)).toBe(true);
    expect(requests).toHaveLength(6);
    const out = join(tempDir(), 'funding.csv');
    const r = await runCandlekeep(['export', '--config', cfg, '--stream', 'binanceusdm:fundingRate:BTCUSDT:8h', '--format', 'csv', '--header', '--out', out]);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(['symbol,fundingTime,fundingRate,markPrice', ...served.map((e) => `BTCUSDT,${e.fundingTime},${e.fundingRate},${e.markPrice}`)].join('\n') + '\n');
    const pq = await runCandlekeep(['export', '--config', cfg, '--stream', 'binanceusdm:fundingRate:BTCUSDT:8h', '--format', 'parquet', '--out', join(tempDir(), 'f.parquet')]);
    expect([pq.code, pq.stderr.trim()]).toEqual([2, expect.stringContaining('--format parquet is for Binance klines; binanceusdm fundingRate exports to csv, ndjson or json-tree')]);
  });

  it('a symbol paying funding more often than its stream assumes is an error naming a shorter interval, not a silent cut', async () => {
    const d = tempDir();
    const c = writeConfig(d, {
      venues: { binanceusdm: { baseUrl: mocks.get('binanceusdm')!.url } },
      streams: [{ venue: 'binanceusdm', endpoint: 'fundingRate', symbols: ['ETHUSDT'], intervals: ['8h'], start: '2020-01-01', end: '2021-01-01' }],
      fetcher: { maxAttempts: 1 },
    });
    const r = await runCandlekeep(['backfill', '--config', c]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('window-overflow: 1000 events (the limit) end at');
    expect(r.stdout).toContain('this symbol pays funding more often than every 8h; use a shorter interval (1h, 4h, 8h)');
    // The first window (333 days, 2000 events at 4h) is not stored; the short second one (about 200) is.
    const stored = readStream(join(d, 'data'), { ...FUNDING, symbol: 'ETHUSDT' });
    expect(stored.records.map((x) => [x.status, x.hasPayload, x.error?.code ?? null])).toEqual([['failed', false, 'CK_ERR_VALIDATION'], ['ok', true, null]]);
  });

  it('exports each venue separately', async () => {
    const out = tempDir();
    const r = await runCandlekeep(['export', '--config', cfg, '--stream', '*:klines:BTCUSDT:1m', '--format', 'csv', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = VENUES.map((v) => readFileSync(join(out, `${v}_klines_BTCUSDT_1m.csv`), 'utf8'));
    expect(new Set(files).size).toBe(3);
    const usRows = readStream(join(dir, 'data'), ref('binanceus')).closedRows;
    expect(files[1]!.trimEnd().split('\n')[0]).toBe(usRows[0]!.join(','));
  });
});
