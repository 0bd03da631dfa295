// Binance kline rows: 12 positional fields, validated in the worker before
// anything is committed. Tolerated anomalies (a candle cut short before a
// maintenance window, unaligned open times of early 2018) are recorded, not rejected.
import { CkError } from '../../errors.js';
import { addIntervals, isAligned, type Interval } from '../../intervals.js';
import type { SliceSpec } from '../../slices.js';
import { parseJsonBody, type EndpointDef, type RowFacts, type RowModel, type ValidationContext } from '../venue.js';
import { scanAndPackKlines, scanKlines } from './kline-scan.js';

const DECIMAL = /^\d+(?:\.\d+)?$/;
const STRING_FIELDS = [1, 2, 3, 4, 5, 7, 9, 10, 11] as const;

function invalid(reason: string, detail: string): CkError {
  return new CkError('CK_ERR_VALIDATION', `${reason}: ${detail}`);
}

export function validateKlines(body: unknown, ctx: ValidationContext): RowFacts {
  if (!Array.isArray(body)) {
    throw new CkError('CK_ERR_RESPONSE_MALFORMED', 'klines body is not a JSON array');
  }
  const { slice, interval, exchangeNow } = ctx;
  const facts: RowFacts = {
    rows: body.length, firstOpen: null, lastOpen: null, lastClosedClose: null,
    hasOpenCandle: false, gaps: [], anomalies: [],
  };
  let expectedOpen = slice.startMs; // where the next candle should open if nothing is missing
  for (let i = 0; i < body.length; i++) {
    const row: unknown = body[i];
    if (!Array.isArray(row) || row.length !== 12) throw invalid('row-shape', `row ${i} is not a 12-field array`);
    const open: unknown = row[0];
    const close: unknown = row[6];
    const trades: unknown = row[8];
    if (!Number.isSafeInteger(open) || !Number.isSafeInteger(close) || !Number.isSafeInteger(trades) || (trades as number) < 0) {
      throw invalid('field-type', `row ${i}: open time, close time and trade count must be non-negative integers`);
    }
    for (const f of STRING_FIELDS) {
      const v: unknown = row[f];
      if (typeof v !== 'string' || !DECIMAL.test(v)) throw invalid('field-type', `row ${i} field ${f} is not a decimal string`);
    }
    const o = open as number;
    const c = close as number;
    if (o < slice.startMs || o > slice.endMs) throw invalid('outside-window', `row ${i} opens at ${o}, outside ${slice.startMs}-${slice.endMs}`);
    if (o < expectedOpen) throw invalid('not-increasing', `row ${i} opens at ${o}, before ${expectedOpen}`);
    const aligned = isAligned(o, interval);
    if (!aligned) facts.anomalies.push(`unaligned-open@${o}`);
    const nominalClose = nextOpen(o, interval, aligned) - 1;
    if (c > nominalClose || c < o) throw invalid('close-time', `row ${i} closes at ${c}, expected ${nominalClose}`);
    if (c < nominalClose) facts.anomalies.push(`cut-short@${o}`);
    const oP = Number(row[1]), hP = Number(row[2]), lP = Number(row[3]), cP = Number(row[4]);
    if (!(lP <= oP && lP <= cP && hP >= oP && hP >= cP)) throw invalid('ohlc', `row ${i}: low <= open, close <= high does not hold`);
    if (o > expectedOpen) facts.gaps.push([expectedOpen, o]);
    if (c < exchangeNow) facts.lastClosedClose = c;
    else facts.hasOpenCandle = true;
    facts.firstOpen ??= o;
    facts.lastOpen = o;
    expectedOpen = nominalClose + 1;
  }
  // Missing candles at the end of a window that has wholly closed are a known gap.
  if (slice.endMs < exchangeNow && expectedOpen <= slice.endMs) facts.gaps.push([expectedOpen, slice.endMs + 1]);
  return facts;
}

/** The byte scanner for the usual answer; JSON.parse and validateKlines for anything else. */
export function validateKlineBytes(body: Uint8Array, ctx: ValidationContext): RowFacts {
  return scanKlines(body, ctx) ?? validateKlines(parseJsonBody(body, 'klines'), ctx);
}

function nextOpen(open: number, interval: Interval, aligned: boolean): number {
  if (aligned || interval !== '1M') return addIntervals(open, interval, 1);
  const d = new Date(open);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Kline rows: 12 positional fields, [0] open time, [6] close time. */
export const KLINE_ROWS: RowModel = {
  kind: 'candles',
  rowsOf: (body) => body as unknown[],
  time: (row) => (row as [number])[0],
  finalAt: (row, serverTime) => (row as number[])[6]! < serverTime,
};

export interface KlinesShape {
  /** Rows per request candlekeep asks for by default (the cheapest per row). */
  defaultLimit: number;
  maxLimit: number;
  weight(limit: number): number;
}

/** A Binance klines-shaped endpoint at `path` (spot and US `/api/v3/...`, USD-M `/fapi/v1/...`). */
export function klinesEndpoint(name: string, path: string, shape: KlinesShape): EndpointDef {
  return {
    name,
    path,
    rows: KLINE_ROWS,
    ...shape,
    url: (baseUrl: string, symbol: string, interval: Interval, slice: SliceSpec) =>
      `${baseUrl}${path}?symbol=${symbol}&interval=${interval}&startTime=${slice.startMs}&endTime=${slice.endMs}&limit=${slice.limit}`,
    validate: validateKlineBytes,
    scanAndPack: scanAndPackKlines,
  };
}
