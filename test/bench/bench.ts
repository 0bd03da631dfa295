// `npm run bench`: candlekeep against baselines measured in the same run, on
// the same mock exchange (its own process, pre-rendered responses). Prints a
// table of medians and ratios and writes test/bench/results.json.
//   1. unthrottled backfill of one symbol-year of 1m klines vs undici
//      fetch-only and ccxt's fetchOHLCV loop (rate limiter off)
//   2. throttled backfill on Binance's limits scaled in time: budget use, 429s
//      (and ccxt with its default rate limiter)
//   3. scale: 1002 streams following in real time: RSS, CPU, close->fetch latency
//   4. restart over a manifest of 1M slices: time to the first new request
//   5. export: rows/s to CSV and Parquet
import { fileURLToPath } from 'node:url';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { exportStream } from '../../storage/export/export.js';
import { openStorage } from '../../storage/open.js';
import type { CommitItem } from '../../storage/port.js';
import { listStreams } from '../../storage/stream-reader.js';
import { sliceAt, type StreamGeometry } from '../../src/slices.js';
import { MAIN, tempDir, writeConfig } from '../support/daemon-harness.js';
import type { RateLimitDecl } from '../support/mock-rate-limits.js';
import { ccxtLoop, YEAR_ROWS } from './baselines.js';
import { followMany } from './follow-many.js';
import type { BenchMockOptions, BenchMockStats } from './mock-process.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ONLY = process.env.BENCH_ONLY?.split(',');
const HUGE: RateLimitDecl[] = [
  { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 100_000_000 },
  { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 100_000_000 },
];
const results: Record<string, unknown> = {};
const table: Array<[string, string, string]> = [];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}


const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

class BenchMock {
  private constructor(private readonly child: ChildProcess, readonly url: string) {}

  static start(o: BenchMockOptions): Promise<BenchMock> {
    const child = fork(fileURLToPath(new URL('./mock-process.ts', import.meta.url)), [JSON.stringify(o)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('message', (m: { url: string }) => resolve(new BenchMock(child, m.url)));
      child.once('exit', (code) => reject(new Error(`mock exited ${code}`)));
    });
  }

  private ask<T>(msg: Record<string, unknown>, type: string): Promise<T> {
    return new Promise((resolve) => {
      const on = (m: { type: string; stats?: T }) => {
        if (m.type !== type) return;
        this.child.off('message', on);
        resolve((m.stats ?? m) as T);
      };
      this.child.on('message', on);
      this.child.send(msg);
    });
  }

  stats(withTimes = false): Promise<BenchMockStats> {
    return this.ask({ type: 'stats', withTimes }, 'stats');
  }

  reset(): Promise<unknown> {
    return this.ask({ type: 'reset' }, 'reset');
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.send({ type: 'stop' });
    });
  }
}

interface DaemonRun {
  /** Local clock (Date.now) when the process was spawned and when it exited: comparable with the mock's request times. */
  startedAt: number;
  endedAt: number;
  wallMs: number;
  cpuMs: number;
  maxRssKb: number;
  code: number | null;
  out: string;
}

function runDaemon(args: string[]): Promise<DaemonRun> {
  const t0 = performance.now();
  const startedAt = Date.now();
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => {
    const wallMs = performance.now() - t0;
    const last = out.split('\n').find((l) => l.includes('"msg":"candlekeep stopped"'));
    const u = last ? (JSON.parse(last) as { cpuUserMs: number; cpuSystemMs: number; maxRssKb: number }) : { cpuUserMs: NaN, cpuSystemMs: NaN, maxRssKb: NaN };
    resolve({ startedAt, endedAt: Date.now(), wallMs, cpuMs: u.cpuUserMs + u.cpuSystemMs, maxRssKb: u.maxRssKb, code, out });
  }));
}

function symbolYear(url: string, dir: string, extra: Record<string, unknown> = {}): string {
  return writeConfig(dir, {
    venues: { binance: { baseUrl: url } },
    streams: [{ venue: 'binance', endpoint: 'klines', symbols: ['BTCUSDT'], intervals: ['1m'], start: '2023-01-01', end: '2024-01-01' }],
    fetcher: { concurrency: 8, maxUncommitted: 16 },
    logging: { level: 'info' },
    ...extra,
  });
}

/** One baseline run in a fresh process (test/bench/baselines.ts), like each candlekeep run. */
function baseline(mode: 'fetch-only' | 'ccxt', url: string): Promise<{ ms: number; rows: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./baselines.ts', import.meta.url)), mode, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => child.on('close', (code) => {
    if (code !== 0) reject(new Error(`${mode} baseline exited ${code}`));
    else resolve(JSON.parse(out.trim().split('\n').pop()!) as { ms: number; rows: number });
  }));
}

/**
 * Every measured run of each contender is a fresh process. The baselines'
 * clocks start once they are set up (undici's agent exists, ccxt has loaded
 * its markets), so candlekeep's starts at its first kline request as the
 * mock saw it, and stops when the process has exited (every commit durable,
 * LMDB closed). Its start-up (spawn -> first request: module
 * loading, exchangeInfo, LMDB, worker threads) is measured on its own, and so
 * is its CPU: the whole process, and per row net of start-up (a second run
 * over the completed store does all the start-up work and fetches nothing).
 */
async function caseUnthrottled(): Promise<string> {
  const mock = await BenchMock.start({ symbols: [{ symbol: 'BTCUSDT', listedAt: Date.UTC(2017, 7, 17) }], clock: { start: Date.UTC(2024, 0, 2), held: true }, limits: HUGE, cacheResponses: true });
  await baseline('fetch-only', mock.url); // renders every response once (not timed)
  await baseline('ccxt', mock.url); // and ccxt's (its URLs carry no endTime)
  const warmDir = tempDir('ck-bench-');
  await runDaemon(['backfill', '--config', symbolYear(mock.url, warmDir)]); // the baselines had a warm-up run; so does candlekeep (file cache)
  rmSync(warmDir, { recursive: true, force: true });
  const fetchMs: number[] = [];
  const ck: Array<DaemonRun & { startupMs: number; workMs: number; idleCpuMs: number }> = [];
  const ccxt: number[] = [];
  let lastRoot = '';
  for (let run = 0; run < RUNS; run++) {
    fetchMs.push((await baseline('fetch-only', mock.url)).ms);
    const dir = tempDir('ck-bench-');
    const cfg = symbolYear(mock.url, dir);
    await mock.reset();
    const r = await runDaemon(['backfill', '--config', cfg]);
    if (r.code !== 0) throw new Error(`candlekeep backfill failed: ${r.out.slice(-2000)}`);
    const st = await mock.stats();
    const idle = await runDaemon(['backfill', '--config', cfg]);
    if (idle.code !== 0) throw new Error(`candlekeep idle run failed: ${idle.out.slice(-2000)}`);
    ck.push({ ...r, startupMs: st.firstAt! - r.startedAt, workMs: r.endedAt - st.firstAt!, idleCpuMs: idle.cpuMs });
    if (lastRoot) rmSync(join(lastRoot, '..'), { recursive: true, force: true });
    lastRoot = join(dir, 'data');
    const c = await baseline('ccxt', mock.url);
    if (c.rows !== YEAR_ROWS) throw new Error(`ccxt fetched ${c.rows} rows`);
    ccxt.push(c.ms);
  }
  await mock.stop();
  const store = openStorage(lastRoot, { readOnly: true });
  const stored = listStreams(store)[0]!.summary.rows;
  await store.close();
  if (stored !== YEAR_ROWS) throw new Error(`candlekeep stored ${stored} rows`);
  const perS = (ms: number) => YEAR_ROWS / (ms / 1000);
  const fetchRate = perS(median(fetchMs));
  const ckRate = perS(median(ck.map((r) => r.workMs)));
  const ckWholeRate = perS(median(ck.map((r) => r.wallMs)));
  const ccxtRate = perS(median(ccxt));
  const millions = YEAR_ROWS / 1e6;
  const cpuPerM = median(ck.map((r) => r.cpuMs)) / 1000 / millions;
  const netCpuPerM = median(ck.map((r) => r.cpuMs - r.idleCpuMs)) / 1000 / millions;
  const startup = median(ck.map((r) => r.startupMs));
  const startupCpu = median(ck.map((r) => r.idleCpuMs));
  const rss = median(ck.map((r) => r.maxRssKb)) / 1024;
  // Ratios are paired: each run's three measurements are taken back to back, and the machine's speed drifts between runs.
  const toFetchOnly = median(ck.map((r, i) => fetchMs[i]! / r.workMs));
  const toCcxt = median(ck.map((r, i) => ccxt[i]! / r.workMs));
  results.unthrottled = {
    rows: YEAR_ROWS, fetchOnlyRowsPerS: fetchRate, candlekeepRowsPerS: ckRate, candlekeepWholeProcessRowsPerS: ckWholeRate, ccxtRowsPerS: ccxtRate,
    ratioToFetchOnly: toFetchOnly, ratioToCcxt: toCcxt, cpuSecondsPerMillionRows: netCpuPerM, cpuSecondsPerMillionRowsWholeProcess: cpuPerM,
    startupMs: startup, startupCpuMs: startupCpu, peakRssMiB: rss,
    ms: { fetchOnly: fetchMs, candlekeepWork: ck.map((r) => r.workMs), candlekeepStartup: ck.map((r) => r.startupMs), candlekeepWholeProcess: ck.map((r) => r.wallMs), ccxt },
    cpuMs: { candlekeep: ck.map((r) => r.cpuMs), candlekeepIdleRun: ck.map((r) => r.idleCpuMs) },
  };
  table.push(
    ['1 unthrottled: fetch-only (undici, 8 in flight)', `${fmt(fetchRate)} rows/s`, 'baseline'],
    ['1 unthrottled: ccxt fetchOHLCV loop (no limiter)', `${fmt(ccxtRate)} rows/s`, 'baseline'],
    ['1 unthrottled: candlekeep first request -> durable', `${fmt(ckRate)} rows/s`, `${fmt(toFetchOnly * 100, 1)}% of fetch-only (target >= 50%), ${fmt(toCcxt, 2)}x ccxt (target >= 2x); median of per-run ratios`],
    ['1 unthrottled: candlekeep whole process', `${fmt(ckWholeRate)} rows/s`, `start-up ${fmt(startup)} ms (spawn -> first request), ${fmt(startupCpu)} CPU-ms`],
    ['1 unthrottled: candlekeep CPU per million rows', `${fmt(netCpuPerM, 2)} CPU-s`, `target <= 2; ${fmt(cpuPerM, 2)} CPU-s with start-up`],
    ['1 unthrottled: candlekeep peak RSS', `${fmt(rss)} MiB`, ''],
  );
  return lastRoot;
}

async function caseExport(root: string): Promise<void> {
  const store = openStorage(root, { readOnly: true });
  const s = listStreams(store)[0]!;
  const out = tempDir('ck-bench-export-');
  const rate = async (format: 'csv' | 'parquet') => {
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const t0 = performance.now();
      const r = await exportStream(store, s, join(out, `x.${format}`), { format, fromMs: -Infinity, toMs: Infinity, header: false, gaps: 'report' });
      times.push(performance.now() - t0);
      if (r.rows !== YEAR_ROWS) throw new Error(`export wrote ${r.rows} rows`);
    }
    return YEAR_ROWS / (median(times) / 1000);
  };
  const csv = await rate('csv');
  const parquet = await rate('parquet');
  await store.close();
  rmSync(out, { recursive: true, force: true });
  results.export = { rows: YEAR_ROWS, csvRowsPerS: csv, parquetRowsPerS: parquet };
  table.push(['5 export to CSV', `${fmt(csv)} rows/s`, 'target >= 1,000,000'], ['5 export to Parquet', `${fmt(parquet)} rows/s`, '']);
}

async function caseThrottled(): Promise<void> {
  const window = 1000;
  const limit = 300; // Binance's 6000 weight per minute, scaled to 300 per second
  const cap = Math.floor(limit * 0.9);
  const symbols = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT', 'XRPUSDT', 'ADAUSDT', 'DOGEUSDT', 'AVAXUSDT'];
  const end = Date.UTC(2024, 0, 1);
  const days = Number(process.env.BENCH_THROTTLED_DAYS ?? 72); // about 65 windows of work at the cap
  const mock = await BenchMock.start({
    symbols: symbols.map((symbol) => ({ symbol, listedAt: Date.UTC(2017, 7, 17) })), clock: { start: end + 86_400_000, held: true },
    limits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'SECOND', intervalNum: 1, limit }, { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 10_000_000 }], cacheResponses: true,
  });
  const dir = tempDir('ck-bench-');
  const cfg = writeConfig(dir, {
    venues: { binance: { baseUrl: mock.url } },
    streams: [{ venue: 'binance', endpoint: 'klines', symbols, intervals: ['1m'], start: new Date(end - days * 86_400_000).toISOString(), end: new Date(end).toISOString(), limit: 100 }],
    logging: { level: 'info' },
  });
  const r = await runDaemon(['backfill', '--config', cfg]);
  if (r.code !== 0) throw new Error(`throttled backfill failed: ${r.out.slice(-2000)}`);
  const st = await mock.stats();
  const windows = (st.lastAt! - st.firstAt!) / window;
  const share = st.weight / (windows * cap);
  await mock.reset();
  const c = await ccxtLoop(mock.url, 'BTC/USDT', end - days * 86_400_000, end, true, 20_000);
  const cs = await mock.stats();
  const ccxtShare = cs.weight / (((cs.lastAt! - cs.firstAt!) / window) * cap);
  await mock.stop();
  rmSync(dir, { recursive: true, force: true });
  results.throttled = { limitPerWindow: limit, windowMs: window, budgetPerWindow: cap, windows, weight: st.weight, share, status429: st.byStatus['429'] ?? 0, status418: st.byStatus['418'] ?? 0, ccxt: { share: ccxtShare, rowsPerS: c.rows / (c.ms / 1000), status429: cs.byStatus['429'] ?? 0 } };
  table.push(
    [`2 throttled (${limit} weight/${window} ms, budget ${cap}): candlekeep`, `${fmt(share * 100, 1)}% of budget over ${fmt(windows)} windows`, `429s: ${st.byStatus['429'] ?? 0}, 418s: ${st.byStatus['418'] ?? 0} (targets >= 95%, 0)`],
    ['2 throttled: ccxt with its default rate limiter', `${fmt(ccxtShare * 100, 1)}% of budget`, `429s: ${cs.byStatus['429'] ?? 0}`],
  );
}

async function caseScale(): Promise<void> {
  const f = await followMany(334, 60, Number(process.env.BENCH_SCALE_SECONDS ?? 120));
  results.scale = f;
  table.push(
    [`3 scale: ${f.streams} streams following`, `RSS ${fmt(f.rssMiB.end)} MiB, ${fmt(f.cpuSecondsPerMinute, 1)} CPU-s/min (${fmt(f.cpuShareOfCore * 100, 1)}% of a core)`, `429s: ${f.status['429'] ?? 0}`],
    ['3 scale: candle close -> fetched (1m streams, settleMs 1000)', `p50 ${fmt(f.closeToFetchMs.p50)} ms, p99 ${fmt(f.closeToFetchMs.p99)} ms`, `${f.closeToFetchMs.samples} closes`],
  );
}

async function caseRestart(): Promise<void> {
  const streams = 4;
  const per = 250_000;
  const anchor = Date.UTC(2023, 0, 1);
  const dir = tempDir('ck-bench-');
  const root = join(dir, 'data');
  const store = openStorage(root);
  const symbols = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT'].slice(0, streams);
  const t0 = performance.now();
  for (const symbol of symbols) {
    const g: StreamGeometry = { venue: 'binance', endpoint: 'klines', symbol, interval: '1m', anchorMs: anchor, endMs: null, limit: 1 };
    for (let from = 0; from < per; from += 10_000) {
      const items: CommitItem[] = [];
      for (let i = from; i < Math.min(per, from + 10_000); i++) {
        const s = sliceAt(g, i)!;
        items.push({ stream: g, payload: null, record: {
          status: 'ok', key: s.key, id: s.id, startMs: s.startMs, endMs: s.endMs, limit: 1, rows: 1, firstOpen: s.startMs, lastOpen: s.startMs, lastClosedClose: s.endMs,
          gaps: [], anomalies: [], fetchedAt: Date.now(), attempts: 0, error: null, nextDueAt: null, hasPayload: true, payloadHash: null,
        } });
      }
      await store.commit(items, Date.now());
    }
  }
  await store.close();
  const buildMs = performance.now() - t0;
  const storedEnd = anchor + per * 60_000;
  const times: number[] = [];
  let old = 0;
  for (let run = 0; run < RUNS; run++) {
    // Each run, the exchange is 30 minutes further on: 30 new slices per stream are due.
    const mock = await BenchMock.start({ symbols: symbols.map((symbol) => ({ symbol, listedAt: Date.UTC(2017, 7, 17) })), clock: { start: storedEnd + (run + 1) * 30 * 60_000 + 5000, held: true }, limits: HUGE, cacheResponses: false });
    const cfg = writeConfig(dir, {
      venues: { binance: { baseUrl: mock.url } },
      streams: [{ venue: 'binance', endpoint: 'klines', symbols, intervals: ['1m'], start: new Date(anchor).toISOString(), limit: 1 }],
      logging: { level: 'info' },
    });
    const started = Date.now();
    const r = await runDaemon(['backfill', '--config', cfg]);
    if (r.code !== 0) throw new Error(`restart backfill failed: ${r.out.slice(-2000)}`);
    const st = await mock.stats(true);
    if (st.firstAt === null) throw new Error('restart: no new request was made');
    times.push(st.firstAt - started);
    old += st.times!.filter(([, , , startTime]) => Number(startTime) < storedEnd + run * 30 * 60_000).length;
    await mock.stop();
  }
  rmSync(dir, { recursive: true, force: true });
  results.restart = { slices: streams * per, buildMs, firstNewRequestMs: times, medianMs: median(times), requestsForCompletedSlices: old };
  table.push([`4 restart over ${fmt(streams * per)} stored slices`, `first new request after ${fmt(median(times))} ms`, `requests for ok slices: ${old} (targets <= 1000 ms, 0)`]);
}

const cases: Array<[string, () => Promise<void>]> = [
  ['unthrottled', async () => {
    const root = await caseUnthrottled(); // its last store, kept for the export case
    await caseExport(root);
    rmSync(join(root, '..'), { recursive: true, force: true });
  }],
  ['throttled', caseThrottled],
  ['restart', caseRestart],
  ['scale', caseScale],
];
for (const [name, fn] of cases) {
  if (ONLY && !ONLY.includes(name)) continue;
  process.stderr.write(`bench: ${name}...\n`);
  await fn();
}

const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() };
// With BENCH_ONLY, the cases not run keep their last results (each case says when and with how many runs it was measured).
const resultsFile = new URL('./results.json', import.meta.url);
const previous = ONLY && existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as { results?: Record<string, unknown> }).results ?? {} : {};
const stamped = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { ...(v as object), measuredAt: machine.date, runs: RUNS }]));
writeFileSync(resultsFile, JSON.stringify({ machine, runs: RUNS, results: { ...previous, ...stamped } }, null, 2) + '\n');
const w0 = Math.max(...table.map((r) => r[0].length));
const w1 = Math.max(...table.map((r) => r[1].length));
console.log(`\ncandlekeep bench: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.date} (medians of ${RUNS} runs)\n`);
for (const [a, b, c] of table) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
