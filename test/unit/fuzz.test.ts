// Property-based bad input (fast-check): configs and exchange responses.
// Every case ends in a result or a CkError with the right code, never
// another exception; no bad row is ever accepted.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { CkError } from '../../src/errors.js';
import { ExchangeHttp } from '../../src/http/exchange-http.js';
import { klinesToCsv, scanAndPackKlines, unpackKlineBody } from '../../src/venues/binance/kline-scan.js';
import { validateKlineBytes, validateKlines } from '../../src/venues/binance/klines.js';
import { VENUES } from '../../src/venues/index.js';
import type { SliceSpec } from '../../src/slices.js';

export const FUZZ_RUNS = Number(process.env.CK_FUZZ_RUNS ?? 400);
const START = Date.UTC(2024, 0, 1);
const slice: SliceSpec = { index: 0, startMs: START, endMs: START + 100 * 60_000 - 1, limit: 100, key: 'k', id: 'i' };
const ctx = { slice, interval: '1m' as const, exchangeNow: START + 50 * 60_000 + 30_000 };

const weird = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('BTC/USDT', '../etc', 'A\u0000B', '..', '', 'x'.repeat(100_000), 'NaN', '1e400', '-1', '🚀'),
  fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
);
const anyJson = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, weird, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 12 }), tie('value'), { maxKeys: 4 })),
})).value;

describe('config fuzz', () => {
  const keys = ['$schema', 'dataRoot', 'http', 'venues', 'streams', 'logging', 'fetcher', 'symbols', 'stream'];
  const streamLike = fc.record({
    venue: fc.oneof(fc.constant('binance'), weird),
    endpoint: fc.oneof(fc.constantFrom('klines', 'uiKlines'), weird),
    symbols: fc.oneof(fc.array(fc.oneof(fc.constantFrom('BTCUSDT', 'ETHUSDT'), weird), { maxLength: 3 }), weird),
    intervals: fc.oneof(fc.array(fc.oneof(fc.constantFrom('1m', '1h', '1M'), weird), { maxLength: 3 }), weird),
    start: fc.oneof(fc.constantFrom('2024-01-01', '2024-13-45', 'yesterday'), weird),
  }, { requiredKeys: [] });
  const configLike = fc.oneof(
    anyJson,
    fc.dictionary(fc.constantFrom(...keys), fc.oneof(anyJson, fc.array(streamLike, { maxLength: 3 })), { maxKeys: 6 }),
    fc.record({ streams: fc.array(streamLike, { minLength: 1, maxLength: 3 }), dataRoot: fc.oneof(fc.constant('./data'), weird) }, { requiredKeys: ['streams'] }),
  );

  it(`${FUZZ_RUNS} random configs: a valid Config or CK_ERR_CONFIG_INVALID with one line per problem`, () => {
    let valid = 0;
    fc.assert(fc.property(configLike, (raw) => {
      try {
        const c = parseConfig(raw, '/tmp/fuzz/symbols.json', { env: {} });
        valid++;
        for (const s of c.streams) expect(s.symbol).toMatch(/^[A-Z0-9]{2,30}$/);
      } catch (err) {
        expect(err).toBeInstanceOf(CkError);
        expect((err as CkError).code).toBe('CK_ERR_CONFIG_INVALID');
        expect((err as CkError).exitCode).toBe(2);
        for (const line of (err as Error).message.split('\n')) expect(line.length).toBeGreaterThan(0);
      }
    }), { numRuns: FUZZ_RUNS, seed: 42 });
    expect(valid).toBeLessThan(FUZZ_RUNS);
  });
});

/** A plausible kline row for the slice, open at `i` minutes. */
const row = (i: number, p = '100.00000000'): unknown[] => [START + i * 60_000, p, p, p, p, '1.00000000', START + (i + 1) * 60_000 - 1, '100.00000000', 3, '0.50000000', '50.00000000', '0'];

function outcome(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (err) {
    if (!(err instanceof CkError)) throw err;
    return { code: err.code };
  }
}

describe('exchange response fuzz', () => {
  it(`${FUZZ_RUNS} random bodies (bytes, JSON, mutated rows): facts or a CkError, never a crash; no row outside its window accepted`, () => {
    const mutated = fc.tuple(fc.integer({ min: 0, max: 20 }), fc.array(fc.tuple(fc.nat(11), anyJson), { maxLength: 3 })).map(([n, edits]) => {
      const rows = Array.from({ length: n }, (_, i) => row(i * 2));
      for (const [f, v] of edits) if (rows.length > 0) rows[f % rows.length]![f] = v;
      return JSON.stringify(rows);
    });
    const body = fc.oneof(fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), anyJson.map((v) => Buffer.from(JSON.stringify(v) ?? 'undefined')), mutated.map((s) => Buffer.from(s)));
    fc.assert(fc.property(body, (bytes) => {
      const r = outcome(() => validateKlineBytes(bytes, ctx)) as { ok?: { rows: number; firstOpen: number | null; lastOpen: number | null }; code?: string };
      if (r.code) expect(['CK_ERR_VALIDATION', 'CK_ERR_RESPONSE_MALFORMED']).toContain(r.code);
      else if (r.ok!.rows > 0) {
        expect(r.ok!.firstOpen!).toBeGreaterThanOrEqual(slice.startMs);
        expect(r.ok!.lastOpen!).toBeLessThanOrEqual(slice.endMs);
      }
    }), { numRuns: FUZZ_RUNS, seed: 7 });
  });

  it(`${FUZZ_RUNS} random funding and OKX bodies: facts or a CkError with a code, never a crash; nothing outside its window accepted`, () => {
    const H8 = 8 * 3_600_000;
    const fundingSlice: SliceSpec = { index: 0, startMs: START, endMs: START + 1000 * H8 - 1, limit: 1000, key: `binanceusdm:fundingRate:BTCUSDT:8h:${START}-${START + 1000 * H8 - 1}:1000`, id: 'i' };
    const event = (i: number) => ({ symbol: 'BTCUSDT', fundingTime: START + i * H8 + (i % 3), fundingRate: i % 2 ? '-0.00010000' : '0.00010000', markPrice: '42000.12000000' });
    const bar = (i: number) => [String(START + i * 60_000), '10.5', '11', '10', '10.8', '1.2', '12.96', '12.96', '1'];
    const edit = <T,>(make: (i: number) => T) => fc.tuple(fc.integer({ min: 0, max: 12 }), fc.array(fc.tuple(fc.nat(8), anyJson), { maxLength: 3 })).map(([n, edits]) => {
      const rows = Array.from({ length: n }, (_, i) => make(i * 2)) as unknown as Array<Record<string | number, unknown>>;
      for (const [f, v] of edits) if (rows.length > 0) rows[f % rows.length]![Array.isArray(rows[0]) ? f : ['symbol', 'fundingTime', 'fundingRate', 'markPrice', 'x'][f % 5]!] = v;
      return rows;
    });
    const envelope = fc.tuple(fc.constantFrom('0', '0', '0', '51001', '50011', '50013', '51000', 7), edit(bar)).map(([code, rows]) => ({ code, msg: '', data: [...rows].reverse() }));
    const cases = fc.oneof(
      fc.tuple(fc.constant('funding' as const), fc.oneof(fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), anyJson.map((v) => Buffer.from(JSON.stringify(v) ?? 'null')), edit(event).map((r) => Buffer.from(JSON.stringify(r))))),
      fc.tuple(fc.constant('okx' as const), fc.oneof(fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), anyJson.map((v) => Buffer.from(JSON.stringify(v) ?? 'null')), envelope.map((e) => Buffer.from(JSON.stringify(e))))),
    );
    const codes = ['CK_ERR_VALIDATION', 'CK_ERR_RESPONSE_MALFORMED', 'CK_ERR_UNKNOWN_SYMBOL', 'CK_ERR_RATE_LIMITED', 'CK_ERR_HTTP_5XX', 'CK_ERR_EXCHANGE_REJECTED'];
    const accepted = { funding: 0, okx: 0 };
    fc.assert(fc.property(cases, ([venue, bytes]) => {
      const [endpoint, c] = venue === 'funding'
        ? [VENUES.binanceusdm!.endpoints.fundingRate!, { slice: fundingSlice, interval: '8h' as const, exchangeNow: START + 2000 * H8 }]
        : [VENUES.okx!.endpoints.candles!, ctx];
      const r = outcome(() => endpoint.validate(bytes, c)) as { ok?: { rows: number; firstOpen: number | null; lastOpen: number | null }; code?: string };
      if (r.code) expect(codes).toContain(r.code);
      else if (r.ok!.rows > 0) {
        accepted[venue]++;
        expect(r.ok!.firstOpen!).toBeGreaterThanOrEqual(c.slice.startMs);
        expect(r.ok!.lastOpen!).toBeLessThanOrEqual(c.slice.endMs);
      }
    }), { numRuns: FUZZ_RUNS, seed: 13 });
    // The generators reach the accepting paths too, not only the errors.
    expect(accepted.funding).toBeGreaterThan(0);
    expect(accepted.okx).toBeGreaterThan(0);
  });

  it(`the byte scanner and JSON.parse + validateKlines agree on ${FUZZ_RUNS} bodies`, () => {
    const numberish = fc.constantFrom('100.00000000', '99.5', '1', '0.1', '00.1', '1.', '.5', '1e5', '-1', '100.00000001', ' 1', '', '999999999999999', '9999999999999999', '0.00000000000001', '0.000000000000001', '1.0.0', '1\\u0030');
    const rows = fc.array(fc.tuple(fc.integer({ min: -2, max: 105 }), numberish, fc.constantFrom(0, 1, -1, 60_000)), { maxLength: 12 }).map((rs) =>
      rs.map(([i, p, closeSkew]) => {
        const r = row(i, p);
        r[6] = (r[6] as number) + closeSkew;
        return r;
      }));
    const spacing = fc.constantFrom('', ' ', '\n');
    const accepted = { packed: 0 };
    fc.assert(fc.property(rows, spacing, (rs, ws) => {
      const text = ws ? JSON.stringify(rs, null, ws === '\n' ? 1 : undefined).replaceAll(',', `,${ws}`) : JSON.stringify(rs);
      const fast = outcome(() => validateKlineBytes(Buffer.from(text), ctx));
      const slow = outcome(() => validateKlines(JSON.parse(text), ctx));
      expect(fast).toEqual(slow);
      // What the hot path accepts, it stores packed: unpacking gives the body back byte for byte.
      const packed = scanAndPackKlines([Buffer.from(text)], Buffer.byteLength(text), ctx);
      if (packed) {
        expect({ ok: packed.facts }).toEqual(slow);
        const stored = Buffer.from(packed.packed); // a view the next call overwrites
        expect(unpackKlineBody(stored).toString()).toBe(text);
        const rows = JSON.parse(text) as unknown[][];
        expect(klinesToCsv({ body: Buffer.from(text), packed: stored })).toEqual(rows.length ? Buffer.from(rows.map((r) => `${r.join(',')}\n`).join('')) : null);
        accepted.packed++;
      }
    }), { numRuns: FUZZ_RUNS, seed: 11 });
    expect(accepted.packed).toBeGreaterThan(0);
  });

  it('deep nesting, NaN strings and huge numbers are refused without a crash', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(outcome(() => validateKlineBytes(Buffer.from(deep), ctx))).toEqual({ code: 'CK_ERR_VALIDATION' });
    expect(outcome(() => validateKlineBytes(Buffer.from(JSON.stringify([row(0, 'NaN')])), ctx))).toEqual({ code: 'CK_ERR_VALIDATION' });
    const huge = row(0);
    huge[0] = 1e300;
    expect(outcome(() => validateKlineBytes(Buffer.from(JSON.stringify([huge])), ctx))).toEqual({ code: 'CK_ERR_VALIDATION' });
  });
});

describe('bodies that never end or are too large', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      if (req.url === '/huge') {
        // 100 MB, as fast as the socket takes it
        let sent = 0;
        const pump = () => {
          while (sent < 100 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      } else {
        // endless, slowly
        const t = setInterval(() => res.write('['), 20);
        res.on('close', () => clearInterval(t));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('a 100 MB body stops at the size cap; an endless trickle stops at the body deadline', async () => {
    const http = new ExchangeHttp({ connectTimeoutMs: 1000, headersTimeoutMs: 1000, bodyTimeoutMs: 1000, maxResponseBytes: 16 * 1024 * 1024 });
    const before = process.memoryUsage().rss;
    await expect(http.get(`${base}/huge`)).rejects.toMatchObject({ code: 'CK_ERR_RESPONSE_TOO_LARGE' });
    expect(process.memoryUsage().rss - before).toBeLessThan(80 * 1024 * 1024);
    const t0 = Date.now();
    await expect(http.get(`${base}/endless`)).rejects.toMatchObject({ code: 'CK_ERR_FETCH_TIMEOUT' });
    expect(Date.now() - t0).toBeLessThan(5000);
    await http.close();
  });
});
