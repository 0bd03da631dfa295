// Binance USD-M funding rates (`/fapi/v1/fundingRate`): one event per
// funding period per symbol, `{symbol, fundingTime, fundingRate, markPrice}`,
// oldest first. A stream's interval is the funding period it assumes (8h on
// most symbols, 4h or 1h on some): slices are `limit x interval` windows like
// klines, so a window holds at most `limit` events, and a full answer that
// stops short of its window's end means the symbol pays funding more often
// than that; that is an error naming a shorter interval, never a silent cut.
import { CkError } from '../../errors.js';
import { intervalMs, type Interval } from '../../intervals.js';
import { parseSliceKey, type SliceSpec } from '../../slices.js';
import { parseJsonBody, type EndpointDef, type RowFacts, type RowModel, type ValidationContext } from '../venue.js';

export interface FundingRow {
  symbol: string;
  fundingTime: number;
  fundingRate: string;
  markPrice: string;
}

const RATE = /^-?\d+(?:\.\d+)?$/;
/** Mark price: a decimal string, empty on the oldest events. */
const MARK = /^(?:\d+(?:\.\d+)?)?$/;
/** Funding periods a stream may assume. */
export const FUNDING_INTERVALS: readonly Interval[] = ['1h', '4h', '8h'];

/** An event the exchange served has happened: final as it is (the window around it may still grow). */
export const FUNDING_ROWS: RowModel = {
  kind: 'events',
  rowsOf: (body) => body as unknown[],
  time: (row) => (row as FundingRow).fundingTime,
  finalAt: () => true,
  table: {
    columns: ['symbol', 'fundingTime', 'fundingRate', 'markPrice'],
    cells: (row) => {
      const r = row as FundingRow;
      return [r.symbol, r.fundingTime, r.fundingRate, r.markPrice];
    },
  },
};

function invalid(reason: string, detail: string): CkError {
  return new CkError('CK_ERR_VALIDATION', `${reason}: ${detail}`);
}

export function validateFundingRates(body: unknown, ctx: ValidationContext): RowFacts {
  if (!Array.isArray(body)) throw new CkError('CK_ERR_RESPONSE_MALFORMED', 'fundingRate body is not a JSON array');
  const { slice, interval } = ctx;
  const symbol = parseSliceKey(slice.key)?.symbol;
  const facts: RowFacts = { rows: body.length, firstOpen: null, lastOpen: null, lastClosedClose: null, hasOpenCandle: false, gaps: [], anomalies: [] };
  let prev = -Infinity;
  for (let i = 0; i < body.length; i++) {
    const row = body[i] as Partial<Record<keyof FundingRow, unknown>> | null;
    if (!row || typeof row !== 'object' || Array.isArray(row)) throw invalid('row-shape', `row ${i} is not an object`);
    const t = row.fundingTime;
    if (!Number.isSafeInteger(t)) throw invalid('field-type', `row ${i}: fundingTime is not an integer`);
    if (typeof row.fundingRate !== 'string' || !RATE.test(row.fundingRate)) throw invalid('field-type', `row ${i}: fundingRate is not a decimal string`);
    if (typeof row.markPrice !== 'string' || !MARK.test(row.markPrice)) throw invalid('field-type', `row ${i}: markPrice is not a decimal string`);
    if (symbol !== undefined && row.symbol !== symbol) throw invalid('symbol', `row ${i} is for ${String(row.symbol)}, not ${symbol}`);
    const time = t as number;
    if (time < slice.startMs || time > slice.endMs) throw invalid('outside-window', `row ${i} at ${time}, outside ${slice.startMs}-${slice.endMs}`);
    if (time <= prev) throw invalid('not-increasing', `row ${i} at ${time}, not after ${prev}`);
    prev = time;
    facts.firstOpen ??= time;
    facts.lastOpen = time;
    facts.lastClosedClose = time;
  }
  if (body.length === slice.limit && prev + intervalMs(interval) <= slice.endMs) {
    throw invalid('window-overflow', `${body.length} events (the limit) end at ${prev}, before the window's end ${slice.endMs}: this symbol pays funding more often than every ${interval}; use a shorter interval (${FUNDING_INTERVALS.join(', ')})`);
  }
  return facts;
}


/** USD-M funding rates: weight 1, and their own limit of 500 requests per 5 minutes per IP (shared with fundingInfo). */
export const fundingRate: EndpointDef = {
  name: 'fundingRate',
  path: '/fapi/v1/fundingRate',
  intervals: FUNDING_INTERVALS,
  rows: FUNDING_ROWS,
  defaultLimit: 1000,
  maxLimit: 1000,
  weight: () => 1,
  ownLimits: [{ type: 'RAW_REQUESTS', windowMs: 5 * 60_000, limit: 500 }],
  url: (baseUrl: string, symbol: string, _interval: Interval, slice: SliceSpec) =>
    `${baseUrl}/fapi/v1/fundingRate?symbol=${symbol}&startTime=${slice.startMs}&endTime=${slice.endMs}&limit=${slice.limit}`,
  validate: (body, ctx) => validateFundingRates(parseJsonBody(body, 'fundingRate'), ctx),
};
