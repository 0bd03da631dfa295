// The crash suite: SIGKILL at random moments during backfill and follow
// mode while the mock injects faults, and right before and right after LMDB
// commits; verify after every restart; the final export byte-identical to a
// clean run's. Also a full disk (simulated at the storage layer by a test
// entry point, test/support/disk-full-main.ts).
// `npm run test:crash` runs it long (CK_CRASH_KILLS, default 60 there).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../storage/open.js';
import { verifyStore } from '../../storage/verify.js';
import { daemonUrl, DISK_FULL_MAIN, runCandlekeep, spawnCandlekeep, tempDir, waitUntil, writeConfig } from '../support/daemon-harness.js';
import { rng } from '../support/kline-row.js';
import { MockClock } from '../support/mock-clock.js';
import { MockExchange } from '../support/mock-exchange.js';
import { FAULT_KINDS } from '../support/mock-faults.js';

const KILLS = Number(process.env.CK_CRASH_KILLS ?? 24);
const NOW = Date.UTC(2024, 3, 1, 0, 0, 30);
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const FAULTS = Object.fromEntries(FAULT_KINDS.map((k) => [k, k === 'waf-403' ? 0.003 : 0.01]));

let mock: MockExchange;
beforeAll(async () => {
  mock = new MockExchange({
    clock: new MockClock({ start: NOW, held: true }),
    symbols: SYMBOLS.map((symbol) => ({ symbol, listedAt: Date.UTC(2023, 0, 1) })),
    faults: { delayMs: 1500, wafRetryAfterS: 1, seed: 5 },
  });
  await mock.start();
});
afterAll(async () => mock.stop());

function config(dir: string, start = '2024-01-01'): string {
  return writeConfig(dir, {
    venues: { binance: { baseUrl: mock.url } },
    streams: [{ venue: 'binance', endpoint: 'klines', symbols: SYMBOLS, intervals: ['1m', '1h'], start }],
    fetcher: { connectTimeoutMs: 1000, headersTimeoutMs: 400, bodyTimeoutMs: 400, maxAttempts: 50, settleMs: 200 },
  });
}

/** What `verify` calls corrupt (gaps are expected mid-backfill). */
function corruptFindings(dir: string): unknown[] {
  if (!existsSync(join(dir, 'data', 'candlekeep.lmdb'))) return []; // killed before the store was created
  const store = openStorage(join(dir, 'data'), { readOnly: true });
  try {
    return verifyStore(store).findings.filter((f) => f.kind === 'corrupt');
  } finally {
    void store.close();
  }
}

async function exportAll(dir: string): Promise<Record<string, string>> {
  const out = tempDir('ck-export-');
  const r = await runCandlekeep(['export', '--data-root', join(dir, 'data'), '--stream', 'binance:klines:*:*', '--format', 'csv', '--out', out]);
  expect(r.code).toBe(0);
  const files: Record<string, string> = {};
  for (const symbol of SYMBOLS) for (const i of ['1m', '1h']) files[`${symbol}_${i}`] = readFileSync(join(out, `binance_klines_${symbol}_${i}.csv`), 'utf8');
  rmSync(out, { recursive: true, force: true });
  return files;
}

/** A clean backfill from `start` at the mock's current time exports byte for byte what `dir` holds; returns the exports. */
async function expectSameAsCleanRun(dir: string, start?: string): Promise<Record<string, string>> {
  const clean = tempDir();
  expect((await runCandlekeep(['backfill', '--config', config(clean, start)])).code).toBe(0);
  const expected = await exportAll(clean);
  const actual = await exportAll(dir);
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const k of Object.keys(expected)) expect(actual[k] === expected[k], `${k} differs from a clean run`).toBe(true);
  return actual;
}

describe('crash suite', () => {
  it(`${KILLS} SIGKILLs in backfill and follow mode with faults: verify clean after each, export identical to a clean run`, async () => {
    const dir = tempDir();
    const cfg = config(dir);
    const random = rng(7);
    let killed = 0;
    mock.faults.setRates(FAULTS);
    for (let k = 0; k < KILLS; k++) {
      const follow = k >= KILLS * 0.6; // the last 40% in run mode, with the exchange's clock moving
      if (follow) mock.clock.run(20);
      const run = spawnCandlekeep([follow ? 'run' : 'backfill', '--config', cfg]);
      await new Promise((r) => setTimeout(r, 200 + Math.floor(random() * 900)));
      run.child.kill('SIGKILL');
      const res = await run.done;
      if (follow) mock.clock.hold();
      if (res.signal === 'SIGKILL') killed++;
      expect(corruptFindings(dir), `after kill ${k}`).toEqual([]);
    }
    mock.faults.setRates({});
    expect(killed).toBeGreaterThanOrEqual(Math.floor(KILLS * 0.8));
    const final = await runCandlekeep(['backfill', '--config', cfg]);
    expect(final.code).toBe(0);
    const v = await runCandlekeep(['verify', '--data-root', join(dir, 'data')]);
    expect(v.stdout).toMatch(/checked: clean$/m);
    expect(v.code).toBe(0);
    // the clean run, at the same exchange time
    const b = await expectSameAsCleanRun(dir);
    expect(b.BTCUSDT_1m!.length).toBeGreaterThan(5_000_000);
    console.log(`crash suite: ${killed} SIGKILLs (${KILLS} runs), verify clean after each, export identical to a clean run`);
  }, 600_000);

  it.each(['before:1', 'after:1', 'before:3', 'after:3', 'before:8', 'after:8'])('SIGKILL right %s LMDB commits: nothing half-written, the rest is fetched on restart', async (point) => {
    const dir = tempDir();
    const cfg = config(dir, '2024-03-20');
    const r = await runCandlekeep(['backfill', '--config', cfg], { CANDLEKEEP_TEST_KILL_AT_COMMIT: point });
    expect(r.signal).toBe('SIGKILL');
    expect(corruptFindings(dir)).toEqual([]);
    const store = openStorage(join(dir, 'data'), { readOnly: true });
    const total = SYMBOLS.flatMap((symbol) => (['1m', '1h'] as const).map((interval) => store.storedSummary({ venue: 'binance', endpoint: 'klines', symbol, interval })?.total ?? 0)).reduce((x, y) => x + y, 0);
    void store.close();
    const [when, n] = point.split(':') as ['before' | 'after', string];
    // before the nth transaction, n-1 are stored; after it, n are (each holds at least one slice)
    expect(total).toBeGreaterThanOrEqual(when === 'before' ? Number(n) - 1 : Number(n));
    if (point === 'before:1') expect(total).toBe(0); // killed before the first transaction: nothing at all
    const again = await runCandlekeep(['backfill', '--config', cfg]);
    expect(again.code).toBe(0);
    expect(corruptFindings(dir)).toEqual([]);
    await expectSameAsCleanRun(dir, '2024-03-20');
  }, 120_000);
});

describe('disk full', () => {
  it('says so in the log, the metrics and /health, stores nothing half-written, and resumes when space returns', async () => {
    const dir = tempDir();
    const flag = join(dir, 'disk-full');
    const cfg = config(dir, '2024-02-01');
    writeFileSync(flag, '');
    const run = spawnCandlekeep(['backfill', '--config', cfg], { CANDLEKEEP_TEST_ENOSPC: flag }, DISK_FULL_MAIN);
    const url = await daemonUrl(run.output);
    const health = await waitUntil(async () => {
      const h = (await (await fetch(`${url}/health`)).json()) as { status: string; reasons: string[] };
      return h.status === 'fail' ? h : null;
    }, '/health to fail', 10_000, 100);
    expect(health.status).toBe('fail');
    expect(health.reasons[0]).toMatch(/^storage: CK_ERR_STORAGE: LMDB write failed, nothing of this batch was stored: ENOSPC/);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^candlekeep_storage_error 1$/m);
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    expect(run.output()).toContain('"msg":"storage write failed; the slices will be fetched again"');
    expect(corruptFindings(dir)).toEqual([]);
    rmSync(flag);
    const res = await run.done;
    expect(res.code).toBe(0);
    expect(existsSync(flag)).toBe(false);
    expect(corruptFindings(dir)).toEqual([]);
    await expectSameAsCleanRun(dir, '2024-02-01');
  }, 120_000);
});

describe('the http server under abuse', () => {
  it('unknown paths and methods, huge headers and slow clients leave ingestion unaffected', async () => {
    const { connect } = await import('node:net');
    const dir = tempDir();
    const cfg = config(dir, '2024-03-01');
    const run = spawnCandlekeep(['backfill', '--config', cfg]);
    const url = new URL(await daemonUrl(run.output));
    const statuses: number[] = [];
    const slow = Array.from({ length: 20 }, () => {
      const s = connect(Number(url.port), url.hostname);
      s.on('error', () => {});
      s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n'); // and never finish the headers
      return s;
    });
    const junk = (async () => {
      for (let i = 0; i < 200; i++) {
        const method = ['GET', 'POST', 'DELETE', 'PUT', 'OPTIONS'][i % 5]!;
        const path = ['/nope', '/metrics', '/health/../../etc', `/${'x'.repeat(2000)}`, '/livez'][i % 5]!;
        const headers = i % 7 === 0 ? { 'x-big': 'y'.repeat(32 * 1024) } : undefined;
        try {
          statuses.push((await fetch(`${url.origin}${path}`, { method, headers })).status);
        } catch {
          statuses.push(-1);
        }
      }
    })();
    const [res] = await Promise.all([run.done, junk]);
    for (const s of slow) s.destroy();
    expect(res.code).toBe(0);
    expect(statuses).toContain(404);
    expect(statuses).toContain(405);
    expect(statuses).toContain(431);
    expect(corruptFindings(dir)).toEqual([]);
    await expectSameAsCleanRun(dir, '2024-03-01');
  }, 120_000);
});
