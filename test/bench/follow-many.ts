// Many streams following in real time on the mock (its own process): the
// scale case of the benchmark, `npm run soak` and the short soak in npm test.
// Measures RSS, open handles and CPU of the daemon, and for every 1m candle
// close in the measured window how long until the daemon fetched it.
import { fileURLToPath } from 'node:url';
import { fork, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { mod } from '../../src/intervals.js';
import { MAIN, tempDir, writeConfig } from '../support/daemon-harness.js';
import type { BenchMockOptions, BenchMockStats } from './mock-process.js';

/** The daemon's sockets at most: a worker thread per core, 8 connections each (src/http/exchange-http.ts), its HTTP server, slack. */
export const MAX_SOCKETS = availableParallelism() * 8 + 4;

export interface FollowFigures {
  streams: number;
  measuredSeconds: number;
  rssMiB: { start: number; end: number };
  /** Open file descriptors other than sockets (files, pipes, LMDB, epoll): flat unless something leaks. */
  handles: { start: number; end: number };
  /** Open sockets: HTTP connections, bounded by the pool (fetcher.connections per thread) whatever the stream count. */
  sockets: { start: number; end: number };
  cpuSecondsPerMinute: number;
  cpuShareOfCore: number;
  closeToFetchMs: { samples: number; p50: number; p99: number; max: number };
  status: Record<string, number>;
}

function procStat(pid: number): { cpuMs: number; rssKb: number; fds: number; sockets: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const links = readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return ''; // closed while listed
    }
  });
  const sockets = links.filter((l) => l.startsWith('socket:')).length;
  return { cpuMs: (Number(stat[11]) + Number(stat[12])) * 10, rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)![1]), fds: links.length - sockets, sockets };
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/**
 * `symbols` x (1m, 3m, 5m) streams; warm up `warmupSeconds`, then measure
 * `seconds` rounded up to whole minutes, from half past a minute (the
 * quiet middle between two closes) to the same phase: memory sampled right
 * after a close's burst and right before it differed by 45 MiB.
 */
export async function followMany(symbolCount: number, warmupSeconds: number, seconds: number): Promise<FollowFigures> {
  const symbols = Array.from({ length: symbolCount }, (_, i) => `S${String(i).padStart(4, '0')}USDT`);
  const now = Date.now();
  const o: BenchMockOptions = {
    symbols: symbols.map((symbol) => ({ symbol, listedAt: now - 86_400_000 })), clock: { start: now, held: false }, cacheResponses: false,
    limits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 }, { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 300_000 }],
  };
  const mockProc = fork(fileURLToPath(new URL('./mock-process.ts', import.meta.url)), [JSON.stringify(o)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve) => mockProc.once('message', (m: { url: string }) => resolve(m.url)));
  const ask = <T>(msg: Record<string, unknown>, type: string) => new Promise<T>((resolve) => {
    const on = (m: { type: string; stats?: T }) => {
      if (m.type !== type) return;
      mockProc.off('message', on);
      resolve((m.stats ?? m) as T);
    };
    mockProc.on('message', on);
    mockProc.send(msg);
  });
  const dir = tempDir('ck-follow-');
  const cfg = writeConfig(dir, {
    venues: { binance: { baseUrl: url } },
    streams: [{ venue: 'binance', endpoint: 'klines', symbols, intervals: ['1m', '3m', '5m'], start: new Date(now - 3_600_000).toISOString() }],
    logging: { level: 'warn' },
  });
  const child = spawn(process.execPath, [MAIN, 'run', '--config', cfg], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await new Promise((r) => setTimeout(r, warmupSeconds * 1000));
    await new Promise((r) => setTimeout(r, mod(30_000 - Date.now(), 60_000)));
    await ask({ type: 'reset' }, 'reset');
    const a = procStat(child.pid!);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, Math.max(1, Math.ceil(seconds / 60)) * 60_000));
    const b = procStat(child.pid!);
    const t1 = Date.now();
    const st = await ask<BenchMockStats>({ type: 'stats', withTimes: true }, 'stats');
    const firstAfter = new Map<string, number>();
    for (const [at, symbol, interval] of st.times!) {
      if (interval !== '1m') continue;
      const boundary = Math.floor(at / 60_000) * 60_000;
      if (boundary < t0 || boundary > t1 - 10_000) continue;
      const k = `${symbol}@${boundary}`;
      if (!firstAfter.has(k)) firstAfter.set(k, at - boundary);
    }
    const lat = [...firstAfter.values()];
    const cpuPerMin = (((b.cpuMs - a.cpuMs) / (t1 - t0)) * 60_000) / 1000;
    return {
      streams: symbolCount * 3, measuredSeconds: (t1 - t0) / 1000,
      rssMiB: { start: a.rssKb / 1024, end: b.rssKb / 1024 }, handles: { start: a.fds, end: b.fds }, sockets: { start: a.sockets, end: b.sockets },
      cpuSecondsPerMinute: cpuPerMin, cpuShareOfCore: cpuPerMin / 60,
      closeToFetchMs: { samples: lat.length, p50: percentile(lat, 50), p99: percentile(lat, 99), max: Math.max(...lat) },
      status: st.byStatus,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    mockProc.send({ type: 'stop' });
    rmSync(dir, { recursive: true, force: true });
  }
}

// `npm run soak` (10 minutes by default; CK_SOAK_SECONDS to change)
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const seconds = Number(process.env.CK_SOAK_SECONDS ?? 600);
  const f = await followMany(334, 60, seconds);
  console.log(JSON.stringify(f, null, 2));
  const ok = f.closeToFetchMs.p99 < 5000 && f.cpuShareOfCore < 0.1 && f.rssMiB.end < f.rssMiB.start * 1.25 && f.handles.end <= f.handles.start + 5 && f.sockets.end <= MAX_SOCKETS && !f.status['429'];
  console.log(ok ? 'soak: pass' : 'soak: FAIL');
  process.exit(ok ? 0 : 1);
}
