// Shared test scenarios: one mock exchange and config several suites use.
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
