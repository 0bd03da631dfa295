// What the daemon shows about itself: one view of its state, read by the
// Prometheus metrics on each scrape and by /health. Events that happen in
// worker threads (requests) arrive over the ports and are counted here, so
// one prom-client registry on the main thread sees everything.
import { statfsSync } from 'node:fs';
import client from 'prom-client';
import type { BudgetSnapshot, VenueBudget } from '../actors/rate-limiter.js';
import type { ManifestWriter } from '../actors/manifest-writer.js';
import type { ChildStatus } from '../actors/supervisor.js';
import type { StreamSummary } from '../storage/records.js';
import type { StreamSpec } from './config/load-config.js';
import type { RequestObservation } from './protocol.js';
import { progress, type Progress } from './progress.js';
import { version } from './version.js';
import type { VenueOutages } from './venue-outages.js';

/** Read access to the running daemon (the composition root provides it). */
export interface DaemonView {
  dataRoot: string;
  streams: readonly StreamSpec[];
  settleMs: number;
  summary(stream: StreamSpec): StreamSummary;
  /** Bytes the store takes on disk. */
  storageBytes(): number;
  child(stream: string): ChildStatus | undefined;
  writer: Pick<ManifestWriter, 'queueDepth' | 'lastCommitAt' | 'lastError'>;
  budgets: ReadonlyMap<string, VenueBudget>;
  /** Whether each venue answers at all (network errors, 5xx, timeouts in a row). */
  outages: Pick<VenueOutages, 'current' | 'lastEnded'>;
  /** LMDB open, worker pool up, supervisor running. */
  ready(): { ok: boolean; why: string[] };
  /** The venue's clock as the fetchers last measured it (exchange time decides lag and what is due). */
  now(venue: string): number;
}

export type HealthStatus = 'pass' | 'warn' | 'fail';

export interface StreamHealth {
  stream: string;
  status: HealthStatus;
  slices: { ok: number; partial: number; failed: number; pending: number };
  completeness: number;
  lastClosedCandle: string | null;
  lagSeconds: number | null;
  caughtUp: boolean;
  actor: ChildStatus['state'] | 'unknown';
  /** Why the stream is not healthy, if it is not. */
  reason: string | null;
}

/** One stream as the daemon sees it now: its summary, its progress and its health. */
export interface Assessment {
  spec: StreamSpec;
  summary: StreamSummary;
  progress: Progress;
  health: StreamHealth;
}

function assess(view: DaemonView, g: StreamSpec): Assessment {
  const s = view.summary(g);
  const p = progress(g, s, view.now(g.venue), view.settleMs);
  const child = view.child(g.name);
  let status: HealthStatus = 'pass';
  let reason: string | null = null;
  if (child?.state === 'failed' || (child?.state === 'exited' && child.lastExit?.outcome === 'failed')) {
    status = 'fail';
    const err = child.lastExit?.error ?? child.lastCrash;
    reason = err ? `${err.code}: ${err.message}` : 'the actor stopped';
  } else if (s.counts.failed > 0) {
    status = 'warn';
    reason = `${s.counts.failed} failed slices waiting for a retry`;
  } else if (!p.caughtUp && p.lagSeconds !== null && p.lagSeconds > 3600) {
    status = 'warn';
    reason = `lagging ${Math.round(p.lagSeconds)} s behind`;
  }
  const health: StreamHealth = {
    stream: g.name,
    status,
    slices: { ok: s.counts.ok, partial: s.counts.partial, failed: s.counts.failed, pending: p.pending },
    completeness: p.completeness,
    lastClosedCandle: s.lastClosedClose === null ? null : new Date(s.lastClosedClose + 1).toISOString(),
    lagSeconds: p.lagSeconds === null ? null : Math.round(p.lagSeconds),
    caughtUp: p.caughtUp,
    actor: child?.state ?? 'unknown',
    reason,
  };
  return { spec: g, summary: s, progress: p, health };
}

export function health(view: DaemonView): Record<string, unknown> & { status: HealthStatus } {
  const streams = view.streams.map((g) => assess(view, g).health);
  const now = Date.now(); // pauses and bans are kept in local time
  const venues = [...view.budgets.values()].map((b) => {
    const snap = b.snapshot();
    return {
      venue: snap.venue,
      limits: snap.limits.map((l) => ({ type: l.type, ...(l.endpoint ? { endpoint: l.endpoint } : {}), windowMs: l.windowMs, used: l.used, budget: l.cap, limit: l.limit })),
      pausedUntil: snap.pausedUntil > now ? new Date(snap.pausedUntil).toISOString() : null,
      bannedUntil: snap.bannedUntil > now ? new Date(snap.bannedUntil).toISOString() : null,
      stopReason: snap.stopReason,
      ...reachability(view, snap.venue),
    };
  });
  const ready = view.ready();
  const storage = view.writer.lastError;
  let status: HealthStatus = 'pass';
  const reasons: string[] = [];
  if (streams.some((s) => s.status === 'warn') || venues.some((v) => v.stopReason !== null || v.unreachable)) status = 'warn';
  for (const v of venues) if (v.stopReason) reasons.push(`${v.venue}: ${v.stopReason} until ${v.bannedUntil ?? v.pausedUntil}`);
  for (const v of venues) if (v.unreachable) reasons.push(`${v.venue}: unreachable since ${v.unreachable.since} (${v.unreachable.failures} failed requests in a row, last ${v.unreachable.lastCode})`);
  for (const s of streams) if (s.reason) reasons.push(`${s.stream}: ${s.reason}`);
  if (streams.some((s) => s.status === 'fail') || storage || !ready.ok) status = 'fail';
  if (storage) reasons.unshift(`storage: ${storage.code}: ${storage.message}`);
  if (!ready.ok) reasons.unshift(...ready.why);
  return {
    status,
    version: version(),
    time: new Date(now).toISOString(),
    reasons,
    streams,
    writer: { queueDepth: view.writer.queueDepth, lastCommitAt: view.writer.lastCommitAt === null ? null : new Date(view.writer.lastCommitAt).toISOString(), lastError: storage },
    venues,
  };
}

/** A venue's outage now and its last one that ended, as /health shows them (ISO times). */
function reachability(view: DaemonView, venue: string) {
  const now = view.outages.current(venue);
  const last = view.outages.lastEnded(venue);
  return {
    unreachable: now && { since: new Date(now.since).toISOString(), failures: now.failures, lastCode: now.lastCode },
    lastOutage: last && { from: new Date(last.from).toISOString(), to: new Date(last.to).toISOString(), failures: last.failures },
  };
}

const STREAM_LABELS = ['stream', 'venue', 'endpoint', 'symbol', 'interval'] as const;

function streamLabels(g: StreamSpec): Record<(typeof STREAM_LABELS)[number], string> {
  return { stream: g.name, venue: g.venue, endpoint: g.endpoint, symbol: g.symbol, interval: g.interval };
}

/** HTTP status as a label: `2xx`, `4xx`, `5xx`, the telling-off codes on their own, `none` without a response. */
export function statusClass(status: number): string {
  if (status === 0) return 'none';
  if (status === 429 || status === 418 || status === 403) return String(status);
  return `${Math.floor(status / 100)}xx`;
}

/** The one registry: metrics documented in the README's metrics table. */
export class Metrics {
  readonly registry = new client.Registry();
  private readonly requests: client.Counter;
  private readonly requestSeconds: client.Histogram;
  private readonly responseBytes: client.Counter;
  private readonly retries: client.Counter;
  private readonly validationFailures: client.Counter;
  private readonly candles: client.Counter;
  private readonly committedBytes: client.Counter;
  private readonly commitSeconds: client.Histogram;
  private readonly commitBatch: client.Histogram;
  private readonly commitFailures: client.Counter;
  private readonly restarts: client.Counter;
  private readonly venueEvents: client.Counter;
  private readonly seenEvents = new Map<string, number>();
  private scrape: Assessment[] | null = null;

  constructor(private readonly view: () => DaemonView | null) {
    const r = [this.registry];
    client.collectDefaultMetrics({ register: this.registry, prefix: 'candlekeep_' });
    this.requests = new client.Counter({ name: 'candlekeep_requests_total', help: 'HTTP requests to exchanges, by venue, endpoint and status class (2xx, 4xx, 5xx, 429, 418, 403, none).', labelNames: ['venue', 'endpoint', 'status_class'], registers: r });
    this.requestSeconds = new client.Histogram({ name: 'candlekeep_request_duration_seconds', help: 'Time from sending a request to its last body byte.', labelNames: ['venue', 'endpoint'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: r });
    this.responseBytes = new client.Counter({ name: 'candlekeep_response_bytes_total', help: 'Body bytes received from exchanges.', labelNames: ['venue', 'endpoint'], registers: r });
    this.retries = new client.Counter({ name: 'candlekeep_retries_total', help: 'Failed attempts that will be retried, by error code.', labelNames: ['venue', 'endpoint', 'code'], registers: r });
    this.validationFailures = new client.Counter({ name: 'candlekeep_validation_failures_total', help: 'Responses rejected by validation, by reason (nothing was committed).', labelNames: ['venue', 'endpoint', 'reason'], registers: r });
    this.candles = new client.Counter({ name: 'candlekeep_candles_committed_total', help: 'Rows committed to LMDB (a partial slice fetched again counts again).', labelNames: ['venue', 'endpoint', 'interval'], registers: r });
    this.committedBytes = new client.Counter({ name: 'candlekeep_committed_bytes_total', help: 'Payload bytes committed to LMDB.', labelNames: ['venue'], registers: r });
    this.commitSeconds = new client.Histogram({ name: 'candlekeep_commit_duration_seconds', help: 'Duration of one LMDB write transaction.', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers: r });
    this.commitBatch = new client.Histogram({ name: 'candlekeep_commit_batch_size', help: 'Slices committed per LMDB transaction.', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers: r });
    this.commitFailures = new client.Counter({ name: 'candlekeep_commit_failures_total', help: 'LMDB transactions that failed (disk full, ...); their slices are retried.', registers: r });
    this.restarts = new client.Counter({ name: 'candlekeep_actor_restarts_total', help: 'Fetcher actors restarted by the supervisor after a crash.', labelNames: ['stream'], registers: r });
    const readView = this.view;
    const seen = this.seenEvents;
    this.venueEvents = new client.Counter({
      name: 'candlekeep_rate_limit_events_total', help: 'Times the venue told candlekeep off: 429 (rate limited), 418 (banned), 403 (WAF).', labelNames: ['venue', 'kind'], registers: r,
      // Counted in the shared budgets by whichever worker thread saw them; brought up to date on scrape.
      collect() {
        const v = readView();
        if (!v) return;
        for (const b of v.budgets.values()) {
          const s = b.snapshot();
          for (const [kind, n] of [['429', s.events.rateLimited], ['418', s.events.banned], ['403', s.events.wafBlocked]] as const) {
            const key = `${s.venue}:${kind}`;
            this.inc({ venue: s.venue, kind }, Math.max(0, n - (seen.get(key) ?? 0)));
            seen.set(key, n);
          }
        }
      },
    });

    const gauge = (name: string, help: string, labelNames: readonly string[], collect: (g: client.Gauge, v: DaemonView) => void) =>
      new client.Gauge({ name, help, labelNames, registers: r, collect() { const v = readView(); if (v) { this.reset(); collect(this, v); } } });

    // The per-stream gauges of one scrape share one assessment of each stream.
    const streams = (v: DaemonView) => this.assessments(v);
    gauge('candlekeep_stream_slices', 'Slices of each stream by status (ok, partial, failed, pending up to now).', [...STREAM_LABELS, 'status'], (g, v) => {
      for (const a of streams(v)) for (const [status, n] of Object.entries(a.health.slices)) g.set({ ...streamLabels(a.spec), status }, n);
    });
    gauge('candlekeep_stream_completeness_ratio', 'Share of the slices expected up to now that are stored (ok or partial).', STREAM_LABELS, (g, v) => {
      for (const a of streams(v)) g.set(streamLabels(a.spec), a.progress.completeness);
    });
    gauge('candlekeep_stream_lag_seconds', 'Now minus the close of the last closed candle stored.', STREAM_LABELS, (g, v) => {
      for (const a of streams(v)) if (a.progress.lagSeconds !== null) g.set(streamLabels(a.spec), a.progress.lagSeconds);
    });
    gauge('candlekeep_stream_last_candle_timestamp_seconds', 'Close time of the last closed candle stored (Unix seconds).', STREAM_LABELS, (g, v) => {
      for (const a of streams(v)) if (a.summary.lastClosedClose !== null) g.set(streamLabels(a.spec), (a.summary.lastClosedClose + 1) / 1000);
    });
    gauge('candlekeep_stream_caught_up', '1 when the stream has every slice up to now and its last candle is fresh.', STREAM_LABELS, (g, v) => {
      for (const a of streams(v)) g.set(streamLabels(a.spec), a.progress.caughtUp ? 1 : 0);
    });
    gauge('candlekeep_stream_failed', '1 when the stream stopped (unknown symbol, gave up, actor past its restart intensity).', STREAM_LABELS, (g, v) => {
      for (const a of streams(v)) g.set(streamLabels(a.spec), a.health.status === 'fail' ? 1 : 0);
    });
    const budgetGauge = (name: string, help: string, value: (l: BudgetSnapshot['limits'][number]) => number) =>
      gauge(name, help, ['venue', 'limit', 'window_seconds'], (g, v) => {
        for (const b of v.budgets.values()) for (const l of b.snapshot().limits) g.set({ venue: b.shared.venue, limit: l.endpoint ? `${l.type}:${l.endpoint}` : l.type, window_seconds: String(l.windowMs / 1000) }, value(l));
      });
    budgetGauge('candlekeep_venue_weight_used', 'Weight (or requests) counted in the current window: candlekeep plus other programs on the IP.', (l) => l.used);
    budgetGauge('candlekeep_venue_weight_others', 'Weight (or requests) other programs on the IP hold in the current window, as the exchange reports it (its used-weight header; 0 where it sends none).', (l) => l.foreign);
    budgetGauge('candlekeep_venue_weight_budget', 'What candlekeep allows itself per window: the exchange limit times maxBudgetShare.', (l) => l.cap);
    budgetGauge('candlekeep_venue_weight_limit', 'The exchange limit per window, from exchangeInfo.rateLimits.', (l) => l.limit);
    gauge('candlekeep_venue_paused_until_timestamp_seconds', 'End of the venue pause after a 429 or 403 (Unix seconds; 0 when not paused).', ['venue'], (g, v) => {
      for (const b of v.budgets.values()) { const s = b.snapshot(); g.set({ venue: s.venue }, s.pausedUntil > Date.now() ? s.pausedUntil / 1000 : 0); }
    });
    gauge('candlekeep_venue_banned_until_timestamp_seconds', 'End of the IP ban after a 418 (Unix seconds; 0 when not banned).', ['venue'], (g, v) => {
      for (const b of v.budgets.values()) { const s = b.snapshot(); g.set({ venue: s.venue }, s.bannedUntil > Date.now() ? s.bannedUntil / 1000 : 0); }
    });
    gauge('candlekeep_writer_queue_depth', 'Commits waiting for the manifest writer.', [], (g, v) => g.set(v.writer.queueDepth));
    gauge('candlekeep_writer_last_commit_timestamp_seconds', 'When the manifest writer last committed (Unix seconds).', [], (g, v) => { if (v.writer.lastCommitAt !== null) g.set(v.writer.lastCommitAt / 1000); });
    gauge('candlekeep_storage_error', '1 while the last LMDB transaction failed (disk full, ...).', [], (g, v) => g.set(v.writer.lastError ? 1 : 0));
    gauge('candlekeep_lmdb_size_bytes', 'Size of the LMDB data file.', [], (g, v) => g.set(v.storageBytes()));
    gauge('candlekeep_disk_free_bytes', 'Free space on the data root\'s filesystem (available to this user).', [], (g, v) => {
      try { const f = statfsSync(v.dataRoot); g.set(f.bavail * f.bsize); } catch { /* not created yet */ }
    });
    // These two are served from the first moment, while the venues are still being checked.
    new client.Gauge({ name: 'candlekeep_up', help: '1 while the daemon runs, start-up included (with its version as a label).', labelNames: ['version'], registers: r, collect() { this.set({ version: version() }, 1); } });
    new client.Gauge({ name: 'candlekeep_ready', help: '1 when /readyz answers 200; 0 while starting (venues being checked) or stopping.', registers: r, collect() { this.set(readView()?.ready().ok ? 1 : 0); } });
    gauge('candlekeep_venue_unreachable', '1 while the venue does not answer: network errors, timeouts or 5xx on every request in a row (3 or more).', ['venue'], (g, v) => {
      for (const b of v.budgets.values()) g.set({ venue: b.shared.venue }, v.outages.current(b.shared.venue) ? 1 : 0);
    });
    gauge('candlekeep_venue_stopped', '1 while the venue is paused (rate-limited, waf-blocked) or banned.', ['venue', 'reason'], (g, v) => {
      for (const b of v.budgets.values()) {
        const s = b.snapshot();
        for (const reason of ['rate-limited', 'waf-blocked', 'banned']) g.set({ venue: s.venue, reason }, s.stopReason === reason ? 1 : 0);
      }
    });
  }

  /** Every stream assessed once per scrape: prom-client collects every metric in one turn, so the cache ends with it. */
  private assessments(v: DaemonView): Assessment[] {
    if (!this.scrape) {
      this.scrape = v.streams.map((g) => assess(v, g));
      setImmediate(() => (this.scrape = null));
    }
    return this.scrape;
  }

  /** A fetcher's HTTP attempt (sent over its port). */
  request(venue: string, m: RequestObservation): void {
    this.requests.inc({ venue, endpoint: m.endpoint, status_class: statusClass(m.status) });
    this.requestSeconds.observe({ venue, endpoint: m.endpoint }, m.durationMs / 1000);
    this.responseBytes.inc({ venue, endpoint: m.endpoint }, m.bytes);
    if (m.code !== null) this.retries.inc({ venue, endpoint: m.endpoint, code: m.code });
    if (m.reason !== null) this.validationFailures.inc({ venue, endpoint: m.endpoint, reason: m.reason });
  }

  committed(g: StreamSpec, rows: number, bytes: number): void {
    this.candles.inc({ venue: g.venue, endpoint: g.endpoint, interval: g.interval }, rows);
    this.committedBytes.inc({ venue: g.venue }, bytes);
  }

  batch(size: number, seconds: number, ok: boolean): void {
    this.commitSeconds.observe(seconds);
    this.commitBatch.observe(size);
    if (!ok) this.commitFailures.inc();
  }

  restarted(stream: string): void {
    this.restarts.inc({ stream });
  }

  /** Every counter with its label sets at zero, so dashboards and alerts see series before the first event. */
  primeFor(streams: readonly StreamSpec[]): void {
    for (const s of streams) {
      this.restarts.inc({ stream: s.name }, 0);
      this.candles.inc({ venue: s.venue, endpoint: s.endpoint, interval: s.interval }, 0);
      this.committedBytes.inc({ venue: s.venue }, 0);
      for (const c of ['2xx', '4xx', '5xx', '429', '418', '403', 'none']) this.requests.inc({ venue: s.venue, endpoint: s.endpoint, status_class: c }, 0);
      this.retries.inc({ venue: s.venue, endpoint: s.endpoint, code: 'CK_ERR_HTTP_5XX' }, 0);
      this.validationFailures.inc({ venue: s.venue, endpoint: s.endpoint, reason: 'ohlc' }, 0);
    }
    this.commitFailures.inc(0);
  }
}
