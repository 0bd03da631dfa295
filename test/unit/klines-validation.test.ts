import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { klinesToCsv, scanAndPackKlines, scanKlines, unpackKlineBody } from '../../src/venues/binance/kline-scan.js';
import { assembleKlineScan, renderWasmModule, WASM_MODULE_FILE } from '../../src/venues/binance/write-kline-scan-wasm.js';
import { validateKlineBytes, validateKlines } from '../../src/venues/binance/klines.js';
import { geometry, sliceAt } from '../../src/slices.js';
import { CsvCandles } from '../support/csv-candles.js';
import { REAL_MONTH_CSV } from '../support/scenarios.js';
import { SyntheticCandles } from '../support/synthetic-candles.js';

const g = geometry({ venue: 'binance', endpoint: 'klines', symbol: 'BTCUSDT', interval: '1m' }, Date.UTC(2024, 0, 1), null, 60);
const slice = sliceAt(g, 0)!;
const rows = () => new SyntheticCandles(3).rows({ symbol: 'BTCUSDT', listedAt: Date.UTC(2023, 0, 1) }, '1m', slice.startMs, slice.endMs, 60) as unknown[][];
const ctx = { slice, interval: '1m' as const, exchangeNow: slice.endMs + 10_000 };
const reason = (body: unknown) => {
  try {
    validateKlines(body, ctx);
  } catch (err) {
    return `${(err as { code: string }).code} ${(err as Error).message.split(':')[0]}`;
  }
  return 'accepted';
};

describe('kline validation', () => {
  it('accepts a clean window and reports its facts', () => {
    const f = validateKlines(rows(), ctx);
    expect(f).toMatchObject({ rows: 60, firstOpen: slice.startMs, lastOpen: slice.startMs + 59 * 60_000, lastClosedClose: slice.endMs, hasOpenCandle: false, gaps: [], anomalies: [] });
  });

  it('rejects each kind of bad row', () => {
    const out = rows(); out.push([...out[59]!]); out[60]![0] = slice.endMs + 1; out[60]![6] = slice.endMs + 60_000;
    expect(reason(out)).toBe('CK_ERR_VALIDATION outside-window');
    const dup = rows(); dup.splice(10, 0, [...dup[10]!]);
    expect(reason(dup)).toBe('CK_ERR_VALIDATION not-increasing');
    const swapped = rows(); [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    expect(reason(swapped)).toBe('CK_ERR_VALIDATION not-increasing');
    const late = rows(); (late[5]![6] as number) += 1;
    expect(reason(late)).toBe('CK_ERR_VALIDATION close-time');
    const ohlc = rows(); ohlc[7]![2] = '0.00000001';
    expect(reason(ohlc)).toBe('CK_ERR_VALIDATION ohlc');
    const nan = rows(); nan[8]![5] = 'NaN';
    expect(reason(nan)).toBe('CK_ERR_VALIDATION field-type');
    const neg = rows(); neg[8]![5] = '-1.00000000';
    expect(reason(neg)).toBe('CK_ERR_VALIDATION field-type');
    const short = rows(); short[2] = short[2]!.slice(0, 11);
    expect(reason(short)).toBe('CK_ERR_VALIDATION row-shape');
    expect(reason({ code: -1121 })).toBe('CK_ERR_RESPONSE_MALFORMED klines body is not a JSON array');
  });

  it('accepts a candle cut short before a maintenance gap and records the gap', () => {
    const r = rows().filter((row) => (row[0] as number) < slice.startMs + 10 * 60_000 || (row[0] as number) >= slice.startMs + 30 * 60_000);
    r[9]![6] = (r[9]![0] as number) + 29_999;
    const f = validateKlines(r, ctx);
    expect(f.anomalies).toEqual([`cut-short@${slice.startMs + 9 * 60_000}`]);
    expect(f.gaps).toEqual([[slice.startMs + 10 * 60_000, slice.startMs + 30 * 60_000]]);
  });

  it('an empty closed window is one gap (known-empty); an open candle is not final', () => {
    expect(validateKlines([], ctx).gaps).toEqual([[slice.startMs, slice.endMs + 1]]);
    const open = validateKlines(rows().slice(0, 10), { ...ctx, exchangeNow: slice.startMs + 9 * 60_000 + 5 });
    expect(open.hasOpenCandle).toBe(true);
    expect(open.lastClosedClose).toBe(slice.startMs + 9 * 60_000 - 1);
    expect(open.gaps).toEqual([]);
  });
});

describe('the byte scanner (hot path)', () => {
  const archive = new CsvCandles(REAL_MONTH_CSV);

  it('reads real archive rows itself (no fallback) with the same facts as JSON.parse + validateKlines, gaps and the open candle included', () => {
    const rg = geometry({ venue: 'binance', endpoint: 'klines', symbol: 'AVAXUSDT', interval: '1m' }, Date.UTC(2024, 1, 1), null, 1000);
    for (const index of [0, 7, 40]) {
      const s = sliceAt(rg, index)!;
      const served = archive.rows('1m', s.startMs, s.endMs, 1000);
      const withGap = served.filter((_, i) => i < 100 || i >= 130); // 30 candles missing
      for (const [body, exchangeNow] of [[served, s.endMs + 5000], [withGap, s.endMs + 5000], [served, served[500]![0] + 30_000]] as const) {
        const c = { slice: s, interval: '1m' as const, exchangeNow };
        const facts = scanKlines(Buffer.from(JSON.stringify(body)), c);
        expect(facts).not.toBeNull();
        expect(facts).toEqual(validateKlines(body, c));
      }
    }
  });

  it('leaves whitespace, odd numbers and bad rows to the general path (null), which decides', () => {
    const body = rows();
    expect(scanKlines(Buffer.from(JSON.stringify(body)), ctx)).toEqual(validateKlines(body, ctx));
    expect(scanKlines(Buffer.from(JSON.stringify(body, null, 1)), ctx)).toBeNull();
    expect(validateKlineBytes(Buffer.from(JSON.stringify(body, null, 1)), ctx)).toEqual(validateKlines(body, ctx));
    const exp = rows(); exp[3]![1] = '1e5';
    expect(scanKlines(Buffer.from(JSON.stringify(exp)), ctx)).toBeNull();
    const ohlc = rows(); ohlc[7]![2] = '0.00000001';
    expect(scanKlines(Buffer.from(JSON.stringify(ohlc)), ctx)).toBeNull();
    expect(() => validateKlineBytes(Buffer.from(JSON.stringify(ohlc)), ctx)).toThrow(/ohlc/);
  });

  it('grows its memory for a large body and reads the next, smaller one right', () => {
    const big = geometry({ venue: 'binance', endpoint: 'klines', symbol: 'BTCUSDT', interval: '1m' }, Date.UTC(2023, 0, 1), null, 5000);
    const s = sliceAt(big, 0)!;
    const served = new SyntheticCandles(5).rows({ symbol: 'BTCUSDT', listedAt: Date.UTC(2020, 0, 1) }, '1m', s.startMs, s.endMs, 5000) as unknown[][];
    const withGaps = served.filter((_, i) => i % 997 !== 3); // 5 more gaps across the 850 KB body
    const c = { slice: s, interval: '1m' as const, exchangeNow: s.endMs + 5000 };
    const facts = scanKlines(Buffer.from(JSON.stringify(withGaps)), c);
    expect(facts).toEqual(validateKlines(withGaps, c));
    expect(facts!.rows).toBe(withGaps.length);
    for (let i = 3; i < served.length; i += 997) {
      const removed = served[i]![0] as number;
      expect(facts!.gaps.some(([a, b]) => a <= removed && removed < b)).toBe(true);
    }
    expect(scanKlines(Buffer.from(JSON.stringify(rows())), ctx)).toEqual(validateKlines(rows(), ctx));
  });

  it('leaves calendar intervals (1w, 1M) to the general path', () => {
    const wg = geometry({ venue: 'binance', endpoint: 'klines', symbol: 'BTCUSDT', interval: '1w' }, Date.UTC(2023, 0, 2), null, 10);
    const s = sliceAt(wg, 0)!;
    const weeks = new SyntheticCandles(7).rows({ symbol: 'BTCUSDT', listedAt: Date.UTC(2020, 0, 1) }, '1w', s.startMs, s.endMs, 10) as unknown[][];
    const c = { slice: s, interval: '1w' as const, exchangeNow: s.endMs + 5000 };
    expect(scanKlines(Buffer.from(JSON.stringify(weeks)), c)).toBeNull();
    expect(validateKlineBytes(Buffer.from(JSON.stringify(weeks)), c)).toEqual(validateKlines(weeks, c));
  });

  it('runs the module assembled from kline-scan.wat (npm run wasm)', async () => {
    expect(readFileSync(WASM_MODULE_FILE, 'utf8')).toBe(renderWasmModule(await assembleKlineScan()));
  });

  it('packs the bodies it accepts to half, unpacks them byte for byte and writes their CSV from the packed form', () => {
    const rg = geometry({ venue: 'binance', endpoint: 'klines', symbol: 'AVAXUSDT', interval: '1m' }, Date.UTC(2024, 1, 1), null, 1000);
    const s = sliceAt(rg, 3)!;
    const served = archive.rows('1m', s.startMs, s.endMs, 1000);
    const c = { slice: s, interval: '1m' as const, exchangeNow: s.endMs + 5000 };
    for (const body of [served, served.filter((_, i) => i % 7 !== 0), served.slice(0, 1), []]) {
      const text = Buffer.from(JSON.stringify(body));
      const half = text.length >> 1; // split across chunks as a socket would
      const r = scanAndPackKlines([text.subarray(0, half), text.subarray(half)], text.length, c);
      expect(r).not.toBeNull();
      expect(r!.facts).toEqual(validateKlines(body, c));
      expect(r!.packed.length).toBe(4 + Math.ceil(text.length / 2)); // its length, then 4 bits a character
      const packed = Buffer.from(r!.packed); // a view the next call overwrites
      expect(unpackKlineBody(packed).equals(text)).toBe(true);
      // CSV export, from the packed form and from the body: the archive's lines (none for `[]`).
      const csv = body.length ? Buffer.from(body.map((row) => `${row.join(',')}\n`).join('')) : null;
      expect(klinesToCsv({ body: text, packed })).toEqual(csv);
      expect(klinesToCsv({ body: text })).toEqual(csv);
    }
    // A body that is not compact rows goes to the row path (null).
    expect(klinesToCsv({ body: Buffer.from(JSON.stringify(served.slice(0, 2), null, 1)) })).toBeNull();
  });

  it('unpacks 4-bit codes to their characters, and refuses a packed form shorter or longer than its length says', () => {
    expect(unpackKlineBody(new Uint8Array([3, 0, 0, 0, 0xdb, 0x0c])).toString()).toBe('[],');
    expect(unpackKlineBody(new Uint8Array([10, 0, 0, 0, 0x10, 0x32, 0x54, 0x76, 0x98])).toString()).toBe('0123456789');
    expect(unpackKlineBody(new Uint8Array([2, 0, 0, 0, 0xea])).toString()).toBe('".');
    expect(() => unpackKlineBody(new Uint8Array([1, 2]))).toThrow(/damaged/);
    expect(() => unpackKlineBody(new Uint8Array([5, 0, 0, 0, 0x11, 0x11]))).toThrow(/damaged/);
    expect(() => unpackKlineBody(new Uint8Array([1, 0, 0, 0, 0x11, 0x11]))).toThrow(/damaged/);
  });
});

