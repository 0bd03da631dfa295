// The fault matrix: every fault the mock can inject, alone at 10-20% and then
// all together; each backfill must complete with exactly the clean data,
// nothing invalid committed and no actor stuck past its timeouts.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestFindings, readStream, runCandlekeep, servedClosed, tempDir, writeConfig } from '../support/daemon-harness.js';
import { MockClock } from '../support/mock-clock.js';
import { MockExchange } from '../support/mock-exchange.js';
import { FAULT_KINDS, type FaultKind } from '../support/mock-faults.js';

const NOW = Date.UTC(2024, 2, 1, 12, 0, 30);
const FROM = Date.UTC(2024, 1, 28, 12, 0);
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
/** A venue-wide pause per WAF block: keep it rarer than the per-request faults. */
const RATE: Partial<Record<FaultKind, number>> = { 'waf-403': 0.1 };

let mock: MockExchange;
beforeAll(async () => {
  mock = new MockExchange({
    clock: new MockClock({ start: NOW, held: true }),
    symbols: SYMBOLS.map((symbol) => ({ symbol, listedAt: Date.UTC(2024, 0, 1) })),
    faults: { delayMs: 2000, wafRetryAfterS: 1, seed: 11 },
  });
  await mock.start();
});
afterAll(async () => mock.stop());

async function backfillWith(rates: Partial<Record<FaultKind, number>>): Promise<{ faults: Map<string, number>; code: number | null; stderr: string }> {
  const dir = tempDir();
  const cfg = writeConfig(dir, {
    venues: { binance: { baseUrl: mock.url } },
    streams: [{ venue: 'binance', endpoint: 'klines', symbols: SYMBOLS, intervals: ['1m'], start: new Date(FROM).toISOString(), limit: 100 }],
    fetcher: { connectTimeoutMs: 1000, headersTimeoutMs: 300, bodyTimeoutMs: 300, maxAttempts: 40, concurrency: 3 },
  });
  const before = mock.log.length;
  mock.faults.setRates(rates);
  const r = await runCandlekeep(['backfill', '--config', cfg]);
  mock.faults.setRates({});
  const faults = new Map<string, number>();
  for (const e of mock.log.slice(before)) if (e.fault) faults.set(e.fault, (faults.get(e.fault) ?? 0) + 1);
  const root = join(dir, 'data');
  expect(manifestFindings(root)).toEqual([]);
  for (const symbol of SYMBOLS) {
    const stored = readStream(root, { venue: 'binance', endpoint: 'klines', symbol, interval: '1m' });
    expect(stored.closedRows).toEqual(servedClosed(mock, symbol, '1m', FROM, NOW));
    expect(stored.records.slice(0, -1).every((x) => x.status === 'ok')).toBe(true);
  }
  return { faults, code: r.code, stderr: r.stderr };
}

describe('fault matrix', () => {
  it.each(FAULT_KINDS)('%s alone: the backfill completes with the clean data', async (kind) => {
    const r = await backfillWith({ [kind]: RATE[kind] ?? 0.15 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.faults.get(kind) ?? 0).toBeGreaterThan(0);
  }, 60_000);

  it('every fault together: the backfill completes with the clean data', async () => {
    const rates = Object.fromEntries(FAULT_KINDS.map((k) => [k, k === 'waf-403' ? 0.01 : 0.02]));
    const r = await backfillWith(rates);
    expect(r.code).toBe(0);
    console.log(`faults injected: ${JSON.stringify(Object.fromEntries(r.faults))}`);
    expect(r.faults.size).toBeGreaterThanOrEqual(8);
  }, 120_000);
});
