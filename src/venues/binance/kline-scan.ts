// The hot path: validate a klines body straight from its bytes, without
// JSON.parse or any per-row object. It reads exactly the compact form the
// exchange sends (no whitespace) and accepts what validateKlines accepts,
// computing the same facts; for anything else it returns null and the caller
// falls back to JSON.parse + validateKlines, which decides and explains.
//
// One pass with a local cursor; the field readers leave the index after the
// field in `at` (a module variable: no object per field). Measured on a
// 1000-row body: 0.27 ms, against 0.46 ms for the previous scanner that
// skipped whitespace before every token (npm run bench, hot path notes).
import { addIntervals, intervalMs, isAligned, type Interval } from '../../intervals.js';
import type { RowFacts, ValidationContext } from '../venue.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const DOT = 0x2e;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const ZERO = 0x30;
const NINE = 0x39;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
/** Where the last field read ended (the index after it). */
let at = 0;

/** A non-negative JSON integer (no sign, fraction, exponent or leading zero), at most 15 digits; -1 otherwise. */
function int(b: Uint8Array, i: number): number {
  const start = i;
  let v = 0;
  let c = b[i]!;
  while (c >= ZERO && c <= NINE) {
    v = v * 10 + (c - ZERO);
    c = b[++i]!;
  }
  const n = i - start;
  at = i;
  if (n === 0 || n > 15 || (n > 1 && b[start] === ZERO)) return -1;
  return v;
}
/** A quoted decimal string `\d+(\.\d+)?` of at most 15 digits; its value (as Number() reads it), or -1. */
function decimal(b: Uint8Array, i: number): number {
  if (b[i] !== QUOTE) return -1;
  let c = b[++i]!;
  let m = 0;
  const s0 = i;
  while (c >= ZERO && c <= NINE) {
    m = m * 10 + (c - ZERO);
    c = b[++i]!;
  }
  const intDigits = i - s0;
  if (intDigits === 0) return -1;
  let scale = 0;
  if (c === DOT) {
    const s1 = ++i;
    c = b[i]!;
    while (c >= ZERO && c <= NINE) {
    m = m * 10 + (c - ZERO);
    c = b[++i]!;
  }
    scale = i - s1;
    if (scale === 0 || scale > 22) return -1;
  }
  if (c !== QUOTE || intDigits + scale > 15) return -1;
  at = i + 1;
  return m / POW10[scale]!;
}
/** A quoted decimal string whose value is not needed: only its form is checked. */
function skip(b: Uint8Array, i: number): boolean {
  if (b[i] !== QUOTE) return false;
  let c = b[++i]!;
  const s0 = i;
  while (c >= ZERO && c <= NINE) c = b[++i]!;
  if (i === s0) return false;
  if (c === DOT) {
    const s1 = ++i;
    c = b[i]!;
    while (c >= ZERO && c <= NINE) c = b[++i]!;
    if (i === s1) return false;
  }
  if (c !== QUOTE) return false;
  at = i + 1;
  return true;
}

/** Same facts as validateKlines for a compact, valid body; null for anything else. */
export function scanKlines(b: Uint8Array, ctx: ValidationContext): RowFacts | null {
  const { slice, interval, exchangeNow } = ctx;
  const facts: RowFacts = { rows: 0, firstOpen: null, lastOpen: null, lastClosedClose: null, hasOpenCandle: false, gaps: [], anomalies: [] };
  let expectedOpen = slice.startMs;
  // Fixed-length intervals (all but 1w and 1M) need no calendar arithmetic per row.
  const step = interval === '1w' || interval === '1M' ? 0 : intervalMs(interval);
  if (b[0] !== OPEN) return null;
  let i = 1;
  if (b[1] === CLOSE) i = 2;
  else {
    for (;;) {
      if (b[i] !== OPEN) return null;
      const o = int(b, i + 1);
      if (o < 0 || b[at] !== COMMA) return null;
      const oP = decimal(b, at + 1);
      if (oP < 0 || b[at] !== COMMA) return null;
      const hP = decimal(b, at + 1);
      if (hP < 0 || b[at] !== COMMA) return null;
      const lP = decimal(b, at + 1);
      if (lP < 0 || b[at] !== COMMA) return null;
      const cP = decimal(b, at + 1);
      if (cP < 0 || b[at] !== COMMA) return null;
      if (!skip(b, at + 1) || b[at] !== COMMA) return null;
      const c = int(b, at + 1);
      if (c < 0 || b[at] !== COMMA) return null;
      if (!skip(b, at + 1) || b[at] !== COMMA) return null;
      if (int(b, at + 1) < 0 || b[at] !== COMMA) return null;
      if (!skip(b, at + 1) || b[at] !== COMMA) return null;
      if (!skip(b, at + 1) || b[at] !== COMMA) return null;
      if (!skip(b, at + 1) || b[at] !== CLOSE) return null;
      // The checks validateKlines makes; any failure goes back to it for the exact error.
      if (o < slice.startMs || o > slice.endMs || o < expectedOpen) return null;
      if (step > 0 ? o % step !== 0 : !isAligned(o, interval)) return null; // rare (2018): the general path records the anomaly
      const nominalClose = (step > 0 ? o + step : addIntervals(o, interval as Interval, 1)) - 1;
      if (c > nominalClose || c < o) return null;
      if (c < nominalClose) facts.anomalies.push(`cut-short@${o}`);
      if (!(lP <= oP && lP <= cP && hP >= oP && hP >= cP)) return null;
      if (o > expectedOpen) facts.gaps.push([expectedOpen, o]);
      if (c < exchangeNow) facts.lastClosedClose = c;
      else facts.hasOpenCandle = true;
      facts.firstOpen ??= o;
      facts.lastOpen = o;
      facts.rows++;
      expectedOpen = nominalClose + 1;
      const next = b[at + 1];
      i = at + 2;
      if (next === CLOSE) break;
      if (next !== COMMA) return null;
    }
  }
  if (i !== b.length) return null;
  if (slice.endMs < exchangeNow && expectedOpen <= slice.endMs) facts.gaps.push([expectedOpen, slice.endMs + 1]);
  return facts;
}
