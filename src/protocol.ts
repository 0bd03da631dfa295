// Every message that crosses a thread, as discriminated unions on `type`.
// Commands are imperative (`writer.commit`), events and replies past tense
// (`writer.committed`). Plain data only: errors travel as WireError.
import type { ErrorCode, WireError } from './errors.js';
import type { SliceSpec } from './slices.js';
import type { RowFacts } from './venues/venue.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** A slice handed to a fetcher, with what the manifest knows of it. */
export interface PlannedSlice extends SliceSpec {
  /** Failed attempts so far. */
  attempts: number;
}

/** One HTTP attempt of a fetcher, for the main thread's metrics (sent in batches). */
export interface RequestObservation {
  /** Endpoint name, or `time` for the clock sync. */
  endpoint: string;
  /** HTTP status, or 0 when no response came (timeout, reset). */
  status: number;
  /** The error the attempt ended in, null on success. */
  code: ErrorCode | null;
  /** For CK_ERR_VALIDATION: which check failed (`ohlc`, `outside-window`, ...). */
  reason: string | null;
  durationMs: number;
  bytes: number;
  /** The fetcher's estimate of the exchange's clock when the answer came (0 when none came). */
  exchangeNow: number;
}

/** Fetcher (worker thread) -> main thread. */
export type FetcherMessage =
  | { type: 'writer.plan'; id: number; now: number; max: number }
  | {
      type: 'writer.commit';
      id: number;
      slice: SliceSpec;
      status: 'ok' | 'partial';
      /** src/payload.ts bytes (meta header + body as received); the buffer is transferred, not copied. */
      payload: Uint8Array;
      facts: RowFacts;
      fetchedAt: number;
      nextDueAt: number | null;
    }
  | { type: 'fetcher.requests'; requests: RequestObservation[] }
  | { type: 'writer.fail'; id: number; slice: SliceSpec; error: WireError; attempts: number; nextDueAt: number }
  | { type: 'fetcher.logged'; level: LogLevel; msg: string; fields: Record<string, unknown> };

/** Main thread -> fetcher. */
export type MainMessage =
  | { type: 'writer.planned'; id: number; slices: PlannedSlice[]; wakeAt: number | null; caughtUp: boolean; finished: boolean }
  /**
   * One reply per port per transaction, for every commit of that port it
   * held. `buffers`: the payloads' buffers coming back (transferred) once
   * LMDB holds its own copy, for the next fetches to reuse.
   */
  | { type: 'writer.committed'; ids: number[]; buffers: ArrayBuffer[] }
  | { type: 'writer.rejected'; ids: number[]; error: WireError; buffers: ArrayBuffer[] }
  | { type: 'fetcher.stop' };

/** Payload meta stored with the rows. */
export interface PayloadMeta {
  url: string;
  key: string;
  fetchedAt: number;
  /** The exchange's clock at the response (conservative estimate). */
  serverTime: number;
  httpStatus: number;
}

export function assertNever(x: never): never {
  throw new Error(`unhandled message ${JSON.stringify(x)}`);
}
