// Runs the built daemon (dist/main.js) as a real process against a mock
// exchange, and reads back what it stored.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Interval } from '../../src/intervals.js';
import type { StreamRef } from '../../src/slices.js';
import { VENUES } from '../../src/venues/index.js';
import type { MockExchange } from './mock-exchange.js';
import { runningDaemons } from './daemon-registry.js';
import { DAEMON_PID_PREFIX } from './temp-root.js';
import { checkManifest, decodePayload, type Finding } from '../../storage/manifest-checks.js';
import { openStorage } from '../../storage/open.js';
import type { SliceRecord } from '../../storage/records.js';

export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
/** The CLI from source with a simulated full disk (test/support/disk-full-main.ts; run through tsx). */
export const DISK_FULL_MAIN = fileURLToPath(new URL('./disk-full-main.ts', import.meta.url));

/**
 * A fresh directory under CK_TMP_ROOT, which vitest's global set-up makes
 * for the run and removes after it (test/support/temp-root.ts), else under
 * the system's temp directory.
 */
export function tempDir(prefix = 'ck-'): string {
  return mkdtempSync(join(process.env.CK_TMP_ROOT ?? tmpdir(), prefix));
}

export function writeConfig(dir: string, config: Record<string, unknown>): string {
  const path = join(dir, 'symbols.json');
  // Port 0: every daemon of a parallel test run gets its own metrics port.
  writeFileSync(path, JSON.stringify({ dataRoot: './data', logging: { level: 'info' }, http: { port: 0 }, ...config }, null, 2));
  return path;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Daemons still running when this process exits normally (the benchmark)
 * are killed with it. vitest kills its worker processes instead, and exit
 * handlers do not run there: each daemon also leaves its pid in the run's
 * directory while it runs, and the run's teardown kills what is left
 * (test/support/temp-root.ts), e.g. after a test timed out.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** `main`: the built entry, or a test entry point in TypeScript (run through tsx). */
export function spawnCandlekeep(args: string[], env: Record<string, string> = {}, main = MAIN): { child: ChildProcess; done: Promise<RunResult>; output: () => string } {
  const child = spawn(process.execPath, [...(main.endsWith('.ts') ? ['--import', 'tsx'] : []), main, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const pidFile = process.env.CK_TMP_ROOT && child.pid ? join(process.env.CK_TMP_ROOT, `${DAEMON_PID_PREFIX}${child.pid}`) : null;
  if (pidFile) writeFileSync(pidFile, '');
  child.once('exit', () => {
    running.delete(child);
    if (pidFile) rmSync(pidFile, { force: true });
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const registered = { pid: child.pid, args, output: () => stdout + stderr };
  runningDaemons.add(registered);
  child.once('exit', () => runningDaemons.delete(registered));
  const done = new Promise<RunResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, output: () => stdout };
}

/**
 * Polls `fn` every `everyMs` until it returns a truthy value, and returns
 * that value; a throw counts as not yet (the last one is reported on timeout).
 */
export async function waitUntil<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 30_000, everyMs = 20): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Waits for the daemon's log line `msg` ("candlekeep started": everything is
 * up; "http server listening": the endpoint is, before the venues are
 * checked) and returns the metrics/health URL it names.
 */
export async function daemonUrl(output: () => string, msg = 'candlekeep started', timeoutMs = 20_000): Promise<string> {
  const line = await waitUntil(() => output().split('\n').find((l) => l.includes(`"msg":"${msg}"`)), `"${msg}"; output: ${output().slice(-2000)}`, timeoutMs);
  return (JSON.parse(line) as { http: string }).http;
}

export function runCandlekeep(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return spawnCandlekeep(args, env).done;
}

export function logLines(stdout: string): Array<Record<string, unknown>> {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

export interface StoredStream {
  records: SliceRecord[];
  /** Every stored row whose candle had closed when it was fetched, in time order. */
  closedRows: unknown[][];
  /** Rows of each slice, by slice key. */
  rowsByKey: Map<string, unknown[][]>;
}

export function readStream(dataRoot: string, ref: StreamRef): StoredStream {
  const store = openStorage(dataRoot, { readOnly: true });
  try {
    const records = [...store.records(ref)];
    const closedRows: unknown[][] = [];
    const rowsByKey = new Map<string, unknown[][]>();
    const model = VENUES[ref.venue]!.endpoints[ref.endpoint]!.rows;
    for (const r of records) {
      if (!r.hasPayload) continue;
      const p = decodePayload(store.payload(r)!, model);
      const rows = p.rows as unknown[][]; // kline rows; funding rows are objects, and their tests read them so
      rowsByKey.set(r.key, rows);
      for (const row of rows) if (model.finalAt(row, p.meta.serverTime)) closedRows.push(row);
    }
    return { records, closedRows, rowsByKey };
  } finally {
    void store.close();
  }
}

/** What storage/manifest-checks finds wrong in a data root (empty when every invariant holds). */
export function manifestFindings(dataRoot: string): Finding[] {
  const store = openStorage(dataRoot, { readOnly: true });
  try {
    return checkManifest(store);
  } finally {
    void store.close();
  }
}

/** Every candle the mock has closed by `now` in [from, now), paging as a client would. */
export function servedClosed(mock: MockExchange, symbol: string, interval: Interval, from: number, now: number): unknown[][] {
  const out: unknown[][] = [];
  let start = from;
  for (;;) {
    const rows = mock.klines(symbol, interval, start, undefined, 1000, now);
    out.push(...rows.filter((r) => r[6] < now));
    if (rows.length < 1000) return out;
    start = rows[rows.length - 1]![0] + 1;
  }
}
