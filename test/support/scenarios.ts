// Shared test scenarios: mock exchanges and configs several suites use.
import { fileURLToPath } from 'node:url';
import { MockClock } from './mock-clock.js';
import { MockExchange } from './mock-exchange.js';
import { tempDir, writeConfig } from './daemon-harness.js';

/** Two symbols x (1m, 1h) from Feb 15 2024, BTCUSDT listed on Feb 20, a maintenance window on Feb 25, the clock held on Mar 1. */
export const LISTING_AND_MAINTENANCE = {
  now: Date.UTC(2024, 2, 1, 12, 0, 30),
  start: Date.UTC(2024, 1, 15),
  maintFrom: Date.UTC(2024, 1, 25, 10, 7, 30),
  maintTo: Date.UTC(2024, 1, 25, 12, 30),
} as const;

export async function listingAndMaintenance(): Promise<{ mock: MockExchange; dir: string; cfg: string }> {
  const s = LISTING_AND_MAINTENANCE;
  const mock = new MockExchange({
    clock: new MockClock({ start: s.now, held: true }),
    symbols: [{ symbol: 'BTCUSDT', listedAt: Date.UTC(2024, 1, 20) }, { symbol: 'ETHUSDT', listedAt: Date.UTC(2024, 1, 10) }],
    maintenance: [{ from: s.maintFrom, to: s.maintTo }],
  });
  await mock.start();
  const dir = tempDir();
  const cfg = writeConfig(dir, {
    venues: { binance: { baseUrl: mock.url } },
    streams: [{ venue: 'binance', endpoint: 'klines', symbols: ['BTCUSDT', 'ETHUSDT'], intervals: ['1m', '1h'], start: new Date(s.start).toISOString() }],
  });
  return { mock, dir, cfg };
}

/** A real month of Binance 1m klines (AVAXUSDT, February 2024, 41,760 rows), in the repo: test/fixtures/binance-spot-1m. */
export const REAL_MONTH_CSV = fileURLToPath(new URL('../fixtures/binance-spot-1m/AVAXUSDT-1m-2024-02.csv.gz', import.meta.url));

/** The mock serving REAL_MONTH_CSV, the clock held just after the month, and a config backfilling exactly that month. */
export async function realMonth(): Promise<{ mock: MockExchange; dir: string; cfg: string }> {
  const mock = new MockExchange({ clock: new MockClock({ start: Date.UTC(2024, 2, 1, 0, 1), held: true }), symbols: [{ symbol: 'AVAXUSDT', csv: REAL_MONTH_CSV }] });
  await mock.start();
  const dir = tempDir();
  const cfg = writeConfig(dir, {
    venues: { binance: { baseUrl: mock.url } },
    streams: [{ venue: 'binance', endpoint: 'klines', symbols: ['AVAXUSDT'], intervals: ['1m'], start: '2024-02-01', end: '2024-03-01' }],
  });
  return { mock, dir, cfg };
}
