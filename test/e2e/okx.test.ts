// OKX end to end: a venue with another protocol (envelope, newest first,
// `after`/`before`, `confirm`, errors inside HTTP 200) through the same
// fetcher, writer and storage; and a lagging cache that must not turn
// missing bars at the end of a just-closed window into a recorded gap.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestFindings, readStream, runCandlekeep, tempDir, writeConfig } from '../support/daemon-harness.js';
import { MockClock } from '../support/mock-clock.js';
import { MockOkx } from '../support/mock-okx.js';

const NOW = Date.UTC(2024, 2, 1, 12, 0, 30);
const START = Date.UTC(2024, 1, 28);
const MIN = 60_000;
const BTC = { venue: 'okx', endpoint: 'candles', symbol: 'BTC-USDT', interval: '1m' } as const;
// 100-bar windows from START: one of them is [10:20, 12:00), ended 30 s before NOW.
const LAST_CLOSED = { startMs: NOW - 30_000 - 100 * MIN, endMs: NOW - 30_001 };
const LATER = NOW + 65_000;

let mock: MockOkx;
let dir: string;
let cfg: string;

/** Every bar the exchange has confirmed by `now` in [from, now), oldest first, as rows of nine strings. */
function confirmed(interval: '1m' | '1h', from: number, now: number): string[][] {
  const step = interval === '1m' ? MIN : 60 * MIN;
  const out: string[][] = [];
  for (let t = from; t < now; t += 300 * step) out.push(...mock.candles('BTC-USDT', interval, String(t - 1), String(t + 300 * step), 300, now).reverse());
  return out.filter((r) => r[8] === '1');
}

beforeAll(async () => {
  mock = new MockOkx({ clock: new MockClock({ start: NOW, held: true }), symbols: [{ symbol: 'BTC-USDT', listedAt: Date.UTC(2024, 1, 29) }], staleEvery: 1, staleMs: 120_000 });
  await mock.start();
  dir = tempDir();
  cfg = writeConfig(dir, {
    venues: { okx: { baseUrl: mock.url } },
    streams: [{ venue: 'okx', endpoint: 'candles', symbols: ['BTC-USDT'], intervals: ['1m', '1h'], start: new Date(START).toISOString() }],
  });
});
afterAll(async () => mock.stop());

describe('OKX', () => {
  it('a lagging cache leaves the just-closed window partial, and the next fetch completes it', async () => {
    // Every answer comes from a cache two minutes behind: the window that closed 30 s ago lacks its last bars.
    const first = await runCandlekeep(['backfill', '--config', cfg]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const before = readStream(join(dir, 'data'), BTC).records.find((r) => r.startMs === LAST_CLOSED.startMs)!;
    expect([before.status, before.lastOpen, before.gaps]).toEqual(['partial', LAST_CLOSED.endMs + 1 - 3 * MIN, [[LAST_CLOSED.endMs + 1 - 2 * MIN, LAST_CLOSED.endMs + 1]]]);
    // Due again a minute after the fetch, by the exchange's clock as the daemon measured it (within a second of NOW).
    expect(before.nextDueAt! - (NOW + 60_000)).toBeGreaterThanOrEqual(0);
    expect(before.nextDueAt! - (NOW + 60_000)).toBeLessThan(1000);
    // The cache catches up; a minute later the window is due again.
    mock.staleEvery = 0;
    mock.clock.set(LATER);
    mock.clock.hold();
    const second = await runCandlekeep(['backfill', '--config', cfg]);
    expect(second.code).toBe(0);
    const after = readStream(join(dir, 'data'), BTC).records.find((r) => r.startMs === LAST_CLOSED.startMs)!;
    expect([after.status, after.rows, after.gaps]).toEqual(['ok', 100, []]);
  });

  it('stores every confirmed bar the exchange served, in order, with the listing gap recorded', () => {
    const root = join(dir, 'data');
    expect(manifestFindings(root)).toEqual([]);
    for (const interval of ['1m', '1h'] as const) {
      const stored = readStream(root, { ...BTC, interval });
      expect(stored.closedRows).toEqual(confirmed(interval, START, LATER));
      // Before the listing: each window there records its part of that day as known-empty.
      const listed = Date.UTC(2024, 1, 29);
      expect(stored.closedRows[0]![0]).toBe(String(listed));
      const covering = stored.records.filter((r) => r.startMs < listed);
      expect(covering.length).toBe(interval === '1m' ? 15 : 1); // 100-bar windows: 1440 minutes, or one 100-hour window
      expect(covering.every((r) => r.status === 'ok' || r.status === 'partial')).toBe(true);
      expect(covering.map((r) => r.gaps[0])).toEqual(covering.map((r) => [r.startMs, Math.min(r.endMs + 1, listed)]));
    }
    const requests = mock.log.filter((e) => e.path === '/api/v5/market/history-candles');
    expect(requests.every((e) => e.status === 200 && e.code === '0')).toBe(true);
    // One window per request: rows newer than `before` and older than `after`, both exclusive.
    expect(requests[0]!.params).toEqual({ instId: 'BTC-USDT', bar: expect.stringMatching(/^1(m|H)$/), after: expect.any(String), before: String(START - 1), limit: '100' });
  });

  it('verify, rebuild-manifest and export read the envelope', async () => {
    expect((await runCandlekeep(['verify', '--config', cfg])).code).toBe(0);
    expect((await runCandlekeep(['rebuild-manifest', '--config', cfg])).code).toBe(0);
    expect((await runCandlekeep(['verify', '--config', cfg])).code).toBe(0);
    const out = join(tempDir(), 'okx.csv');
    const r = await runCandlekeep(['export', '--config', cfg, '--stream', 'okx:candles:BTC-USDT:1h', '--format', 'csv', '--header', '--out', out]);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(['ts,open,high,low,close,vol,volCcy,volCcyQuote,confirm', ...confirmed('1h', START, LATER).map((x) => x.join(','))].join('\n') + '\n');
  });

  it('an instrument OKX does not list is refused at start with the closest listed one', async () => {
    const c = writeConfig(tempDir(), { venues: { okx: { baseUrl: mock.url } }, streams: [{ venue: 'okx', endpoint: 'candles', symbols: ['BTCUSDT'], intervals: ['1m'], start: '2024-02-29' }] });
    const r = await runCandlekeep(['backfill', '--config', c]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('okx does not list symbol BTCUSDT (did you mean BTC-USDT?)');
  });
});
