// The Binance family: spot (binance.com), Binance.US and USD-M futures share
// error codes, exchangeInfo, weight headers and the klines row; they differ in
// host, path prefix, intervals and what a request weighs. Binance.US is a
// different market, so it is its own venue (its own key space in storage).
import { CkError } from '../../errors.js';
import { headerValue, type ResponseHeaders } from '../../http/headers.js';
import { BINANCE_INTERVALS } from '../../intervals.js';
import type { EndpointDef, VenueDef, VenueInfo } from '../venue.js';
import { fundingRate } from './funding.js';
import { klinesEndpoint } from './klines.js';

/** Default pause for a 403 (WAF) without Retry-After: 5 minutes. */
const WAF_PAUSE_MS = 5 * 60_000;
const BUSY_CODES = new Set([-1000, -1001, -1007, -1008]);

function retryAfterMs(headers: ResponseHeaders): number | undefined {
  const v = headerValue(headers, 'retry-after');
  const seconds = v === undefined ? NaN : Number(v);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function parseError(body: string): { code: number; msg: string } | null {
  try {
    const parsed = JSON.parse(body) as { code?: unknown; msg?: unknown };
    if (typeof parsed.code === 'number') return { code: parsed.code, msg: String(parsed.msg ?? '') };
  } catch {
    // not JSON: an HTML error page or a truncated body
  }
  return null;
}

export function classifyBinance(status: number, headers: ResponseHeaders, body: string, now = Date.now()): CkError {
  const err = parseError(body);
  const said = err ? ` (${err.code}: ${err.msg})` : '';
  const wait = retryAfterMs(headers);
  if (status === 429) return new CkError('CK_ERR_RATE_LIMITED', `HTTP 429${said}`, opt(wait));
  if (status === 418) {
    const until = /banned until (\d+)/.exec(err?.msg ?? body)?.[1];
    const untilWait = until === undefined ? undefined : Math.max(0, Number(until) - now);
    return new CkError('CK_ERR_IP_BANNED', `HTTP 418: IP banned${said}`, opt(wait ?? untilWait));
  }
  if (status === 403) return new CkError('CK_ERR_WAF_BLOCKED', 'HTTP 403 from the web application firewall', opt(wait ?? WAF_PAUSE_MS));
  if (status >= 500) return new CkError('CK_ERR_HTTP_5XX', `HTTP ${status}${said}`);
  if (err) {
    if (err.code === -1121) return new CkError('CK_ERR_UNKNOWN_SYMBOL', `exchange says invalid symbol${said}`);
    if (err.code === -1120) return new CkError('CK_ERR_INVALID_INTERVAL', `exchange says invalid interval${said}`);
    if (err.code === -1003) return new CkError('CK_ERR_RATE_LIMITED', `HTTP ${status}${said}`, opt(wait));
    if (BUSY_CODES.has(err.code)) return new CkError('CK_ERR_HTTP_5XX', `HTTP ${status}${said}`);
  }
  return new CkError('CK_ERR_EXCHANGE_REJECTED', `HTTP ${status}${said}`);
}

function opt(retryAfter: number | undefined): { retryAfterMs?: number } {
  return retryAfter === undefined ? {} : { retryAfterMs: retryAfter };
}

function binanceVenue(o: Pick<VenueDef, 'name' | 'title' | 'defaultBaseUrl' | 'intervals' | 'endpoints' | 'exchangeInfoWeight'> & { prefix: string }): VenueDef {
  return {
    name: o.name,
    title: o.title,
    defaultBaseUrl: o.defaultBaseUrl,
    intervals: o.intervals,
    endpoints: o.endpoints,
    timePath: `${o.prefix}/time`,
    timeWeight: 1,
    exchangeInfoPath: `${o.prefix}/exchangeInfo`,
    exchangeInfoWeight: o.exchangeInfoWeight,
    parseTime: (body) => {
      const t = (body as { serverTime?: unknown } | null)?.serverTime;
      return typeof t === 'number' ? t : null;
    },
    classify: (status, headers, body) => classifyBinance(status, headers, body),
    parseExchangeInfo: parseBinanceExchangeInfo,
  };
}

const NO_SECONDS = BINANCE_INTERVALS.filter((i) => i !== '1s');
const spotKlines = { defaultLimit: 1000, maxLimit: 1000, weight: () => 2 };
const endpoints = (...list: EndpointDef[]) => Object.fromEntries(list.map((e) => [e.name, e]));

/** binance.com spot: klines and uiKlines weigh 2 whatever the limit. */
export const binance = binanceVenue({
  name: 'binance', title: 'Binance', defaultBaseUrl: 'https://api.binance.com', prefix: '/api/v3', intervals: BINANCE_INTERVALS, exchangeInfoWeight: 20,
  endpoints: endpoints(klinesEndpoint('klines', '/api/v3/klines', spotKlines), klinesEndpoint('uiKlines', '/api/v3/uiKlines', spotKlines)),
});

/** Binance.US: the spot API's shapes, klines weigh 1, no `1s`. */
export const binanceus = binanceVenue({
  name: 'binanceus', title: 'Binance.US', defaultBaseUrl: 'https://api.binance.us', prefix: '/api/v3', intervals: NO_SECONDS, exchangeInfoWeight: 20,
  endpoints: endpoints(klinesEndpoint('klines', '/api/v3/klines', { defaultLimit: 1000, maxLimit: 1000, weight: () => 1 })),
});

/** USD-M futures klines weigh by limit; 499 rows (weight 2) is the cheapest per candle. */
export function usdmKlinesWeight(limit: number): number {
  return limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;
}

/** Binance USD-M futures (fapi): klines up to 1500 rows, no `1s`; funding rates. */
export const binanceusdm = binanceVenue({
  name: 'binanceusdm', title: 'Binance USD-M futures', defaultBaseUrl: 'https://fapi.binance.com', prefix: '/fapi/v1', intervals: NO_SECONDS, exchangeInfoWeight: 1,
  endpoints: endpoints(klinesEndpoint('klines', '/fapi/v1/klines', { defaultLimit: 499, maxLimit: 1500, weight: usdmKlinesWeight }), fundingRate),
});

const UNIT: Record<string, { ms: number; letter: string }> = {
  SECOND: { ms: 1000, letter: 's' },
  MINUTE: { ms: 60_000, letter: 'm' },
  HOUR: { ms: 3_600_000, letter: 'h' },
  DAY: { ms: 86_400_000, letter: 'd' },
};

/** `rateLimits` (REQUEST_WEIGHT and RAW_REQUESTS, any window; ORDERS ignored) and the symbol list. */
export function parseBinanceExchangeInfo(body: unknown): VenueInfo {
  const b = body as { rateLimits?: unknown; symbols?: unknown } | null;
  if (!b || !Array.isArray(b.rateLimits) || !Array.isArray(b.symbols)) {
    throw new CkError('CK_ERR_RESPONSE_MALFORMED', 'exchangeInfo: expected rateLimits and symbols arrays');
  }
  const limits: VenueInfo['limits'] = [];
  for (const r of b.rateLimits as Array<Record<string, unknown>>) {
    const type = r.rateLimitType;
    const unit = UNIT[String(r.interval)];
    const n = r.intervalNum;
    const limit = r.limit;
    if (type !== 'REQUEST_WEIGHT' && type !== 'RAW_REQUESTS') continue;
    if (!unit || typeof n !== 'number' || !(n > 0) || typeof limit !== 'number' || !(limit > 0)) {
      throw new CkError('CK_ERR_RESPONSE_MALFORMED', `exchangeInfo: unreadable rate limit ${JSON.stringify(r)}`);
    }
    limits.push({ type, windowMs: unit.ms * n, limit, header: type === 'REQUEST_WEIGHT' ? `x-mbx-used-weight-${n}${unit.letter}` : null });
  }
  const symbols = new Map<string, string>();
  for (const s of b.symbols as Array<Record<string, unknown>>) {
    if (typeof s.symbol === 'string') symbols.set(s.symbol, typeof s.status === 'string' ? s.status : 'UNKNOWN');
  }
  return { limits, symbols };
}
