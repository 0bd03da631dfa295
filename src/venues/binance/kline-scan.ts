// The hot path: validate a klines body straight from its bytes, without
// JSON.parse or any per-row object. It accepts exactly the well-formed
// answers validateKlines accepts and computes the same facts; anything it
// does not recognise (whitespace aside) makes it give up, and the caller
// falls back to JSON.parse + validateKlines, which decides and explains.
import { addIntervals, intervalMs, isAligned, type Interval } from '../../intervals.js';
import type { RowFacts, ValidationContext } from '../venue.js';

/** Thrown when the bytes are not the plain shape; never escapes kline validation. */
export class NotPlain extends Error {}

const QUOTE = 0x22;
const COMMA = 0x2c;
const DOT = 0x2e;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const ZERO = 0x30;
const NINE = 0x39;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

class Scanner {
  i = 0;
  constructor(readonly b: Uint8Array) {}

  ws(): void {
    const b = this.b;
    while (this.i < b.length) {
      const c = b[this.i]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.i++;
    }
  }

  expect(c: number): void {
    this.ws();
    if (this.b[this.i] !== c) throw new NotPlain();
    this.i++;
  }

  peek(): number | undefined {
    this.ws();
    return this.b[this.i];
  }

  /** A non-negative JSON integer (no sign, fraction or exponent), safe. */
  int(): number {
    this.ws();
    const b = this.b;
    let v = 0;
    const start = this.i;
    while (this.i < b.length && b[this.i]! >= ZERO && b[this.i]! <= NINE) v = v * 10 + (b[this.i++]! - ZERO);
    const n = this.i - start;
    if (n === 0 || n > 15 || (n > 1 && b[start] === ZERO)) throw new NotPlain();
    return v;
  }

  /** A quoted decimal string `\d+(\.\d+)?`; returns its value (exact digits / 10^k, as Number() would). */
  decimal(): number {
    this.expect(QUOTE);
    const b = this.b;
    let mantissa = 0;
    let digits = 0;
    let scale = 0;
    let seenDot = false;
    let intDigits = 0;
    for (;;) {
      const c = b[this.i++];
      if (c === undefined) throw new NotPlain();
      if (c >= ZERO && c <= NINE) {
        mantissa = mantissa * 10 + (c - ZERO);
        digits++;
        if (seenDot) scale++;
        else intDigits++;
      } else if (c === DOT && !seenDot && intDigits > 0) {
        seenDot = true;
      } else if (c === QUOTE) {
        break;
      } else {
        throw new NotPlain();
      }
    }
    if (intDigits === 0 || (seenDot && scale === 0) || digits > 15 || scale > 22) throw new NotPlain();
    return mantissa / POW10[scale]!;
  }
}

/** A quoted decimal string whose value is not needed: only its form is checked. */
function skipDecimal(s: Scanner): void {
  s.expect(QUOTE);
  const b = s.b;
  const start = s.i;
  let dot = -1;
  for (;;) {
    const c = b[s.i++];
    if (c === undefined) throw new NotPlain();
    if (c >= ZERO && c <= NINE) continue;
    if (c === DOT && dot < 0 && s.i - 1 > start) {
      dot = s.i - 1;
      continue;
    }
    if (c === QUOTE) break;
    throw new NotPlain();
  }
  const end = s.i - 1;
  if (end === start || dot === end - 1) throw new NotPlain();
}

/** Same facts as validateKlines for a plain, valid body; NotPlain otherwise. */
export function scanKlines(bytes: Uint8Array, ctx: ValidationContext): RowFacts {
  const { slice, interval, exchangeNow } = ctx;
  const s = new Scanner(bytes);
  const facts: RowFacts = { rows: 0, firstOpen: null, lastOpen: null, lastClosedClose: null, hasOpenCandle: false, gaps: [], anomalies: [] };
  let expectedOpen = slice.startMs;
  // Fixed-length intervals (all but 1w and 1M) need no calendar arithmetic per row.
  const step = interval === '1w' || interval === '1M' ? 0 : intervalMs(interval);
  s.expect(OPEN);
  if (s.peek() === CLOSE) {
    s.i++;
  } else {
    for (;;) {
      s.expect(OPEN);
      const o = s.int();
      s.expect(COMMA);
      const oP = s.decimal();
      s.expect(COMMA);
      const hP = s.decimal();
      s.expect(COMMA);
      const lP = s.decimal();
      s.expect(COMMA);
      const cP = s.decimal();
      s.expect(COMMA);
      skipDecimal(s);
      s.expect(COMMA);
      const c = s.int();
      s.expect(COMMA);
      skipDecimal(s);
      s.expect(COMMA);
      s.int();
      s.expect(COMMA);
      skipDecimal(s);
      s.expect(COMMA);
      skipDecimal(s);
      s.expect(COMMA);
      skipDecimal(s);
      s.expect(CLOSE);
      // The checks validateKlines makes; any failure goes back to it for the exact error.
      if (o < slice.startMs || o > slice.endMs || o < expectedOpen) throw new NotPlain();
      if (step > 0 ? o % step !== 0 : !isAligned(o, interval)) throw new NotPlain(); // rare (2018): the general path records the anomaly
      const nominalClose = (step > 0 ? o + step : addIntervals(o, interval as Interval, 1)) - 1;
      if (c > nominalClose || c < o) throw new NotPlain();
      if (c < nominalClose) facts.anomalies.push(`cut-short@${o}`);
      if (!(lP <= oP && lP <= cP && hP >= oP && hP >= cP)) throw new NotPlain();
      if (o > expectedOpen) facts.gaps.push([expectedOpen, o]);
      if (c < exchangeNow) facts.lastClosedClose = c;
      else facts.hasOpenCandle = true;
      facts.firstOpen ??= o;
      facts.lastOpen = o;
      facts.rows++;
      expectedOpen = nominalClose + 1;
      const next = s.peek();
      s.i++;
      if (next === CLOSE) break;
      if (next !== COMMA) throw new NotPlain();
    }
  }
  s.ws();
  if (s.i !== bytes.length) throw new NotPlain();
  if (slice.endMs < exchangeNow && expectedOpen <= slice.endMs) facts.gaps.push([expectedOpen, slice.endMs + 1]);
  return facts;
}
