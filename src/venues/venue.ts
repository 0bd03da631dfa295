// What a venue is: data plus small functions. A new endpoint is a new
// EndpointDef, a new venue a new VenueDef; the fetcher loop never changes.
import type { ResponseHeaders } from '../http/headers.js';
import type { Interval } from '../intervals.js';
import { CkError } from '../errors.js';
import { bodyText } from '../payload.js';
import type { SliceSpec } from '../slices.js';
import type { LimitType } from '../../actors/rate-limiter.js';

/** What a venue's exchangeInfo says, in venue-neutral terms. */
export interface VenueInfo {
  /** Declared limits per window, with the response header that reports each. */
  limits: Array<{ type: LimitType; windowMs: number; limit: number; header: string | null }>;
  /** Listed symbols and their trading status (`TRADING`, `BREAK`, ...). */
  symbols: Map<string, string>;
}

/** Facts about one response that decide finality and anomalies. */
export interface ValidationContext {
  slice: SliceSpec;
  interval: Interval;
  /** The exchange's clock when the response was produced (conservative estimate). */
  exchangeNow: number;
}

/** What validation found in rows it accepted. */
export interface RowFacts {
  rows: number;
  firstOpen: number | null;
  lastOpen: number | null;
  /** Close time of the last candle that was already closed at `exchangeNow`. */
  lastClosedClose: number | null;
  /** True when some row's close time is not yet past (the open candle). */
  hasOpenCandle: boolean;
  /** Ranges inside the window with no candle (maintenance, before listing): [fromOpen, toOpen). */
  gaps: Array<[number, number]>;
  /** Tolerated oddities, e.g. `cut-short@1500000000000`. */
  anomalies: string[];
}

/** How an endpoint's stored rows are read back (verify, export, the invariant checks). */
export interface RowModel {
  /** `candles` are one interval apart (spacing is checked); `events` come when they come (funding). */
  readonly kind: 'candles' | 'events';
  /** A row's time: a candle's open time, an event's time. */
  time(row: unknown): number;
  /** Whether the row was final when the exchange answered at `serverTime` (a candle closed; an event happened). */
  finalAt(row: unknown, serverTime: number): boolean;
  /** Rows that are not Binance klines (funding events, OKX candles) export as this table: its columns, and a row's values in their order. */
  readonly table?: { readonly columns: readonly string[]; cells(row: unknown): unknown[] };
  /** The rows of a parsed body, oldest first (Binance: the body itself; OKX: its envelope's data, reversed). */
  rowsOf(body: unknown): unknown[];
}

export interface EndpointDef {
  readonly name: string;
  /** Intervals a stream of this endpoint may use, when not all of the venue's (funding: the slice unit). */
  readonly intervals?: readonly Interval[];
  readonly rows: RowModel;
  readonly path: string;
  /** Rows per request candlekeep asks for unless a stream sets `limit` (the cheapest per row). */
  readonly defaultLimit: number;
  /** The most rows the endpoint serves per request. */
  readonly maxLimit: number;
  /** Limits of this endpoint alone, not declared in exchangeInfo (USD-M fundingRate: 500 requests per 5 minutes). */
  readonly ownLimits?: ReadonlyArray<{ type: LimitType; windowMs: number; limit: number }>;
  /** Request weight for `limit` rows, known before the request is sent. */
  weight(limit: number): number;
  url(baseUrl: string, symbol: string, interval: Interval, slice: SliceSpec): string;
  /** Validate a 200 body from its bytes; throws CkError(CK_ERR_VALIDATION | CK_ERR_RESPONSE_MALFORMED). */
  validate(body: Uint8Array, ctx: ValidationContext): RowFacts;
  /**
   * The hot path, when the endpoint has one (Binance klines): validates the
   * body from its chunks and packs it for storage (src/payload.ts, CKP2) in
   * one pass. Null: not the usual answer; the body is stored as received and
   * `validate` decides. `packed` is only valid until the next call.
   */
  scanAndPack?(chunks: readonly Uint8Array[], size: number, ctx: ValidationContext): { facts: RowFacts; packed: Uint8Array } | null;
}

export interface VenueDef {
  readonly name: string;
  /** How messages name it (`Binance.US`). */
  readonly title: string;
  readonly defaultBaseUrl: string;
  readonly intervals: readonly Interval[];
  readonly endpoints: Readonly<Record<string, EndpointDef>>;
  readonly timePath: string;
  readonly timeWeight: number;
  /** The exchange's time (ms) from a time response's parsed body, or null. */
  parseTime(body: unknown): number | null;
  readonly exchangeInfoPath: string;
  readonly exchangeInfoWeight: number;
  /** Turn a non-2xx answer into a classified error. */
  classify(status: number, headers: ResponseHeaders, body: string): CkError;
  /** Reads an exchangeInfo body; throws CkError(CK_ERR_RESPONSE_MALFORMED) when it is not one. */
  parseExchangeInfo(body: unknown): VenueInfo;
}

/** A response body parsed as JSON; CK_ERR_RESPONSE_MALFORMED naming `what` when it is not JSON. */
export function parseJsonBody(body: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(bodyText(body));
  } catch (cause) {
    throw new CkError('CK_ERR_RESPONSE_MALFORMED', `${what} body is not JSON`, { cause });
  }
}
