// A mock OKX REST server on loopback, as docs/exchanges.md describes
// OKX: the `{"code","msg","data"}` envelope, candles as nine strings newest
// first with `confirm`, `after`/`before` both exclusive, history-candles'
// 20 requests per 2 s per IP (HTTP 429, code 50011), an unknown instrument
// as code 51001 with HTTP 200, and, on demand, stale answers: independent
// caches mean a request may see older data than the one before it. Candles
// come from the same synthetic source as the Binance mock (MockExchange,
// used as a data source only), so a bar is the same candle on both.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { addIntervals, floorToInterval, type Interval } from '../../src/intervals.js';
import { OKX_BARS } from '../../src/venues/okx/candles.js';
import { MockClock } from './mock-clock.js';
import { MockExchange, type MockSymbol } from './mock-exchange.js';

export interface MockOkxOptions {
  port?: number;
  clock?: MockClock;
  seed?: number;
  /** instIds (`BTC-USDT`) and listing times. */
  symbols?: MockSymbol[];
  /** Every Nth candles request answers from a lagging cache: the bars confirmed `staleMs` ago, nothing newer (0: never). */
  staleEvery?: number;
  staleMs?: number;
  /** history-candles requests per 2 s per IP (default 20). */
  requestsPer2s?: number;
}

export interface OkxLogEntry {
  path: string;
  params: Record<string, string>;
  status: number;
  code: string;
  stale: boolean;
  at: number;
}

const BAR_TO_INTERVAL = new Map(Object.entries(OKX_BARS).map(([iv, bar]) => [bar, iv as Interval]));
const CANDLE_PATHS = new Set(['/api/v5/market/history-candles', '/api/v5/market/candles']);

export class MockOkx {
  readonly clock: MockClock;
  readonly log: OkxLogEntry[] = [];
  private readonly source: MockExchange;
  private readonly recent = new Map<string, number[]>();
  private server: Server | null = null;
  private candleRequests = 0;
  /** Settable while running (a test turns the lagging cache off). */
  staleEvery: number;

  constructor(private readonly o: MockOkxOptions = {}) {
    this.staleEvery = o.staleEvery ?? 0;
    this.clock = o.clock ?? new MockClock();
    this.source = new MockExchange({ clock: this.clock, seed: o.seed ?? 1, symbols: o.symbols ?? [{ symbol: 'BTC-USDT', listedAt: Date.UTC(2019, 0, 1) }] });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://mock');
      const params = Object.fromEntries(url.searchParams);
      const entry: OkxLogEntry = { path: url.pathname, params, status: 200, code: '0', stale: false, at: Date.now() };
      this.log.push(entry);
      const send = (status: number, code: string, data: unknown[], msg = '') => {
        entry.status = status;
        entry.code = code;
        res.writeHead(status, { 'content-type': 'application/json', date: new Date(this.clock.now()).toUTCString() });
        res.end(JSON.stringify({ code, msg, data }));
      };
      const now = this.clock.now();
      if (url.pathname === '/api/v5/public/time') return send(200, '0', [{ ts: String(now) }]);
      if (url.pathname === '/api/v5/public/instruments') {
        if (params.instType !== 'SPOT') return send(400, '51000', [], 'Parameter instType error');
        return send(200, '0', this.source.listed().map((instId) => ({ instId, instType: 'SPOT', state: 'live' })));
      }
      if (!CANDLE_PATHS.has(url.pathname)) {
        res.writeHead(404, { 'content-type': 'text/html' }).end('<html>404</html>');
        entry.status = 404;
        return;
      }
      if (!this.admit(req.socket.remoteAddress ?? '?', Date.now())) return send(429, '50011', [], 'Too Many Requests');
      const interval = BAR_TO_INTERVAL.get(params.bar ?? '1m');
      const limit = params.limit === undefined ? 100 : Number(params.limit);
      if (!interval || !(limit >= 1 && limit <= 300)) return send(400, '51000', [], `Parameter ${interval ? 'limit' : 'bar'} error`);
      if (!params.instId || !this.source.listed().includes(params.instId)) return send(200, '51001', [], "Instrument ID doesn't exist.");
      const stale = this.staleEvery > 0 && ++this.candleRequests % this.staleEvery === 0;
      entry.stale = stale;
      const rows = this.candles(params.instId, interval, params.before, params.after, limit, stale ? now - (this.o.staleMs ?? 120_000) : now);
      return send(200, '0', stale ? rows.filter((r) => r[8] === '1') : rows);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.o.port ?? 0, '127.0.0.1', resolve));
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Rows with before < ts < after as the exchange knows them at `now`: newest first, at most `limit`, the newest ones. */
  candles(instId: string, interval: Interval, before: string | undefined, after: string | undefined, limit: number, now = this.clock.now()): string[][] {
    const to = Math.min(after === undefined ? Infinity : Number(after) - 1, now);
    const from = before === undefined ? addIntervals(floorToInterval(to, interval), interval, -limit) : Number(before) + 1;
    const rows = this.source.klines(instId, interval, from, to, 100_000, now);
    return rows.slice(-limit).reverse().map((r) => [String(r[0]), r[1], r[2], r[3], r[4], r[5], r[7], r[7], r[6] < now ? '1' : '0']);
  }

  private admit(ip: string, t: number): boolean {
    const times = (this.recent.get(ip) ?? []).filter((x) => x > t - 2000);
    this.recent.set(ip, times);
    if (times.length >= (this.o.requestsPer2s ?? 20)) return false;
    times.push(t);
    return true;
  }
}
