// OKX candles (`/api/v5/market/history-candles`): an envelope
// `{"code":"0","msg":"","data":[...]}` with rows of nine strings
// `[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`, newest first;
// `confirm` "0" is the candle still open. Errors come in the envelope, often
// with HTTP 200, so validation classifies them like a non-200 answer. A
// window is asked for with `after` (rows older than) and `before` (rows
// newer than), both exclusive.
import { CkError } from '../../errors.js';
import { addIntervals, isAligned, type Interval } from '../../intervals.js';
import type { SliceSpec } from '../../slices.js';
import { parseJsonBody, type EndpointDef, type RowFacts, type RowModel, type ValidationContext } from '../venue.js';
import { classifyOkx } from './errors.js';

/** Candlekeep's intervals and OKX's bars for them (UTC-aligned: the `utc` bars from 6h up). */
export const OKX_BARS: Partial<Record<Interval, string>> = {
  '1m': '1m', '3m': '3m', '5m': '5m', '15m': '15m', '30m': '30m', '1h': '1H', '2h': '2H', '4h': '4H',
  '6h': '6Hutc', '12h': '12Hutc', '1d': '1Dutc', '1w': '1Wutc', '1M': '1Mutc',
};
export const OKX_INTERVALS = Object.keys(OKX_BARS) as Interval[];

type OkxRow = [string, string, string, string, string, string, string, string, string];
const TS = /^\d{1,15}$/;
const DECIMAL = /^\d+(?:\.\d+)?$/;

/** Rows oldest first: `data` reversed. */
export const OKX_ROWS: RowModel = {
  kind: 'candles',
  rowsOf: (body) => [...((body as { data?: unknown[] } | null)?.data ?? [])].reverse(),
  time: (row) => Number((row as OkxRow)[0]),
  finalAt: (row) => (row as OkxRow)[8] === '1',
  table: { columns: ['ts', 'open', 'high', 'low', 'close', 'vol', 'volCcy', 'volCcyQuote', 'confirm'], cells: (row) => row as OkxRow },
};

function invalid(reason: string, detail: string): CkError {
  return new CkError('CK_ERR_VALIDATION', `${reason}: ${detail}`);
}

export function validateOkxCandles(body: unknown, ctx: ValidationContext): RowFacts {
  const env = body as { code?: unknown; msg?: unknown; data?: unknown } | null;
  if (!env || typeof env !== 'object' || Array.isArray(env) || typeof env.code !== 'string') {
    throw new CkError('CK_ERR_RESPONSE_MALFORMED', 'OKX answer is not an envelope {code, msg, data}');
  }
  if (env.code !== '0') throw classifyOkx(200, {}, JSON.stringify(env));
  if (!Array.isArray(env.data)) throw new CkError('CK_ERR_RESPONSE_MALFORMED', 'OKX envelope has no data array');
  const { slice, interval, exchangeNow } = ctx;
  const rows = env.data as unknown[];
  const facts: RowFacts = { rows: rows.length, firstOpen: null, lastOpen: null, lastClosedClose: null, hasOpenCandle: false, gaps: [], anomalies: [] };
  let expectedOpen = slice.startMs;
  // Newest first: walk from the end (the oldest row).
  for (let i = rows.length - 1; i >= 0; i--) {
    const row = rows[i];
    if (!Array.isArray(row) || row.length !== 9 || !row.every((f) => typeof f === 'string')) throw invalid('row-shape', `row ${i} is not 9 strings`);
    const r = row as OkxRow;
    if (!TS.test(r[0])) throw invalid('field-type', `row ${i}: ts ${JSON.stringify(r[0])} is not milliseconds`);
    for (let f = 1; f <= 7; f++) if (!DECIMAL.test(r[f]!)) throw invalid('field-type', `row ${i} field ${f} is not a decimal string`);
    if (r[8] !== '0' && r[8] !== '1') throw invalid('field-type', `row ${i}: confirm ${JSON.stringify(r[8])} is not "0" or "1"`);
    const o = Number(r[0]);
    if (o < slice.startMs || o > slice.endMs) throw invalid('outside-window', `row ${i} opens at ${o}, outside ${slice.startMs}-${slice.endMs}`);
    if (o < expectedOpen) throw invalid('not-decreasing', `row ${i} opens at ${o}: rows must be newest first, one per bar`);
    if (!isAligned(o, interval)) throw invalid('unaligned', `row ${i} opens at ${o}, not on a ${interval} boundary (UTC)`);
    const [oP, hP, lP, cP] = [Number(r[1]), Number(r[2]), Number(r[3]), Number(r[4])];
    if (!(lP <= oP && lP <= cP && hP >= oP && hP >= cP)) throw invalid('ohlc', `row ${i}: low <= open, close <= high does not hold`);
    const close = addIntervals(o, interval, 1) - 1;
    // Only the newest row may be open; a "confirmed" bar that has not ended by the exchange's clock is treated as open too.
    if (r[8] === '0' && i !== 0) throw invalid('confirm', `row ${i} is not confirmed but a newer row follows it`);
    if (r[8] === '0' || close >= exchangeNow) facts.hasOpenCandle = true;
    else facts.lastClosedClose = close;
    if (o > expectedOpen) facts.gaps.push([expectedOpen, o]);
    facts.firstOpen ??= o;
    facts.lastOpen = o;
    expectedOpen = close + 1;
  }
  if (slice.endMs < exchangeNow && expectedOpen <= slice.endMs) facts.gaps.push([expectedOpen, slice.endMs + 1]);
  return facts;
}

/** OKX spot candles, history endpoint (older and recent rows): 100 rows per request by default, up to 300. */
export const okxCandles: EndpointDef = {
  name: 'candles',
  path: '/api/v5/market/history-candles',
  rows: OKX_ROWS,
  defaultLimit: 100,
  maxLimit: 300,
  weight: () => 1,
  url: (baseUrl: string, symbol: string, interval: Interval, slice: SliceSpec) =>
    `${baseUrl}/api/v5/market/history-candles?instId=${symbol}&bar=${OKX_BARS[interval]}&after=${slice.endMs + 1}&before=${slice.startMs - 1}&limit=${slice.limit}`,
  validate: (body, ctx) => validateOkxCandles(parseJsonBody(body, 'OKX candles'), ctx),
};
