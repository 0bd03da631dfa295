// End to end with the built daemon: real worker threads, real LMDB on disk,
// the mock exchange over loopback.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../storage/open.js';
import { logLines, manifestFindings, readStream, runCandlekeep, servedClosed } from '../support/daemon-harness.js';
import { MockExchange } from '../support/mock-exchange.js';
import { LISTING_AND_MAINTENANCE, listingAndMaintenance, REAL_MONTH_CSV, realMonth } from '../support/scenarios.js';

const { now: NOW, start: START_MS, maintFrom: MAINT_FROM, maintTo: MAINT_TO } = LISTING_AND_MAINTENANCE;

describe('backfill end to end', () => {
  let mock: MockExchange;
  let dir: string;
  let cfg: string;

  beforeAll(async () => {
    ({ mock, dir, cfg } = await listingAndMaintenance());
  });
  afterAll(async () => mock.stop());

  it('stores exactly what the mock served, records listing and maintenance gaps, never an open candle as final', async () => {
    const r = await runCandlekeep(['backfill', '--config', cfg]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // The exchange clock is measured once per worker thread (one thread per core, at most one per stream), not once per stream.
    expect(mock.log.filter((e) => e.path === '/api/v3/time').length).toBeLessThanOrEqual(Math.min(availableParallelism(), 4));
    const root = join(dir, 'data');
    expect(manifestFindings(root)).toEqual([]);
    for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
      for (const interval of ['1m', '1h'] as const) {
        const stored = readStream(root, { venue: 'binance', endpoint: 'klines', symbol, interval });
        const served = servedClosed(mock, symbol, interval, START_MS, NOW);
        expect(stored.closedRows.length).toBe(served.length);
        expect(stored.closedRows).toEqual(served);
        // the tail window holds the open candle: partial, never ok
        const tail = stored.records[stored.records.length - 1]!;
        expect(tail.status).toBe('partial');
        expect(stored.records.slice(0, -1).every((x) => x.status === 'ok')).toBe(true);
      }
    }
    const btc1m = readStream(root, { venue: 'binance', endpoint: 'klines', symbol: 'BTCUSDT', interval: '1m' });
    // before listing (Feb 15 -> Feb 20): known-empty ok slices
    const beforeListing = btc1m.records.filter((x) => x.endMs < Date.UTC(2024, 1, 20));
    expect(beforeListing.length).toBeGreaterThanOrEqual(6);
    expect(beforeListing.every((x) => x.status === 'ok' && x.rows === 0 && x.gaps.length === 1)).toBe(true);
    // the maintenance window: a recorded gap and the candle before it cut short
    const maint = btc1m.records.find((x) => x.startMs <= MAINT_FROM && MAINT_FROM <= x.endMs)!;
    expect(maint.anomalies).toContain(`cut-short@${Date.UTC(2024, 1, 25, 10, 7)}`);
    expect(maint.gaps).toContainEqual([Date.UTC(2024, 1, 25, 10, 8), MAINT_TO]);
    const store = openStorage(root, { readOnly: true });
    const summary = store.storedSummary({ venue: 'binance', endpoint: 'klines', symbol: 'BTCUSDT', interval: '1m' })!;
    void store.close();
    expect(summary.total).toBe(btc1m.records.length);
    expect(summary.counts.ok + summary.counts.partial + summary.counts.failed).toBe(summary.total);
    expect(summary.emptySlices).toBe(beforeListing.length);
  });

  it('a restart after a complete backfill sends no request for any ok slice', async () => {
    const before = mock.log.length;
    const r = await runCandlekeep(['backfill', '--config', cfg]);
    expect(r.code).toBe(0);
    const klines = mock.log.slice(before).filter((e) => e.path === '/api/v3/klines');
    expect(klines).toEqual([]); // the clock stands still, so even the partial tails are not due
    const lines = logLines(r.stdout).filter((l) => l.msg === 'actor exited');
    expect(lines.map((l) => l.outcome)).toEqual(['caught-up', 'caught-up', 'caught-up', 'caught-up']);
  });

  it('refuses a second daemon on the same data root', async () => {
    const { spawnCandlekeep } = await import('../support/daemon-harness.js');
    mock.clock.run(1);
    const first = spawnCandlekeep(['run', '--config', cfg]);
    await new Promise((r) => setTimeout(r, 700));
    const second = await runCandlekeep(['backfill', '--config', cfg]);
    first.child.kill('SIGTERM');
    const firstResult = await first.done;
    mock.clock.hold();
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/is in use by candlekeep pid \d+ .*\[CK_ERR_DATA_ROOT_LOCKED\]/);
    expect(firstResult.code).toBe(0);
  });
});

describe('real Binance data', () => {
  it('a month from test/fixtures is stored row for row', async () => {
    const { mock, dir, cfg } = await realMonth();
    try {
      const r = await runCandlekeep(['backfill', '--config', cfg]);
      expect(r.code).toBe(0);
      const stored = readStream(join(dir, 'data'), { venue: 'binance', endpoint: 'klines', symbol: 'AVAXUSDT', interval: '1m' });
      const { CsvCandles } = await import('../support/csv-candles.js');
      const expected = new CsvCandles(REAL_MONTH_CSV).rows1m;
      expect(stored.closedRows.length).toBe(41_760);
      expect(stored.closedRows).toEqual(expected);
      expect(stored.records.every((x) => x.status === 'ok')).toBe(true);
    } finally {
      await mock.stop();
    }
  });
});
