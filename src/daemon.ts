// Builds the running system from a frozen config:
//
//   main thread                                   worker threads (piscina)
//   -----------                                   ------------------------
//   Supervisor ── starts/restarts one task ─────> fetcher actor per stream
//   ManifestWriter (owns LMDB) <── MessagePort ── plan / commit / fail / log
//   pino root logger                              (HTTP, parse, validate, encode)
//
// Each fetcher gets one end of its own MessageChannel; the writer serves the
// other. Stopping is by message (`fetcher.stop`), never by AbortSignal:
// piscina kills the whole thread on abort.
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { FetcherResult, FetcherTask } from '../actors/fetcher.js';
import type { GetResult, GetTask } from '../actors/fetcher-worker.js';
import { ManifestWriter } from '../actors/manifest-writer.js';
import { Supervisor, type ChildExit } from '../actors/supervisor.js';
import { openStorage } from '../storage/open.js';
import { checkGeometry } from '../storage/geometry.js';
import type { Storage, StorageFaults } from '../storage/port.js';
import type { Config, StreamSpec } from './config/load-config.js';
import { lockDataRoot } from './data-root-lock.js';
import { fromWireError, type CkError } from './errors.js';
import { startHttpServer, type ObservabilityServer } from './http/server.js';
import { createDaemonLogger, streamFields, type Logger } from './logging.js';
import { Metrics, type DaemonView } from './observe.js';
import { assertNever, type MainMessage } from './protocol.js';
import { VenueOutages, type OutageChange } from './venue-outages.js';
import { prepareVenues } from './venue-check.js';
import { klineScanModule } from './venues/binance/kline-scan.js';
import type { VenueBudget } from '../actors/rate-limiter.js';

export type DaemonMode = 'run' | 'backfill';

/** Time allowed for actors to stop and the writer to drain on SIGINT/SIGTERM (ms). */
const SHUTDOWN_MS = 8000;

export interface DaemonOptions {
  mode: DaemonMode;
  logger?: Logger;
  /** Worker threads (default: available cores, at most one per stream). */
  threads?: number;
  /** Faults injected into storage by a test entry point (test/support/); never set in production. */
  storageFaults?: StorageFaults;
}

export interface DaemonResult {
  exitCode: number;
  exits: Map<string, ChildExit | null>;
}

export async function runDaemon(config: Config, o: DaemonOptions): Promise<DaemonResult> {
  const log = o.logger ?? await createDaemonLogger({ level: config.logging.level, dir: config.logging.dir, splitByStream: config.logging.splitByStream });
  // SIGINT/SIGTERM are handled from the first moment: during start-up they
  // abort it (nothing is stored before the venues are checked), once started
  // they stop the actors and the writer drains.
  const stopping = new AbortController();
  const onSignal = (signal: string) => {
    if (stopping.signal.aborted) return;
    log.info({ signal }, 'stopping');
    stopping.abort();
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  try {
    return await startAndRun(config, o, log, stopping.signal);
  } finally {
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
  }
}

/** Starts everything, runs until the actors are done or `stopping` aborts, and stops everything. */
async function startAndRun(config: Config, o: DaemonOptions, log: Logger, stopping: AbortSignal): Promise<DaemonResult> {
  // Worker threads start first: the venues' exchangeInfo is read from one of them (the main thread never loads the HTTP client).
  const threads = o.threads ?? Math.max(1, Math.min(availableParallelism(), config.streams.length));
  const fromSource = import.meta.url.endsWith('.ts');
  const pool = new Piscina({
    filename: new URL(`../actors/fetcher-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    atomics: 'disabled',
    concurrentTasksPerWorker: Math.ceil(config.streams.length / threads) + 1,
    execArgv: fromSource ? ['--import', 'tsx'] : [],
    // Compiled here, once, before any worker thread starts (see klineScanModule).
    workerData: { klineScanModule: klineScanModule() },
  });
  const specs = new Map(config.streams.map((s) => [s.name, s]));
  let view: DaemonView | null = null;
  /** Each venue's clock as its fetchers last measured it. */
  const exchangeTime = new Map<string, { exchangeNow: number; at: number }>();
  const outages = new VenueOutages();
  const metrics = new Metrics(() => view);
  metrics.primeFor(config.streams);
  // The HTTP endpoint comes up first: reading exchangeInfo may be retried for
  // minutes, and meanwhile /livez answers and /readyz and /health say "starting".
  let server: ObservabilityServer;
  try {
    server = await startHttpServer(config.http.host, config.http.port, metrics.registry, () => view);
  } catch (err) {
    log.error({ code: (err as CkError).code, error: (err as Error).message }, 'http server failed to start');
    await pool.destroy();
    throw err;
  }
  log.info({ http: server.url }, 'http server listening');
  // Symbols are checked and budgets read before anything is locked or stored.
  let budgets: Map<string, VenueBudget>;
  let lock: ReturnType<typeof lockDataRoot>;
  let store: Storage;
  try {
    budgets = await prepareVenues(config, log, async (url, settings) => {
      const r = (await pool.run({ kind: 'get', url, settings } satisfies GetTask, { signal: stopping })) as GetResult;
      if ('error' in r) throw fromWireError(r.error);
      return r;
    }, stopping);
    lock = lockDataRoot(config.dataRoot);
    try {
      store = openStorage(config.dataRoot, { faults: o.storageFaults });
    } catch (err) {
      lock.release();
      throw err;
    }
    try {
      checkGeometry(store, config.streams);
    } catch (err) {
      await store.close();
      lock.release();
      throw err;
    }
  } catch (err) {
    await pool.destroy();
    await server.close();
    if (!stopping.aborted) throw err;
    await logStopped(log, true); // stopped by a signal before anything was stored
    return { exitCode: 0, exits: new Map() };
  }
  const writer = new ManifestWriter(store, config.fetcher.settleMs, {
    onOther(stream, msg) {
      const spec = specs.get(stream)!;
      if (msg.type === 'fetcher.logged') log[msg.level]({ stream, ...streamFields(spec), ...msg.fields }, msg.msg);
      else if (msg.type === 'fetcher.requests') {
        for (const r of msg.requests) {
          metrics.request(spec.venue, r);
          logOutage(log, outages.observe(spec.venue, r.code, Date.now()));
          if (r.exchangeNow > 0) exchangeTime.set(spec.venue, { exchangeNow: r.exchangeNow, at: Date.now() });
        }
      }
    },
    onCommitted(records, streams, bytes) {
      // Rows count only when a payload came with the commit (a failed re-fetch keeps the old rows).
      records.forEach((r, i) => metrics.committed(specs.get(streams[i]!)!, bytes[i]! > 0 ? r.rows : 0, bytes[i]!));
    },
    onBatch(size, seconds, ok) {
      metrics.batch(size, seconds, ok);
      if (!ok && writer.lastError) log.error({ code: writer.lastError.code, error: writer.lastError.message, slices: size }, 'storage write failed; the slices will be fetched again');
    },
  }, Date.now, parseKillAt(process.env.CANDLEKEEP_TEST_KILL_AT_COMMIT));
  const supervisor = new Supervisor({
    onEvent(e) {
      switch (e.type) {
        case 'child.crashed': log.error({ stream: e.id, code: e.error.code, error: e.error.message, restarting: e.restarting }, 'actor crashed'); break;
        case 'child.restarted':
          metrics.restarted(e.id);
          log.warn({ stream: e.id, restarts: e.restarts }, 'actor restarted');
          break;
        case 'child.gave-up': log.error({ stream: e.id, code: 'CK_ERR_ACTOR_CRASHED', error: e.error.message }, 'actor stopped: past its restart intensity'); break;
        case 'child.exited': log.info({ stream: e.id, outcome: e.exit.outcome, ...(e.exit.error ? { code: e.exit.error.code, error: e.exit.error.message } : {}) }, 'actor exited'); break;
        default: break;
      }
    },
  });
  const testCrash = parseTestCrash(process.env.CANDLEKEEP_TEST_CRASH);

  let storeOpen = true;
  view = {
    dataRoot: config.dataRoot,
    streams: config.streams,
    settleMs: config.fetcher.settleMs,
    summary: (g) => store.summary(g),
    storageBytes: () => store.bytesOnDisk(),
    child: (name) => supervisor.statuses().get(name),
    writer,
    budgets,
    outages,
    ready() {
      const why: string[] = [];
      if (!storeOpen) why.push('LMDB is closed');
      if (pool.threads.length === 0) why.push('no worker threads');
      if (stopping.aborted) why.push('stopping');
      return { ok: why.length === 0, why };
    },
    now(venue) {
      const t = exchangeTime.get(venue);
      return t ? t.exchangeNow + (Date.now() - t.at) : Date.now();
    },
  };
  log.info({ streams: config.streams.length, threads, dataRoot: config.dataRoot, mode: o.mode, http: server.url }, 'candlekeep started');

  for (const stream of config.streams) {
    let port: import('node:worker_threads').MessagePort | null = null;
    let incarnation = 0;
    supervisor.startChild({
      id: stream.name,
      restart: 'transient',
      stop: () => port?.postMessage({ type: 'fetcher.stop' } satisfies MainMessage),
      start: async () => {
        const channel = new MessageChannel();
        port = channel.port1;
        writer.attach(stream, channel.port1);
        const task: FetcherTask = {
          stream: plainStream(stream),
          baseUrl: config.venues[stream.venue]!.baseUrl,
          budget: budgets.get(stream.venue)!.shared,
          mode: o.mode,
          settings: config.fetcher,
          port: channel.port2,
          testCrash: testCrash?.stream === stream.name && incarnation++ < testCrash.times ? testCrash : undefined,
        };
        try {
          const result = (await pool.run(task, { transferList: [channel.port2] })) as FetcherResult;
          if (result.outcome === 'failed') log.error({ ...streamFields(stream), code: result.error.code, error: result.error.message }, 'stream failed');
          return result;
        } finally {
          channel.port1.close();
          writer.detach(stream.name);
        }
      },
    });
  }

  if (stopping.aborted) void supervisor.stopAll(); // a signal while the actors were being started
  else stopping.addEventListener('abort', () => void supervisor.stopAll(), { once: true });

  try {
    await supervisor.whenAllDone();
  } finally {
    await Promise.race([writer.drain(), new Promise((r) => setTimeout(r, SHUTDOWN_MS).unref())]);
    await pool.destroy();
    await writer.close();
    storeOpen = false;
    await server.close();
    lock.release();
  }

  const exits = new Map([...supervisor.statuses()].map(([id, s]) => [id, s.lastExit]));
  const statuses = [...supervisor.statuses().values()];
  const allGood = statuses.every((s) => s.state !== 'failed' && (s.lastExit?.outcome === 'caught-up' || s.lastExit?.outcome === 'end-reached' || (stopping.aborted && s.lastExit?.outcome === 'stopped')));
  await logStopped(log, allGood);
  return { exitCode: allGood ? 0 : 1, exits };
}

function logOutage(log: Logger, change: OutageChange | null): void {
  if (!change) return;
  switch (change.type) {
    case 'venue.unreachable': {
      const o = change.outage;
      log.warn({ venue: change.venue, since: new Date(o.since).toISOString(), failures: o.failures, code: o.lastCode }, 'exchange unreachable; slices are retried with backoff');
      break;
    }
    case 'venue.reachable': {
      const e = change.ended;
      log.info({ venue: change.venue, from: new Date(e.from).toISOString(), to: new Date(e.to).toISOString(), downSeconds: Math.round((e.to - e.from) / 1000), failures: e.failures }, 'exchange reachable again');
      break;
    }
    default: assertNever(change);
  }
}

async function logStopped(log: Logger, ok: boolean): Promise<void> {
  const usage = process.resourceUsage(); // the whole process: main thread and every worker
  log.info({ ok, cpuUserMs: Math.round(usage.userCPUTime / 1000), cpuSystemMs: Math.round(usage.systemCPUTime / 1000), maxRssKb: usage.maxRSS }, 'candlekeep stopped');
  await new Promise<void>((resolve) => log.flush(() => resolve()));
}

function plainStream(s: StreamSpec): FetcherTask['stream'] {
  return { venue: s.venue, endpoint: s.endpoint, symbol: s.symbol, interval: s.interval, anchorMs: s.anchorMs, endMs: s.endMs, limit: s.limit, name: s.name };
}

/** `CANDLEKEEP_TEST_CRASH=stream=<name>;after=<commits>;kind=throw|exit;times=<incarnations>` (tests only). */
function parseTestCrash(v: string | undefined): { stream: string; afterCommits: number; kind: 'throw' | 'exit'; times: number } | null {
  if (!v) return null;
  const f = Object.fromEntries(v.split(';').map((kv) => kv.split('=') as [string, string]));
  if (!f.stream) return null;
  return { stream: f.stream, afterCommits: Number(f.after ?? 1), kind: f.kind === 'exit' ? 'exit' : 'throw', times: Number(f.times ?? Infinity) };
}

/** `CANDLEKEEP_TEST_KILL_AT_COMMIT=before:<n>|after:<n>` (tests only): SIGKILL around the nth LMDB transaction. */
function parseKillAt(v: string | undefined): { when: 'before' | 'after'; batch: number } | null {
  const m = /^(before|after):(\d+)$/.exec(v ?? '');
  return m ? { when: m[1] as 'before' | 'after', batch: Number(m[2]) } : null;
}
