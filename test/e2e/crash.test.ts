// Actor crashes, worker thread deaths and follow mode (kill -9 loops: reliability.test.ts).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLines, manifestFindings, readStream, runCandlekeep, spawnCandlekeep, tempDir, writeConfig } from '../support/daemon-harness.js';
import { MockClock } from '../support/mock-clock.js';
import { MockExchange } from '../support/mock-exchange.js';

const NOW = Date.UTC(2024, 3, 1, 0, 0, 30);
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const streamsOf = (dir: string) => SYMBOLS.map((symbol) => readStream(join(dir, 'data'), { venue: 'binance', endpoint: 'klines', symbol, interval: '1m' }));


describe('crash safety', () => {
  let mock: MockExchange;
  const config = (url: string) => ({
    venues: { binance: { baseUrl: url } },
    streams: [{ venue: 'binance', endpoint: 'klines', symbols: SYMBOLS, intervals: ['1m'], start: '2024-01-01' }],
  });

  beforeAll(async () => {
    mock = new MockExchange({ clock: new MockClock({ start: NOW, held: true }), symbols: SYMBOLS.map((symbol) => ({ symbol, listedAt: Date.UTC(2023, 0, 1) })) });
    await mock.start();
  });
  afterAll(async () => mock.stop());

  it('a crashing actor restarts alone; past its intensity its stream stops and the rest finish', async () => {
    const dir = tempDir();
    const cfg = writeConfig(dir, config(mock.url));
    const r = await runCandlekeep(['backfill', '--config', cfg], { CANDLEKEEP_TEST_CRASH: 'stream=binance:klines:BTCUSDT:1m;after=2;kind=throw' });
    expect(r.code).toBe(1);
    const lines = logLines(r.stdout);
    const of = (msg: string, stream: string) => lines.filter((l) => l.msg === msg && l.stream === stream).length;
    expect(of('actor restarted', 'binance:klines:BTCUSDT:1m')).toBe(5);
    expect(of('actor stopped: past its restart intensity', 'binance:klines:BTCUSDT:1m')).toBe(1);
    expect(of('actor crashed', 'binance:klines:ETHUSDT:1m')).toBe(0);
    expect(lines.find((l) => l.msg === 'actor exited' && l.stream === 'binance:klines:ETHUSDT:1m')?.outcome).toBe('caught-up');
    expect(manifestFindings(join(dir, 'data'))).toEqual([]);
  }, 60_000);

  it('a worker thread that dies has its actors restarted, and the backfill completes', async () => {
    const dir = tempDir();
    const cfg = writeConfig(dir, config(mock.url));
    const r = await runCandlekeep(['backfill', '--config', cfg], { CANDLEKEEP_TEST_CRASH: 'stream=binance:klines:BTCUSDT:1m;after=3;kind=exit;times=1' });
    expect(r.code).toBe(0);
    const lines = logLines(r.stdout);
    expect(lines.filter((l) => l.msg === 'actor restarted' && l.stream === 'binance:klines:BTCUSDT:1m')).toHaveLength(1);
    const clean = streamsOf(dir);
    expect(clean[0]!.records.every((x, i, all) => x.status === 'ok' || i === all.length - 1)).toBe(true);
  }, 60_000);
});

describe('follow mode', () => {
  it('stores each new candle after it closes, never before, and stops cleanly on SIGTERM', async () => {
    const start = Date.UTC(2024, 5, 1, 0, 0, 5);
    const clock = new MockClock({ start, speed: 30 }); // 30 s of exchange time per second
    const mock = new MockExchange({ clock, symbols: [{ symbol: 'BTCUSDT', listedAt: Date.UTC(2024, 0, 1) }] });
    await mock.start();
    try {
      const dir = tempDir();
      const cfg = writeConfig(dir, {
        venues: { binance: { baseUrl: mock.url } },
        streams: [{ venue: 'binance', endpoint: 'klines', symbols: ['BTCUSDT'], intervals: ['1m'], start: start - 20 * 60_000, limit: 5 }],
        fetcher: { settleMs: 500, timeSyncMs: 200 },
      });
      const run = spawnCandlekeep(['run', '--config', cfg]);
      await new Promise((r) => setTimeout(r, 12_000)); // ~6 minutes of exchange time
      const t0 = Date.now();
      run.child.kill('SIGTERM');
      const res = await run.done;
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(res.code).toBe(0);
      const now = clock.now();
      const stored = readStream(join(dir, 'data'), { venue: 'binance', endpoint: 'klines', symbol: 'BTCUSDT', interval: '1m' });
      const served = mock.klines('BTCUSDT', '1m', start - 5000 - 20 * 60_000, undefined, 1000, now).filter((r) => r[6] < now);
      // every candle stored as closed has the final values (none was taken before its close)
      expect(stored.closedRows).toEqual(served.slice(0, stored.closedRows.length));
      expect(stored.closedRows.length).toBeGreaterThanOrEqual(20 + 4);
      expect(served.length - stored.closedRows.length).toBeLessThanOrEqual(2);
      expect(manifestFindings(join(dir, 'data'))).toEqual([]);
    } finally {
      await mock.stop();
    }
  }, 60_000);
});
