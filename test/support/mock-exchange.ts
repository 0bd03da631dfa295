// A mock Binance REST server on loopback, faithful to
// docs/exchanges.md: inclusive open-time selection, the still-open
// candle, 12-field rows, Binance's 400 error codes, per-IP weight limits
// with 429 then 418, and faults on demand. It plays binance.com spot,
// Binance.US or USD-M futures (`venue`). Every test and benchmark talks to
// it over real HTTP.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { addIntervals, BINANCE_INTERVALS, floorToInterval, isInterval, type Interval } from '../../src/intervals.js';
import { CsvCandles } from './csv-candles.js';
import { partialRow, type KlineRow } from './kline-row.js';
import { MockClock } from './mock-clock.js';
import { MockFaults, type FaultKind, type FaultOptions } from './mock-faults.js';
import { BINANCE_SPOT_LIMITS, MockRateLimits, type PathLimitDecl, type RateLimitDecl, type RateLimitOptions } from './mock-rate-limits.js';
import { SyntheticCandles } from './synthetic-candles.js';
import { fundingEvents } from './synthetic-funding.js';

export interface MockSymbol {
  symbol: string;
  /** Listing time (ms); synthetic data starts at this UTC day. */
  listedAt?: number;
  /** Serve this archive CSV (gzip) instead of synthetic candles. */
  csv?: string;
  /** USD-M: hours between funding events (default 8). */
  fundingEveryH?: number;
}

export interface MaintenanceWindow {
  from: number;
  to: number;
}

/** Which Binance the mock plays (docs/exchanges.md): paths, intervals, limits and weights. */
export type MockVenue = 'binance' | 'binanceus' | 'binanceusdm';

interface Flavour {
  prefix: string;
  intervals: readonly Interval[];
  maxLimit: number;
  klinesWeight(limit: number): number;
  exchangeInfoWeight: number;
  uiKlines: boolean;
  /** `/fundingRate` (USD-M). */
  funding: boolean;
  limits: RateLimitDecl[];
  /** Limits of one path, undeclared (USD-M fundingRate's 500 requests per 5 minutes). */
  pathLimits?: PathLimitDecl[];
  /** The 12th field of a row: "0" on spot; futures send something else there. */
  futuresRow: boolean;
}

const NO_SECONDS = BINANCE_INTERVALS.filter((i) => i !== '1s');
const FLAVOURS: Record<MockVenue, Flavour> = {
  binance: { prefix: '/api/v3', intervals: BINANCE_INTERVALS, maxLimit: 1000, klinesWeight: () => 2, exchangeInfoWeight: 20, uiKlines: true, funding: false, limits: BINANCE_SPOT_LIMITS, futuresRow: false },
  binanceus: {
    prefix: '/api/v3', intervals: NO_SECONDS, maxLimit: 1000, klinesWeight: () => 1, exchangeInfoWeight: 20, uiKlines: false, funding: false, futuresRow: false,
    limits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 1200 }, { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61_000 }],
  },
  binanceusdm: {
    prefix: '/fapi/v1', intervals: NO_SECONDS, maxLimit: 1500, exchangeInfoWeight: 1, uiKlines: false, funding: true, futuresRow: true,
    klinesWeight: (limit) => (limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10),
    limits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 }],
    pathLimits: [{ rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 500, path: '/fapi/v1/fundingRate' }],
  },
};

export interface MockExchangeOptions {
  /** Which exchange to play (default `binance`: binance.com spot). */
  venue?: MockVenue;
  port?: number;
  host?: string;
  seed?: number;
  symbols?: MockSymbol[];
  maintenance?: MaintenanceWindow[];
  clock?: MockClock;
  rateLimits?: RateLimitOptions;
  faults?: FaultOptions;
  /** limit > 1000: `reject` with -1130 or `cap` at 1000 (Binance's behaviour is unconfirmed). */
  overLimit?: 'reject' | 'cap';
  /** Keep each rendered 200 body by URL, encoded, and serve it again (benchmarks: a held clock, no faults). */
  cacheResponses?: boolean;
  /** Answer every data request from a client IP with 403 HTML (WAF). */
  waf403?: boolean;
}

export interface RequestLogEntry {
  /** The mock clock's time at arrival. */
  time: number;
  /** Real (local) time at arrival. */
  at: number;
  path: string;
  params: Record<string, string>;
  weight: number;
  status: number;
  fault: FaultKind | null;
}

const DEFAULT_SYMBOLS: MockSymbol[] = [
  { symbol: 'BTCUSDT', listedAt: Date.UTC(2017, 7, 17) },
  { symbol: 'ETHUSDT', listedAt: Date.UTC(2017, 7, 17) },
];
const SYMBOL_CHARS = /^[A-Z0-9\-_.]{1,20}$/;
const INT = /^-?[0-9]{1,20}$/;
const KLINE_PARAMS = new Set(['symbol', 'interval', 'startTime', 'endTime', 'timeZone', 'limit']);

class BinanceError {
  constructor(readonly status: number, readonly code: number, readonly msg: string) {}
}

export class MockExchange {
  readonly clock: MockClock;
  readonly limits: MockRateLimits;
  readonly faults: MockFaults;
  readonly log: RequestLogEntry[] = [];
  private readonly synthetic: SyntheticCandles;
  private readonly csv = new Map<string, CsvCandles>();
  private readonly symbols = new Map<string, MockSymbol>();
  private readonly delisted = new Set<string>();
  private readonly rendered = new Map<string, Buffer>();
  private server: Server | null = null;
  private readonly sockets = new Set<import('node:net').Socket>();
  maintenance: MaintenanceWindow[];
  waf403: boolean;
  private readonly flavour: Flavour;
  private readonly routes: Record<string, Route>;

  constructor(private readonly o: MockExchangeOptions = {}) {
    this.clock = o.clock ?? new MockClock();
    this.flavour = FLAVOURS[o.venue ?? 'binance'];
    this.routes = routesFor(this.flavour);
    this.limits = new MockRateLimits({ limits: this.flavour.limits, pathLimits: this.flavour.pathLimits, ...o.rateLimits });
    this.faults = new MockFaults(o.faults);
    this.synthetic = new SyntheticCandles(o.seed ?? 1);
    this.maintenance = o.maintenance ?? [];
    this.waf403 = o.waf403 ?? false;
    for (const s of o.symbols ?? DEFAULT_SYMBOLS) {
      this.symbols.set(s.symbol, s);
      if (s.csv) this.csv.set(s.symbol, new CsvCandles(s.csv));
    }
  }

  get url(): string {
    const a = this.server?.address() as AddressInfo | null;
    if (!a) throw new Error('mock exchange is not listening');
    return `http://${this.o.host ?? '127.0.0.1'}:${a.port}`;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(this.o.port ?? 0, this.o.host ?? '127.0.0.1', resolve));
    return this.url;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  /** Symbols listed now (delisted ones left out). */
  listed(): string[] {
    return [...this.symbols.keys()].filter((s) => !this.delisted.has(s));
  }

  /** The symbol stops being listed: exchangeInfo drops it and klines answer -1121. */
  delist(symbol: string): void {
    this.delisted.add(symbol);
  }

  relist(symbol: string): void {
    this.delisted.delete(symbol);
  }

  /** Rows exactly as a klines request at time `now` would return them (no faults). */
  klines(symbol: string, interval: Interval, startTime: number | undefined, endTime: number | undefined, limit = 500, now = this.clock.now()): KlineRow[] {
    const upTo = Math.min(endTime ?? Infinity, now);
    let from = startTime;
    if (from === undefined) {
      // No startTime: the latest `limit` rows up to endTime/now.
      from = addIntervals(floorToInterval(upTo, interval), interval, -(limit - 1));
      if (!Number.isFinite(from)) from = 0;
    }
    const out: KlineRow[] = [];
    // Rows inside maintenance windows are dropped, so read the source in pages until `limit` rows survive.
    for (let cursor = from; out.length < limit;) {
      const rows = this.source(symbol, interval, cursor, upTo, limit);
      for (const row of rows) {
        const shaped = this.applyMaintenance(row, interval);
        if (!shaped) continue;
        out.push(shaped[6] >= now ? partialRow(shaped, (now - shaped[0]) / (shaped[6] + 1 - shaped[0])) : shaped);
        if (out.length === limit) break;
      }
      if (rows.length < limit) break;
      cursor = rows[rows.length - 1]![0] + 1;
    }
    return out;
  }

  private source(symbol: string, interval: Interval, from: number, to: number, limit: number): KlineRow[] {
    const csv = this.csv.get(symbol);
    if (csv) return csv.rows(interval, from, to, limit);
    const s = this.symbols.get(symbol)!;
    return this.synthetic.rows({ symbol, listedAt: s.listedAt ?? Date.UTC(2017, 7, 17) }, interval, from, to, limit);
  }

  /** Candles wholly inside a maintenance window are absent; the one it starts in is cut short. */
  private applyMaintenance(row: KlineRow, interval: Interval): KlineRow | null {
    const open = row[0];
    const end = addIntervals(open, interval, 1);
    for (const w of this.maintenance) {
      if (open >= w.from && end <= w.to) return null;
      if (open < w.from && w.from < end && end <= w.to) {
        const cut = [...row] as KlineRow;
        cut[6] = w.from - 1;
        return cut;
      }
    }
    return row;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://mock');
    const params = Object.fromEntries(url.searchParams);
    const ip = req.socket.remoteAddress ?? 'unknown';
    const now = this.clock.now();
    const entry: RequestLogEntry = { time: now, at: Date.now(), path: url.pathname, params, weight: 0, status: 0, fault: null };
    this.log.push(entry);
    const route = this.routes[url.pathname];
    const headers = () => ({ 'content-type': 'application/json;charset=UTF-8', date: new Date(this.clock.now()).toUTCString(), ...this.limits.headers(ip) });
    const send = (status: number, body: string | Buffer, extra: Record<string, string> = {}) => {
      entry.status = status;
      res.writeHead(status, { ...headers(), ...extra });
      res.end(body);
    };
    if (!route || req.method !== 'GET') {
      send(404, '<html><body><h1>404 Not Found</h1></body></html>', { 'content-type': 'text/html' });
      return;
    }
    const weight = route.weight(params);
    entry.weight = weight;
    const verdict = this.limits.admit(ip, weight, url.pathname);
    if (verdict.kind === '429') {
      send(429, JSON.stringify({ code: -1003, msg: 'Too much request weight used; current limit is exceeded. Please use WebSocket Streams for live updates to avoid polling the API.' }), { 'retry-after': String(verdict.retryAfterS) });
      return;
    }
    if (verdict.kind === '418') {
      send(418, JSON.stringify({ code: -1003, msg: `Way too much request weight used; IP banned until ${verdict.bannedUntil}. Please use WebSocket Streams for live updates to avoid bans.` }), { 'retry-after': String(verdict.retryAfterS) });
      return;
    }
    const dataRequest = route.data;
    if (dataRequest && this.waf403) {
      send(403, WAF_HTML, { 'content-type': 'text/html' });
      return;
    }
    const fault = dataRequest ? this.faults.next() : null;
    entry.fault = fault;
    let status = 200;
    let body: string;
    try {
      const micro = req.headers['x-mbx-time-unit'] === 'MICROSECOND';
      const key = this.o.cacheResponses && !fault ? `${micro ? 'us' : 'ms'}${req.url}` : null;
      const cached = key === null ? undefined : this.rendered.get(key);
      if (cached) {
        send(200, cached);
        return;
      }
      body = route.handle(this, params, now, micro, fault);
      if (key !== null) this.rendered.set(key, Buffer.from(body));
    } catch (err) {
      if (!(err instanceof BinanceError)) throw err;
      status = err.status;
      body = JSON.stringify({ code: err.code, msg: err.msg });
    }
    if (fault && status === 200) {
      await this.deliverWithFault(fault, req, res, body, entry, headers);
      return;
    }
    send(status, body);
  }

  private async deliverWithFault(fault: FaultKind, _req: IncomingMessage, res: ServerResponse, body: string, entry: RequestLogEntry, headers: () => Record<string, string>): Promise<void> {
    const sendRaw = (status: number, payload: string, extra: Record<string, string> = {}) => {
      entry.status = status;
      res.writeHead(status, { ...headers(), ...extra });
      res.end(payload);
    };
    switch (fault) {
      case 'http-500-json': return sendRaw(500, JSON.stringify({ code: -1000, msg: 'An unknown error occurred while processing the request.' }));
      case 'http-502-html': return sendRaw(502, '<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>', { 'content-type': 'text/html' });
      case 'busy-503': return sendRaw(503, JSON.stringify({ code: -1008, msg: 'Server is currently overloaded with other requests. Please try again in a few minutes.' }));
      case 'waf-403': return sendRaw(403, WAF_HTML, { 'content-type': 'text/html', ...(this.faults.wafRetryAfterS === undefined ? {} : { 'retry-after': String(this.faults.wafRetryAfterS) }) });
      case 'malformed-json': return sendRaw(200, body.slice(0, Math.max(1, Math.floor(body.length / 2))) + '}{');
      case 'reset':
        entry.status = -1;
        res.socket?.destroy();
        return;
      case 'delay-headers':
        await sleep(this.faults.delayMs);
        if (!res.socket || res.socket.destroyed) return;
        return sendRaw(200, body);
      case 'stall-body': {
        entry.status = 200;
        res.writeHead(200, { ...headers(), 'content-length': String(Buffer.byteLength(body)) });
        const half = Math.floor(body.length / 2);
        res.write(body.slice(0, half));
        await sleep(this.faults.delayMs);
        if (!res.socket || res.socket.destroyed) return;
        res.end(body.slice(half));
        return;
      }
      case 'truncate': {
        entry.status = 200;
        res.writeHead(200, { ...headers(), 'content-length': String(Buffer.byteLength(body) + 100) });
        res.write(body.slice(0, Math.floor(body.length / 2)));
        res.socket?.end();
        return;
      }
      case 'rows-outside-window':
      case 'duplicate-rows':
      case 'out-of-order':
      case 'wrong-close-time':
        return sendRaw(200, JSON.stringify(corruptRows(fault, JSON.parse(body) as KlineRow[], entry.params)));
    }
  }

  // --- route handlers -------------------------------------------------

  exchangeInfo(params: Record<string, string>, now: number): string {
    let listed = this.listed();
    if (params.symbol !== undefined) {
      if (!listed.includes(params.symbol)) throw new BinanceError(400, -1121, 'Invalid symbol.');
      listed = [params.symbol];
    }
    return JSON.stringify({
      timezone: 'UTC',
      serverTime: now,
      rateLimits: this.limits.limits,
      exchangeFilters: [],
      symbols: listed.map((symbol) => ({
        symbol,
        status: 'TRADING',
        baseAsset: symbol.replace(/(USDT|BUSD|BTC|ETH)$/, ''),
        quoteAsset: /(USDT|BUSD|BTC|ETH)$/.exec(symbol)?.[1] ?? 'USDT',
        isSpotTradingAllowed: true,
      })),
    });
  }

  klinesRoute(params: Record<string, string>, now: number, micro: boolean): string {
    const extra = Object.keys(params).filter((k) => !KLINE_PARAMS.has(k));
    if (extra.length > 0) throw new BinanceError(400, -1104, `Not all sent parameters were read; read '${Object.keys(params).length - extra.length}' parameter(s) but was sent '${Object.keys(params).length}'.`);
    const { symbol, interval } = params;
    if (!symbol) throw mandatory('symbol');
    if (!SYMBOL_CHARS.test(symbol)) throw new BinanceError(400, -1100, "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'.");
    if (!interval) throw mandatory('interval');
    for (const p of ['startTime', 'endTime', 'limit'] as const) {
      const v = params[p];
      if (v !== undefined && !INT.test(v)) throw new BinanceError(400, -1100, `Illegal characters found in parameter '${p}'; legal range is '^-?[0-9]{1,20}$'.`);
    }
    if (!this.symbols.has(symbol) || this.delisted.has(symbol)) throw new BinanceError(400, -1121, 'Invalid symbol.');
    if (!isInterval(interval) || !this.flavour.intervals.includes(interval)) throw new BinanceError(400, -1120, 'Invalid interval.');
    const max = this.flavour.maxLimit;
    let limit = params.limit === undefined ? 500 : Number(params.limit);
    if (limit < 1 || (limit > max && (this.o.overLimit ?? 'reject') === 'reject')) throw new BinanceError(400, -1130, "Data sent for parameter 'limit' is not valid.");
    limit = Math.min(limit, max);
    const scale = micro ? 1000 : 1;
    const start = params.startTime === undefined ? undefined : Math.floor(Number(params.startTime) / scale);
    const end = params.endTime === undefined ? undefined : Math.floor(Number(params.endTime) / scale);
    if (start !== undefined && end !== undefined && start > end) throw new BinanceError(400, -1023, 'Start time is greater than end time.');
    // A startTime inside a candle selects the next candle: selection is by open time.
    const rows = this.klines(symbol, interval, start, end, limit, now);
    if (!micro && !this.flavour.futuresRow) return JSON.stringify(rows);
    // Rewritten on copies: archive rows are the CSV source's own arrays.
    return JSON.stringify(rows.map((row) => {
      const r = [...row] as KlineRow;
      if (micro) [r[0], r[6]] = [r[0] * 1000, r[6] * 1000 + 999];
      if (this.flavour.futuresRow) r[11] = r[7]; // not "0" on futures: nothing may assume it is
      return r;
    }));
  }

  /** USD-M `/fapi/v1/fundingRate`: events with startTime <= fundingTime <= endTime, oldest first, limit default 100, max 1000. */
  fundingRoute(params: Record<string, string>, now: number): string {
    const extra = Object.keys(params).filter((k) => !FUNDING_PARAMS.has(k));
    if (extra.length > 0) throw new BinanceError(400, -1104, `Not all sent parameters were read; read '${Object.keys(params).length - extra.length}' parameter(s) but was sent '${Object.keys(params).length}'.`);
    const { symbol } = params;
    if (!symbol) throw mandatory('symbol');
    for (const p of ['startTime', 'endTime', 'limit'] as const) {
      const v = params[p];
      if (v !== undefined && !INT.test(v)) throw new BinanceError(400, -1100, `Illegal characters found in parameter '${p}'; legal range is '^-?[0-9]{1,20}$'.`);
    }
    const s = this.symbols.get(symbol);
    if (!s || this.delisted.has(symbol)) throw new BinanceError(400, -1121, 'Invalid symbol.');
    const limit = params.limit === undefined ? 100 : Number(params.limit);
    if (limit < 1 || limit > 1000) throw new BinanceError(400, -1130, "Data sent for parameter 'limit' is not valid.");
    const to = Math.min(params.endTime === undefined ? Infinity : Number(params.endTime), now);
    const listedAt = s.listedAt ?? Date.UTC(2017, 7, 17);
    const every = s.fundingEveryH ?? 8;
    const seed = this.o.seed ?? 1;
    if (params.startTime !== undefined) return JSON.stringify(fundingEvents(seed, symbol, listedAt, every, Number(params.startTime), to, limit));
    // No startTime: the latest `limit` events up to endTime/now.
    const from = Math.max(listedAt - 86_400_000, to - (limit + 1) * every * 3_600_000);
    return JSON.stringify(fundingEvents(seed, symbol, listedAt, every, from, to, Infinity).slice(-limit));
  }
}

const FUNDING_PARAMS = new Set(['symbol', 'startTime', 'endTime', 'limit']);

interface Route {
  weight(params: Record<string, string>): number;
  data: boolean;
  handle(m: MockExchange, params: Record<string, string>, now: number, micro: boolean, fault: FaultKind | null): string;
}

function routesFor(f: Flavour): Record<string, Route> {
  const klines: Route = {
    weight: (p) => f.klinesWeight(p.limit === undefined || !INT.test(p.limit) ? 500 : Math.min(Math.max(Number(p.limit), 1), f.maxLimit)),
    data: true,
    handle: (m, p, now, micro) => m.klinesRoute(p, now, micro),
  };
  return {
    [`${f.prefix}/ping`]: { weight: () => 1, data: false, handle: () => '{}' },
    [`${f.prefix}/time`]: { weight: () => 1, data: false, handle: (_m, _p, now) => JSON.stringify({ serverTime: now }) },
    [`${f.prefix}/exchangeInfo`]: { weight: () => f.exchangeInfoWeight, data: false, handle: (m, p, now) => m.exchangeInfo(p, now) },
    [`${f.prefix}/klines`]: klines,
    ...(f.uiKlines ? { [`${f.prefix}/uiKlines`]: klines } : {}),
    ...(f.funding ? { [`${f.prefix}/fundingRate`]: { weight: () => 1, data: true, handle: (m, p, now) => m.fundingRoute(p, now) } satisfies Route } : {}),
  };
}

function mandatory(name: string): BinanceError {
  return new BinanceError(400, -1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
}

function corruptRows(kind: FaultKind, rows: KlineRow[], params: Record<string, string>): KlineRow[] {
  const out = rows.map((r) => [...r] as KlineRow);
  const interval = (params.interval ?? '1m') as Interval;
  const mid = Math.floor(out.length / 2);
  switch (kind) {
    case 'rows-outside-window': {
      const last = out[out.length - 1];
      const after = params.endTime !== undefined ? Number(params.endTime) + 1 : (last ? last[6] + 1 : 0);
      const open = floorToInterval(after, interval) < after ? addIntervals(floorToInterval(after, interval), interval, 1) : after;
      const template = last ?? ([0, '1.00000000', '1.00000000', '1.00000000', '1.00000000', '0.00000000', 0, '0.00000000', 0, '0.00000000', '0.00000000', '0'] as KlineRow);
      out.push([open, template[1], template[2], template[3], template[4], template[5], addIntervals(open, interval, 1) - 1, template[7], template[8], template[9], template[10], '0']);
      return out;
    }
    case 'duplicate-rows':
      if (out.length > 0) out.splice(mid, 0, [...out[mid]!] as KlineRow);
      return out;
    case 'out-of-order':
      if (out.length >= 2) {
        const j = Math.max(1, mid);
        [out[j - 1], out[j]] = [out[j]!, out[j - 1]!];
      } else if (out.length === 1) out.push([...out[0]!] as KlineRow);
      return out;
    case 'wrong-close-time':
      if (out.length > 0) out[mid]![6] += 1;
      else out.push([Number(params.startTime ?? 0), '1.00000000', '1.00000000', '1.00000000', '1.00000000', '0.00000000', Number(params.startTime ?? 0) - 5, '0.00000000', 0, '0.00000000', '0.00000000', '0']);
      return out;
    default:
      return out;
  }
}

const WAF_HTML = '<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1><p>Request blocked.</p></body></html>';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}

export { BINANCE_INTERVALS };
