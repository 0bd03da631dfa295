// OKX spot: candles, the instrument list and the server time, all in OKX's
// envelope. OKX publishes no rate limits to read: the history-candles
// limit of docs/exchanges.md (20 requests per 2 s per IP) is the venue's budget.
import { CkError } from '../../errors.js';
import type { VenueDef, VenueInfo } from '../venue.js';
import { OKX_INTERVALS, okxCandles } from './candles.js';
import { classifyOkx } from './errors.js';

function envelopeData(body: unknown, what: string): unknown[] {
  const env = body as { code?: unknown; data?: unknown } | null;
  if (!env || env.code !== '0' || !Array.isArray(env.data)) throw new CkError('CK_ERR_RESPONSE_MALFORMED', `${what}: expected {"code":"0","data":[...]}`);
  return env.data;
}

export function parseOkxInstruments(body: unknown): VenueInfo {
  const symbols = new Map<string, string>();
  for (const i of envelopeData(body, 'instruments') as Array<Record<string, unknown>>) {
    if (typeof i.instId === 'string') symbols.set(i.instId, i.state === 'live' ? 'TRADING' : String(i.state ?? 'UNKNOWN'));
  }
  return { limits: [{ type: 'RAW_REQUESTS', windowMs: 2000, limit: 20, header: null }], symbols };
}

export const okx: VenueDef = {
  name: 'okx',
  title: 'OKX',
  defaultBaseUrl: 'https://www.okx.com',
  intervals: OKX_INTERVALS,
  endpoints: { candles: okxCandles },
  timePath: '/api/v5/public/time',
  timeWeight: 1,
  parseTime: (body) => {
    const ts = Number((envelopeData(body, 'time')[0] as { ts?: unknown } | undefined)?.ts);
    return Number.isSafeInteger(ts) ? ts : null;
  },
  exchangeInfoPath: '/api/v5/public/instruments?instType=SPOT',
  exchangeInfoWeight: 1,
  classify: classifyOkx,
  parseExchangeInfo: parseOkxInstruments,
};
