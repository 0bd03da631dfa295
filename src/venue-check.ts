// Start-up: read each venue's exchangeInfo once, check every configured
// symbol against it, and build the venue's shared request budget from the
// limits it declares. Runs on the main thread before anything is stored; the
// request itself goes out from a worker thread (`get`, see the daemon).
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResponseHeaders } from './http/headers.js';
import { VenueBudget, type BudgetLimit } from '../actors/rate-limiter.js';
import { backoffMs } from '../actors/backoff.js';
import { closest } from './closest.js';
import type { Config } from './config/load-config.js';
import { CkError, toWireError } from './errors.js';
import type { HttpSettings } from './http/exchange-http.js';
import type { Logger } from './logging.js';
import { bodyText } from './payload.js';
import { venueByName } from './venues/index.js';
import type { VenueInfo } from './venues/venue.js';

/** exchangeInfo lists every symbol: real Binance answers about 20 MB. */
const EXCHANGE_INFO_MAX_BYTES = 128 * 1024 * 1024;

export interface Fetched {
  status: number;
  headers: ResponseHeaders;
  body: Uint8Array;
}

/** One GET with these HTTP settings; rejects with a CkError for transport failures. */
export type GetOnce = (url: string, settings: HttpSettings) => Promise<Fetched>;

/** Reads and checks every venue; `stop` aborts it (between or during attempts). */
export async function prepareVenues(config: Config, log: Logger, get: GetOnce, stop?: AbortSignal): Promise<Map<string, VenueBudget>> {
  const used = [...new Set(config.streams.map((s) => s.venue))];
  const settings = { ...config.fetcher, maxResponseBytes: Math.max(config.fetcher.maxResponseBytes, EXCHANGE_INFO_MAX_BYTES) };
  const budgets = new Map<string, VenueBudget>();
  for (const name of used) {
    const { info, budget } = await loadVenue(name, config, (url) => get(url, settings), log, stop);
    checkSymbols(name, info, config, log);
    budgets.set(name, budget);
  }
  return budgets;
}

async function loadVenue(name: string, config: Config, get: (url: string) => Promise<Fetched>, log: Logger, stop?: AbortSignal): Promise<{ info: VenueInfo; budget: VenueBudget }> {
  const venue = venueByName(name);
  const { baseUrl, maxBudgetShare } = config.venues[name]!;
  const url = `${baseUrl}${venue.exchangeInfoPath}`;
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await get(url);
      if (res.status !== 200) throw venue.classify(res.status, res.headers, bodyText(res.body));
      let body: unknown;
      try {
        body = JSON.parse(bodyText(res.body));
      } catch (cause) {
        throw new CkError('CK_ERR_RESPONSE_MALFORMED', `${venue.exchangeInfoPath}: body is not JSON`, { cause });
      }
      const info = venue.parseExchangeInfo(body);
      if (info.limits.length === 0) throw new CkError('CK_ERR_RESPONSE_MALFORMED', `${venue.exchangeInfoPath}: no REQUEST_WEIGHT or RAW_REQUESTS limits`);
      // The declared limits, and those of the endpoints a stream uses that exchangeInfo does not declare.
      const endpoints = new Set(config.streams.filter((s) => s.venue === name).map((s) => s.endpoint));
      const own = [...endpoints].flatMap((e) => (venue.endpoints[e]?.ownLimits ?? []).map((l) => ({ ...l, header: null, endpoint: e })));
      const limits: BudgetLimit[] = [...info.limits, ...own].map((l) => ({ ...l, cap: Math.max(1, Math.floor(l.limit * maxBudgetShare)) }));
      const budget = VenueBudget.create(name, limits);
      // Count the exchangeInfo request itself, and learn what others on this IP already use.
      const r = budget.tryAcquire(venue.exchangeInfoWeight);
      if ('ticket' in r) budget.observe(res.headers, r.ticket);
      log.info({ venue: name, limits: limits.map((l) => ({ type: l.type, ...(l.endpoint ? { endpoint: l.endpoint } : {}), windowMs: l.windowMs, limit: l.limit, cap: l.cap })), symbols: info.symbols.size }, 'venue budget');
      return { info, budget };
    } catch (err) {
      stop?.throwIfAborted();
      const e = toWireError(err);
      if (!e.retryable || attempt >= config.fetcher.maxAttempts) {
        throw new CkError(e.code, `${name}: cannot read ${venue.exchangeInfoPath} at ${baseUrl} (attempt ${attempt}): ${e.message}`);
      }
      const wait = Math.max(e.retryAfterMs ?? 0, backoffMs(attempt, 500, 30_000));
      log.warn({ venue: name, code: e.code, error: e.message, attempt, retryInMs: wait }, 'exchangeInfo failed; retrying');
      await sleep(wait, undefined, { signal: stop });
    }
  }
}

/** Every configured symbol must be listed; one line names all that are not. */
function checkSymbols(name: string, info: VenueInfo, config: Config, log: Logger): void {
  const symbols = [...new Set(config.streams.filter((s) => s.venue === name).map((s) => s.symbol))];
  const unknown = symbols.filter((s) => !info.symbols.has(s));
  if (unknown.length > 0) {
    const listed = [...info.symbols.keys()];
    const named = unknown.map((s) => {
      const hint = closest(s, listed);
      return hint ? `${s} (did you mean ${hint}?)` : s;
    });
    throw new CkError('CK_ERR_UNKNOWN_SYMBOL', `${name} does not list ${unknown.length === 1 ? 'symbol' : 'symbols'} ${named.join(', ')}`);
  }
  for (const s of symbols) {
    const status = info.symbols.get(s);
    if (status !== 'TRADING') log.warn({ venue: name, symbol: s, status }, 'symbol is listed but not trading; history is still fetched');
  }
}
