// Exchange etiquette against the mock's real per-IP accounting: one shared
// budget per venue, 429/418/403 handling, the start-up symbol check.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manifestFindings, readStream, runCandlekeep, servedClosed, spawnCandlekeep, tempDir, writeConfig } from '../support/daemon-harness.js';
import { MockClock } from '../support/mock-clock.js';
import { MockExchange, type RequestLogEntry } from '../support/mock-exchange.js';
import type { RateLimitDecl } from '../support/mock-rate-limits.js';

const NOW = Date.UTC(2024, 2, 1, 12, 0, 30);
const DAY = 86_400_000;
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT', 'XRPUSDT', 'ADAUSDT', 'DOGEUSDT', 'AVAXUSDT'];
/** Binance's 6000 per minute scaled down in time and size. */
const SMALL: RateLimitDecl[] = [
  { rateLimitType: 'REQUEST_WEIGHT', interval: 'SECOND', intervalNum: 2, limit: 600 },
  { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 300_000 },
];
const WINDOW_MS = 2000;
const CAP = 540; // 600 x the default maxBudgetShare 0.9

let mock: MockExchange | null = null;
afterEach(async () => {
  await mock?.stop();
  mock = null;
});

async function startMock(limits = SMALL): Promise<MockExchange> {
  mock = new MockExchange({
    clock: new MockClock({ start: NOW, held: true }),
    symbols: SYMBOLS.map((symbol) => ({ symbol, listedAt: Date.UTC(2024, 0, 1) })),
    rateLimits: { limits, banBaseMs: 60_000 },
  });
  await mock.start();
  return mock;
}

function config(m: MockExchange, days: number, extra: Record<string, unknown> = {}): { dir: string; cfg: string; from: number } {
  const dir = tempDir();
  const from = NOW - 30_000 - days * DAY; // a whole minute: slices start on candle opens
  const cfg = writeConfig(dir, {
    venues: { binance: { baseUrl: m.url } },
    streams: [{ venue: 'binance', endpoint: 'klines', symbols: SYMBOLS, intervals: ['1m'], start: new Date(from).toISOString(), limit: 50 }],
    ...extra,
  });
  return { dir, cfg, from };
}

function expectComplete(m: MockExchange, dir: string, from: number, symbols = SYMBOLS): void {
  const root = join(dir, 'data');
  expect(manifestFindings(root)).toEqual([]);
  for (const symbol of symbols) {
    const stored = readStream(root, { venue: 'binance', endpoint: 'klines', symbol, interval: '1m' });
    expect(stored.closedRows).toEqual(servedClosed(m, symbol, '1m', from, NOW));
  }
}

function statuses(log: RequestLogEntry[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const e of log) out[e.status] = (out[e.status] ?? 0) + 1;
  return out;
}

/** Weight the exchange counted per window of the busy period, as a share of the cap. */
function budgetUse(log: RequestLogEntry[]): { weight: number; seconds: number; share: number } {
  const data = log.filter((e) => e.path === '/api/v3/klines');
  const first = data[0]!.at;
  const last = data[data.length - 1]!.at;
  const weight = log.filter((e) => e.at >= first && e.at <= last && e.status !== 429 && e.status !== 418).reduce((a, e) => a + e.weight, 0);
  const windows = (last - first) / WINDOW_MS;
  return { weight, seconds: (last - first) / 1000, share: weight / (windows * CAP) };
}

describe('one budget per venue', () => {
  it('8 streams on 4 threads use at least 90% of the budget and are never told off', async () => {
    const m = await startMock();
    const { dir, cfg, from } = config(m, 6);
    const r = await runCandlekeep(['backfill', '--config', cfg]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const counts = statuses(m.log);
    expect(counts[429] ?? 0).toBe(0);
    expect(counts[418] ?? 0).toBe(0);
    const use = budgetUse(m.log);
    console.log(`budget use: ${use.weight} weight in ${use.seconds.toFixed(1)} s = ${(use.share * 100).toFixed(1)}% of the budget (${CAP}/${WINDOW_MS} ms)`);
    expect(use.seconds).toBeGreaterThan(4 * WINDOW_MS / 1000);
    expect(use.share).toBeGreaterThanOrEqual(0.9);
    expectComplete(m, dir, from);
  }, 120_000);

  it('shrinks when another program on the same IP spends half the budget: still zero 429', async () => {
    const m = await startMock();
    const { dir, cfg, from } = config(m, 3);
    const { child, done } = spawnCandlekeep(['backfill', '--config', cfg]);
    // The other program: 300 weight per 2 s window, evenly (klines weight 2 every 13.3 ms).
    let other = 0;
    const otherStatuses: number[] = [];
    const url = `${m.url}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1`;
    const timer = setInterval(() => {
      other += 2;
      fetch(url).then((res) => {
        otherStatuses.push(res.status);
        return res.arrayBuffer();
      }).catch(() => otherStatuses.push(-1));
    }, WINDOW_MS / 150);
    let r;
    try {
      r = await done;
    } finally {
      clearInterval(timer);
      child.kill('SIGKILL');
    }
    expect(r.code).toBe(0);
    const counts = statuses(m.log);
    console.log(`with another client spending ${other} weight: statuses ${JSON.stringify(counts)}`);
    expect(counts[429] ?? 0).toBe(0);
    expect(counts[418] ?? 0).toBe(0);
    expect(otherStatuses.length).toBeGreaterThan(100);
    expectComplete(m, dir, from);
  }, 120_000);
});

describe('being told off', () => {
  it('a 429 with Retry-After pauses every actor of the venue for that long, and no 418 follows', async () => {
    const m = await startMock(SMALL.map((l) => ({ ...l, limit: l.limit * 100 })));
    const { dir, cfg, from } = config(m, 2);
    const { done } = spawnCandlekeep(['backfill', '--config', cfg]);
    await waitFor(() => m.log.filter((e) => e.path === '/api/v3/klines').length > 20);
    m.limits.force({ kind: '429', retryAfterS: 2 });
    const r = await done;
    expect(r.code).toBe(0);
    const first429 = m.log.find((e) => e.status === 429)!;
    expect(first429).toBeDefined();
    const inside = m.log.filter((e) => e.at > first429.at + 50 && e.at < first429.at + 2000);
    expect(inside).toEqual([]);
    expect(m.log.some((e) => e.at >= first429.at + 2000)).toBe(true);
    expect(statuses(m.log)[418] ?? 0).toBe(0);
    expect(r.stdout).toMatch(/rate limit hit \(429\): every stream of the venue pauses/);
    expectComplete(m, dir, from);
  }, 60_000);

  it('a 418 stops the venue until the ban ends, says so loudly, then resumes and completes', async () => {
    const m = await startMock(SMALL.map((l) => ({ ...l, limit: l.limit * 100 })));
    const { dir, cfg, from } = config(m, 2);
    const { done } = spawnCandlekeep(['backfill', '--config', cfg]);
    await waitFor(() => m.log.filter((e) => e.path === '/api/v3/klines').length > 20);
    m.limits.force({ kind: '418', banMs: 3000 });
    const r = await done;
    expect(r.code).toBe(0);
    const ban = m.log.find((e) => e.status === 418)!;
    expect(ban).toBeDefined();
    expect(m.log.filter((e) => e.at > ban.at + 50 && e.at < ban.at + 3000)).toEqual([]);
    const line = r.stdout.split('\n').find((l) => l.includes('IP BANNED'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ level: 50, code: 'CK_ERR_IP_BANNED', venue: 'binance' });
    expectComplete(m, dir, from);
  }, 60_000);

  it('a 403 from the firewall pauses the venue for its Retry-After', async () => {
    const m = await startMock(SMALL.map((l) => ({ ...l, limit: l.limit * 100 })));
    m.faults.wafRetryAfterS = 1;
    const { dir, cfg, from } = config(m, 2);
    const { done } = spawnCandlekeep(['backfill', '--config', cfg]);
    await waitFor(() => m.log.filter((e) => e.path === '/api/v3/klines').length > 20);
    m.faults.script('waf-403');
    const r = await done;
    expect(r.code).toBe(0);
    const waf = m.log.find((e) => e.status === 403)!;
    expect(m.log.filter((e) => e.at > waf.at + 50 && e.at < waf.at + 1000)).toEqual([]);
    expectComplete(m, dir, from);
  }, 60_000);
});

describe('start-up check', () => {
  it('an unknown symbol is one line naming it with the closest listed symbol, exit 2, nothing written', async () => {
    const m = await startMock();
    const dir = tempDir();
    const cfg = writeConfig(dir, {
      venues: { binance: { baseUrl: m.url } },
      streams: [{ venue: 'binance', endpoint: 'klines', symbols: ['BTCUSDT', 'ETHUSDX'], intervals: ['1m'], start: '2024-02-28' }],
    });
    const r = await runCandlekeep(['backfill', '--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['candlekeep: binance does not list symbol ETHUSDX (did you mean ETHUSDT?) [CK_ERR_UNKNOWN_SYMBOL]']);
    expect(existsSync(join(dir, 'data', 'candlekeep.lmdb'))).toBe(false);
    expect(m.log.filter((e) => e.path === '/api/v3/klines')).toEqual([]);
  });

  it('a symbol that disappears while running stops only its own streams, naming it', async () => {
    const m = await startMock(SMALL.map((l) => ({ ...l, limit: l.limit * 100 })));
    const { dir, cfg, from } = config(m, 2);
    const { done } = spawnCandlekeep(['backfill', '--config', cfg]);
    await waitFor(() => m.log.filter((e) => e.path === '/api/v3/klines').length > 10);
    m.delist('DOGEUSDT');
    const r = await done;
    expect(r.code).toBe(1);
    const failed = r.stdout.split('\n').filter((l) => l.includes('"stream failed"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ symbol: 'DOGEUSDT', code: 'CK_ERR_UNKNOWN_SYMBOL' });
    expect(String(failed[0]!.error)).toContain('DOGEUSDT');
    // -1121 is permanent: a handful of requests, not a hot loop
    const after = m.log.filter((e) => e.params.symbol === 'DOGEUSDT' && e.status === 400);
    expect(after.length).toBeLessThanOrEqual(4);
    expectComplete(m, dir, from, SYMBOLS.filter((s) => s !== 'DOGEUSDT'));
  }, 60_000);
});

async function waitFor(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
