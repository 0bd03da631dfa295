// /metrics, /livez, /readyz, /health, and the Grafana dashboard and alert
// rules proven against a real Prometheus (Debian package, installed by
// .ci/run) scraping the daemon while it ingests from the mock exchange.
import { fileURLToPath } from 'node:url';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonUrl, spawnCandlekeep, tempDir, waitUntil, writeConfig } from '../support/daemon-harness.js';
import { MockClock } from '../support/mock-clock.js';
import { MockExchange } from '../support/mock-exchange.js';

const NOW = Date.UTC(2024, 2, 1, 12, 0, 30);
const GRAFANA = fileURLToPath(new URL('../../grafana/', import.meta.url));
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const dashboard = JSON.parse(readFileSync(join(GRAFANA, 'dashboards/candlekeep.json'), 'utf8')) as { panels: Array<{ title: string; type: string; targets?: Array<{ expr: string }> }> };
const alertsYaml = readFileSync(join(GRAFANA, 'prometheus/alerts.yml'), 'utf8');
const panelQueries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const alertExprs = [...alertsYaml.matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]!);

/** `candlekeep_*` metric names a PromQL expression uses (histogram suffixes folded into their family). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(candlekeep_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''));
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

let mock: MockExchange;
let daemon: ReturnType<typeof spawnCandlekeep>;
let url: string;
let prometheus: ChildProcess;
let prom: string;
let dataDir: string;

beforeAll(async () => {
  mock = new MockExchange({
    clock: new MockClock({ start: NOW, speed: 30 }),
    symbols: [{ symbol: 'BTCUSDT', listedAt: Date.UTC(2024, 0, 1) }, { symbol: 'ETHUSDT', listedAt: Date.UTC(2024, 0, 1) }],
  });
  await mock.start();
  const dir = tempDir();
  dataDir = join(dir, 'data');
  const cfg = writeConfig(dir, {
    venues: { binance: { baseUrl: mock.url } },
    streams: [{ venue: 'binance', endpoint: 'klines', symbols: ['BTCUSDT', 'ETHUSDT'], intervals: ['1m', '1h'], start: '2024-02-20' }],
    fetcher: { settleMs: 200 },
    logging: { level: 'info', splitByStream: true },
  });
  daemon = spawnCandlekeep(['run', '--config', cfg]);
  url = await daemonUrl(daemon.output);

  const promDir = tempDir('ck-prom-');
  const target = new URL(url).host;
  const rules = alertsYaml.replace(/for: \d+m/g, 'for: 0s');
  writeFileSync(join(promDir, 'alerts.yml'), rules);
  const config = readFileSync(join(GRAFANA, 'prometheus/prometheus.yml'), 'utf8')
    .replace(/scrape_interval: \d+s/, 'scrape_interval: 1s')
    .replace(/evaluation_interval: \d+s/, 'evaluation_interval: 1s')
    .replace("'127.0.0.1:9464'", `'${target}'`);
  writeFileSync(join(promDir, 'prometheus.yml'), config);
  mkdirSync(join(promDir, 'tsdb'));
  const port = await freePort();
  prom = `http://127.0.0.1:${port}`;
  prometheus = spawn('prometheus', [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  await waitUntil(async () => (await fetch(`${prom}/-/ready`)).ok, 'prometheus to be ready', 30_000, 250);
  // a few scrapes while the backfill runs
  await waitUntil(async () => {
    const r = (await (await fetch(`${prom}/api/v1/query?query=${encodeURIComponent('count_over_time(candlekeep_up[1m])')}`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
    return Number(r.data.result[0]?.value[1] ?? 0) >= 6;
  }, 'six scrapes', 30_000, 250);
}, 90_000);

afterAll(async () => {
  prometheus?.kill('SIGTERM');
  daemon?.child.kill('SIGTERM');
  await daemon?.done;
  await mock?.stop();
});

async function promQuery(expr: string): Promise<{ status: string; data: { resultType: string; result: unknown[] } }> {
  const q = expr.replaceAll('$__rate_interval', '15s').replaceAll('$__interval', '5s').replaceAll('$__range', '1m');
  return (await (await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as never;
}

describe('http endpoints', () => {
  it('serve metrics, probes and health with the right status codes and content types', async () => {
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await metrics.text()).toMatch(/^candlekeep_stream_completeness_ratio\{stream="binance:klines:BTCUSDT:1m",venue="binance",endpoint="klines",symbol="BTCUSDT",interval="1m"\} [0-9.]+$/m);
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect([ready.status, await ready.text()]).toEqual([200, 'ready\n']);
    const h = await fetch(`${url}/health`);
    expect(h.headers.get('content-type')).toBe('application/health+json');
    const body = (await h.json()) as { status: string; streams: Array<Record<string, unknown>>; writer: Record<string, unknown>; venues: Array<Record<string, unknown>> };
    expect(body.streams.map((s) => s.stream)).toEqual(['binance:klines:BTCUSDT:1m', 'binance:klines:BTCUSDT:1h', 'binance:klines:ETHUSDT:1m', 'binance:klines:ETHUSDT:1h']);
    expect(body.streams[0]).toMatchObject({ slices: { failed: 0 }, actor: 'running', reason: null });
    expect(Object.keys(body.streams[0]!).sort()).toEqual(['actor', 'caughtUp', 'completeness', 'lagSeconds', 'lastClosedCandle', 'reason', 'slices', 'status', 'stream']);
    expect(body.writer).toHaveProperty('queueDepth');
    expect(body.venues[0]).toMatchObject({ venue: 'binance', limits: [{ type: 'REQUEST_WEIGHT', windowMs: 60_000, budget: 5400, limit: 6000 }, { type: 'RAW_REQUESTS' }], bannedUntil: null });
    expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    const head = await fetch(`${url}/metrics`, { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
  });
});

describe('start-up', () => {
  it('while exchangeInfo cannot be read, /livez answers 200, /readyz, /health and candlekeep_ready say starting, SIGTERM ends it at once, and nothing is stored', async () => {
    const dir = tempDir();
    const deadPort = await freePort(); // nothing listens there: every attempt is refused and retried with backoff
    const cfg = writeConfig(dir, {
      venues: { binance: { baseUrl: `http://127.0.0.1:${deadPort}` } },
      streams: [{ venue: 'binance', endpoint: 'klines', symbols: ['BTCUSDT'], intervals: ['1m'], start: '2024-02-20' }],
      fetcher: { maxAttempts: 16 },
    });
    const d = spawnCandlekeep(['run', '--config', cfg]);
    const base = await daemonUrl(d.output, 'http server listening');
    await waitUntil(() => d.output().includes('"msg":"exchangeInfo failed; retrying"'), 'a failed exchangeInfo attempt', 20_000);
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect([ready.status, await ready.text()]).toEqual([503, 'not ready: starting\n']);
    const health = await fetch(`${base}/health`);
    expect([health.status, await health.json()]).toEqual([503, { status: 'fail', reasons: ['starting'] }]);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^candlekeep_process_cpu_seconds_total [0-9.e+-]+$/m);
    expect(text).toMatch(/^candlekeep_up\{version="[^"]+"\} 1$/m);
    expect(text).toMatch(/^candlekeep_ready 0$/m);
    expect(d.output()).not.toContain('candlekeep started');
    // SIGTERM ends the wait between attempts (up to 30 s) at once, cleanly.
    const signalledAt = Date.now();
    d.child.kill('SIGTERM');
    const r = await d.done;
    expect(Date.now() - signalledAt).toBeLessThan(5000);
    expect([r.code, r.signal]).toEqual([0, null]);
    const lines = d.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; signal?: string; ok?: boolean });
    expect(lines.find((l) => l.msg === 'stopping')?.signal).toBe('SIGTERM');
    expect(lines.find((l) => l.msg === 'candlekeep stopped')?.ok).toBe(true);
    expect(existsSync(join(dir, 'data', 'candlekeep.lmdb'))).toBe(false);
  }, 60_000);
});

describe('dashboard and alert rules', () => {
  it('promtool accepts the scrape config and the rules', () => {
    const rules = spawnSync('promtool', ['check', 'rules', join(GRAFANA, 'prometheus/alerts.yml')], { encoding: 'utf8' });
    expect(rules.stdout + rules.stderr).toContain('SUCCESS: 9 rules found');
    expect(rules.status).toBe(0);
    const config = spawnSync('promtool', ['check', 'config', join(GRAFANA, 'prometheus/prometheus.yml')], { encoding: 'utf8' });
    expect(config.stdout + config.stderr).toContain('SUCCESS');
    expect(config.status).toBe(0);
  });

  it('every metric the dashboard and the alerts name is served and documented in the README', async () => {
    const served = await (await fetch(`${url}/metrics`)).text();
    const names = new Set([...panelQueries.map((q) => q.expr), ...alertExprs].flatMap(metricNames));
    expect(names.size).toBeGreaterThan(20);
    for (const name of names) {
      expect(served, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
      expect(README, name).toContain(`| \`${name}\` |`);
    }
  });

  it('every panel query returns success and a non-empty result from Prometheus', async () => {
    expect(panelQueries.length).toBeGreaterThan(25);
    for (const q of panelQueries) {
      const r = await promQuery(q.expr);
      expect(r.status, `${q.panel}: ${q.expr}`).toBe('success');
      expect(r.data.result.length, `${q.panel}: ${q.expr}`).toBeGreaterThan(0);
    }
  });

  it('a stream whose symbol the mock stops serving fails /health with the reason, /livez stays 200, and its alert fires', async () => {
    mock.delist('ETHUSDT');
    const h = await waitUntil(async () => {
      const res = await fetch(`${url}/health`);
      const body = (await res.json()) as { status: string; reasons: string[]; streams: Array<{ stream: string; status: string; reason: string | null }> };
      return res.status === 503 ? body : null;
    }, '/health to fail', 30_000, 250);
    expect(h.status).toBe('fail');
    const eth = h.streams.find((s) => s.stream === 'binance:klines:ETHUSDT:1m')!;
    expect(eth.status).toBe('fail');
    expect(eth.reason).toMatch(/^CK_ERR_UNKNOWN_SYMBOL: ETHUSDT: /);
    expect(h.streams.find((s) => s.stream === 'binance:klines:BTCUSDT:1m')!.status).toBe('pass');
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    const alert = await waitUntil(async () => {
      const r = (await (await fetch(`${prom}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } };
      return r.data.alerts.find((a) => a.labels.alertname === 'CandlekeepStreamFailed' && a.labels.symbol === 'ETHUSDT' && a.state === 'firing');
    }, 'CandlekeepStreamFailed to fire', 30_000, 250);
    expect(alert.labels.severity).toBe('critical');
  }, 60_000);

  it('logs: JSON lines with pid and the stream fields, one file per stream, no ANSI codes', () => {
    const out = daemon.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const actorLine = out.find((l) => l.stream === 'binance:klines:ETHUSDT:1m' && l.msg !== 'actor exited');
    expect(actorLine).toMatchObject({ pid: expect.any(Number), venue: 'binance', endpoint: 'klines', symbol: 'ETHUSDT', interval: '1m' });
    const logs = join(dataDir, 'logs');
    const main = readdirSync(logs).filter((f) => /^candlekeep\.\d{4}-\d{2}-\d{2}\.0\.log$/.test(f));
    expect(main).toHaveLength(1);
    const text = readFileSync(join(logs, main[0]!), 'utf8');
    expect(text).not.toMatch(/\x1b\[/);
    expect(text.split('\n').filter(Boolean).every((l) => (JSON.parse(l) as { pid?: number }).pid === daemon.child.pid)).toBe(true);
    const eth = readdirSync(join(logs, 'streams')).find((f) => f.startsWith('binance_klines_ETHUSDT_1m.'))!;
    const ethLines = readFileSync(join(logs, 'streams', eth), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(ethLines.length).toBeGreaterThan(0);
    expect(ethLines.every((l) => l.stream === 'binance:klines:ETHUSDT:1m')).toBe(true);
    expect(ethLines.some((l) => l.code === 'CK_ERR_UNKNOWN_SYMBOL')).toBe(true);
  });
});
