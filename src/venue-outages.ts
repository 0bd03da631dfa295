// Whether each venue answers at all, told from the fetchers' request
// observations. During an outage the slices being retried are often partial
// ones (following the open candle), whose status does not change, so the
// slice counts alone would say all is well; this says "unreachable since".
import type { ErrorCode } from './errors.js';

/** Failures that mean the exchange is not answering (as opposed to answering "no"). */
const OUTAGE_CODES: ReadonlySet<ErrorCode> = new Set(['CK_ERR_FETCH_NETWORK', 'CK_ERR_FETCH_TIMEOUT', 'CK_ERR_HTTP_5XX']);
/** Consecutive such failures, with no answer between, before a venue counts as unreachable (default 3). */
export const OUTAGE_AFTER_FAILURES = 3;

export interface Outage {
  /** When the first failure of the run came (local ms). */
  since: number;
  failures: number;
  lastCode: ErrorCode;
}

export interface EndedOutage {
  from: number;
  to: number;
  failures: number;
}

/** What changed with one observation: the log line the caller writes. */
export type OutageChange =
  | { type: 'venue.unreachable'; venue: string; outage: Outage }
  | { type: 'venue.reachable'; venue: string; ended: EndedOutage };

interface VenueState {
  run: Outage | null;
  reported: boolean;
  last: EndedOutage | null;
}

export class VenueOutages {
  private readonly venues = new Map<string, VenueState>();

  /**
   * One request's outcome (`code` null: a 200 that was kept). Any other
   * answer (a 429, a 4xx, a body that failed validation) also shows the
   * exchange is there. Returns a change worth a log line, if any.
   */
  observe(venue: string, code: ErrorCode | null, at: number): OutageChange | null {
    const v = this.state(venue);
    if (code !== null && OUTAGE_CODES.has(code)) {
      v.run ??= { since: at, failures: 0, lastCode: code };
      v.run.failures++;
      v.run.lastCode = code;
      if (v.reported || v.run.failures < OUTAGE_AFTER_FAILURES) return null;
      v.reported = true;
      return { type: 'venue.unreachable', venue, outage: { ...v.run } };
    }
    const run = v.run;
    const reported = v.reported;
    v.run = null;
    v.reported = false;
    if (!run || !reported) return null;
    v.last = { from: run.since, to: at, failures: run.failures };
    return { type: 'venue.reachable', venue, ended: v.last };
  }

  /** The venue's outage while it lasts (past the threshold), else null. */
  current(venue: string): Outage | null {
    const v = this.venues.get(venue);
    return v?.reported && v.run ? v.run : null;
  }

  /** The venue's last outage that ended, if any. */
  lastEnded(venue: string): EndedOutage | null {
    return this.venues.get(venue)?.last ?? null;
  }

  private state(venue: string): VenueState {
    let v = this.venues.get(venue);
    if (!v) {
      v = { run: null, reported: false, last: null };
      this.venues.set(venue, v);
    }
    return v;
  }
}
