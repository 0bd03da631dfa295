// Data out: status, verify, rebuild-manifest and export, against a data root
// backfilled from the mock exchange by the built daemon.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tamper } from '../../storage/lmdb/tamper.js';
import { openStorage } from '../../storage/open.js';
import type { SliceRecord, StreamSummary } from '../../storage/records.js';
import { daemonUrl, readStream, runCandlekeep, servedClosed, spawnCandlekeep, tempDir } from '../support/daemon-harness.js';
import { MockExchange } from '../support/mock-exchange.js';
import { LISTING_AND_MAINTENANCE, listingAndMaintenance, REAL_MONTH_CSV, realMonth } from '../support/scenarios.js';

const { now: NOW, start: START } = LISTING_AND_MAINTENANCE;
const BTC = { venue: 'binance', endpoint: 'klines', symbol: 'BTCUSDT', interval: '1m' } as const;

let mock: MockExchange;
let dir: string;
let cfg: string;
let root: string;

beforeAll(async () => {
  ({ mock, dir, cfg } = await listingAndMaintenance());
  root = join(dir, 'data');
  const r = await runCandlekeep(['backfill', '--config', cfg]);
  expect(r.code).toBe(0);
}, 60_000);
afterAll(async () => mock.stop());

function copyRoot(): string {
  const copy = join(tempDir(), 'data');
  cpSync(root, copy, { recursive: true });
  return copy;
}

async function ck(...args: string[]) {
  return runCandlekeep(args);
}

describe('status', () => {
  it('one row per stream with counts, completeness, known-empty ranges, first and last candle', async () => {
    const r = await ck('status', '--config', cfg, '--json', '--now', new Date(NOW).toISOString());
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<Record<string, any>>;
    expect(rows.map((x) => x.stream).sort()).toEqual(['binance:klines:BTCUSDT:1h', 'binance:klines:BTCUSDT:1m', 'binance:klines:ETHUSDT:1h', 'binance:klines:ETHUSDT:1m']);
    const btc = rows.find((x) => x.stream === 'binance:klines:BTCUSDT:1m')!;
    const stored = readStream(root, BTC);
    expect(btc.slices.ok).toBe(stored.records.filter((x) => x.status === 'ok').length);
    expect(btc.slices.partial).toBe(1);
    expect(btc.slices.pending).toBe(0);
    expect(btc.completeness).toBe(1);
    expect(btc.lagSeconds).toBe(30);
    expect(btc.firstCandle).toBe('2024-02-20T00:00Z');
    expect(btc.lastClosedCandle).toBe('2024-03-01T12:00Z');
    expect(btc.knownEmpty).toEqual([{ from: '2024-02-15T00:00Z', to: '2024-02-20T00:00Z' }, { from: '2024-02-25T10:08Z', to: '2024-02-25T12:30Z' }]);
    const text = await ck('status', '--config', cfg, '--now', String(NOW));
    expect(text.stdout.split('\n')[0]).toMatch(/^stream\s+range\s+ok\s+partial\s+failed\s+pending\s+complete/);
    expect(text.stdout).toMatch(/binance:klines:BTCUSDT:1m\s+2024-02-15T00:00Z\.\.now\s+\d+\s+1\s+0\s+0\s+100\.00%/);
  });
});

describe('export', () => {
  it('csv equals what the mock served, byte for byte, with an optional header and a time range', async () => {
    const out = join(tempDir(), 'btc.csv');
    const r = await ck('export', '--config', cfg, '--stream', 'binance:klines:BTCUSDT:1m', '--format', 'csv', '--out', out);
    expect(r.code).toBe(0);
    const served = servedClosed(mock, 'BTCUSDT', '1m', START, NOW);
    expect(readFileSync(out, 'utf8')).toBe(served.map((row) => `${row.join(',')}\n`).join(''));
    expect(r.stderr).toContain('binance:klines:BTCUSDT:1m: gap 2024-02-25T10:08Z..2024-02-25T12:30Z (142 candles, exchange had none)');
    const ranged = join(tempDir(), 'r.csv');
    await ck('export', '--config', cfg, '--stream', 'binance:klines:BTCUSDT:1m', '--format', 'csv', '--out', ranged, '--header', '--from', '2024-02-21T00:00:00Z', '--to', '2024-02-21T01:00:00Z');
    const lines = readFileSync(ranged, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore');
    expect(lines.slice(1)).toEqual(served.filter((x) => (x[0] as number) >= Date.UTC(2024, 1, 21) && (x[0] as number) < Date.UTC(2024, 1, 21, 1)).map((x) => x.join(',')));
    expect(lines).toHaveLength(61);
  });

  it('ndjson has one named object per candle', async () => {
    const out = join(tempDir(), 'eth.ndjson');
    expect((await ck('export', '--config', cfg, '--stream', 'binance:klines:ETHUSDT:1h', '--format', 'ndjson', '--out', out)).code).toBe(0);
    const objs = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const served = servedClosed(mock, 'ETHUSDT', '1h', START, NOW);
    expect(objs).toHaveLength(served.length);
    expect(objs[5]).toEqual({
      openTime: served[5]![0], open: served[5]![1], high: served[5]![2], low: served[5]![3], close: served[5]![4], volume: served[5]![5],
      closeTime: served[5]![6], quoteVolume: served[5]![7], trades: served[5]![8], takerBuyBaseVolume: served[5]![9], takerBuyQuoteVolume: served[5]![10],
    });
  });

  it('parquet read back by DuckDB has the same values and typed columns', async () => {
    const out = join(tempDir(), 'btc.parquet');
    expect((await ck('export', '--config', cfg, '--stream', 'binance:klines:BTCUSDT:1m', '--format', 'parquet', '--out', out)).code).toBe(0);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const types = (await c.runAndReadAll(`describe select * from '${out}'`)).getRowObjectsJS().map((x) => [x.column_name, x.column_type]);
    expect(types).toEqual([
      ['open_time', 'TIMESTAMP'], ['open', 'DOUBLE'], ['high', 'DOUBLE'], ['low', 'DOUBLE'], ['close', 'DOUBLE'], ['volume', 'DOUBLE'],
      ['close_time', 'TIMESTAMP'], ['quote_volume', 'DOUBLE'], ['trades', 'BIGINT'], ['taker_buy_base_volume', 'DOUBLE'], ['taker_buy_quote_volume', 'DOUBLE'],
    ]);
    const rows = (await c.runAndReadAll(`select epoch_ms(open_time) t, open, high, low, close, volume, epoch_ms(close_time) ct, quote_volume, trades, taker_buy_base_volume, taker_buy_quote_volume from '${out}' order by open_time`)).getRows();
    const served = servedClosed(mock, 'BTCUSDT', '1m', START, NOW);
    expect(rows).toHaveLength(served.length);
    const expected = served.map((x) => [BigInt(x[0] as number), Number(x[1]), Number(x[2]), Number(x[3]), Number(x[4]), Number(x[5]), BigInt(x[6] as number), Number(x[7]), BigInt(x[8] as number), Number(x[9]), Number(x[10])]);
    expect(rows).toEqual(expected);
    c.closeSync();
  });

  it('json-tree writes manifest.json and one { meta, data } file per slice', async () => {
    const out = tempDir();
    expect((await ck('export', '--config', cfg, '--stream', 'binance:klines:BTCUSDT:1h', '--format', 'json-tree', '--out', out)).code).toBe(0);
    const base = join(out, 'binance', 'klines', 'raw', 'BTCUSDT', '1h');
    const manifest = JSON.parse(readFileSync(join(base, 'manifest.json'), 'utf8')) as { slices: Array<{ id: string; key: string; url: string; response: string }> };
    const stored = readStream(root, { ...BTC, interval: '1h' });
    expect(manifest.slices.map((x) => x.key)).toEqual(stored.records.map((x) => x.key));
    expect(readdirSync(join(base, 'responses'))).toHaveLength(stored.records.length);
    const one = JSON.parse(readFileSync(join(base, manifest.slices[0]!.response), 'utf8')) as { meta: { url: string; key: string }; data: unknown[][] };
    expect(one.meta.key).toBe(manifest.slices[0]!.key);
    expect(one.meta.url).toContain('/api/v3/klines?symbol=BTCUSDT&interval=1h');
    expect(one.data).toEqual(stored.rowsByKey.get(manifest.slices[0]!.key));
  });

  it('a glob writes one file per stream; ffill fills the maintenance gap with flat candles marked synthetic', async () => {
    const out = tempDir();
    const r = await ck('export', '--config', cfg, '--stream', 'binance:klines:*:1m', '--format', 'csv', '--out', out, '--gaps', 'ffill');
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['binance_klines_BTCUSDT_1m.csv', 'binance_klines_ETHUSDT_1m.csv']);
    const lines = readFileSync(join(out, 'binance_klines_BTCUSDT_1m.csv'), 'utf8').trimEnd().split('\n').map((l) => l.split(','));
    const synthetic = lines.filter((l) => l[12] === 'true');
    expect(synthetic).toHaveLength(142);
    expect(Number(synthetic[0]![0])).toBe(Date.UTC(2024, 1, 25, 10, 8));
    const before = lines[lines.indexOf(synthetic[0]!) - 1]!;
    expect(synthetic[0]!.slice(1, 5)).toEqual([before[4], before[4], before[4], before[4]]);
    expect(synthetic[0]![5]).toBe('0.00000000');
    // with every minute present, open times step by exactly one minute
    for (let i = 1; i < lines.length; i++) expect(Number(lines[i]![0]) - Number(lines[i - 1]![0])).toBe(60_000);
  });

  it('a real month from test/fixtures round-trips to CSV', async () => {
    const { mock: real, dir: d, cfg: c } = await realMonth();
    try {
      expect((await runCandlekeep(['backfill', '--config', c])).code).toBe(0);
      const out = join(d, 'avax.csv');
      expect((await ck('export', '--config', c, '--stream', 'binance:klines:AVAXUSDT:1m', '--format', 'csv', '--out', out)).code).toBe(0);
      const { CsvCandles } = await import('../support/csv-candles.js');
      expect(readFileSync(out, 'utf8')).toBe(new CsvCandles(REAL_MONTH_CSV).rows1m.map((x) => `${x.join(',')}\n`).join(''));
    } finally {
      await real.stop();
    }
  }, 60_000);
});

describe('verify', () => {
  it('a clean data root passes', async () => {
    const r = await ck('verify', '--config', cfg);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^4 streams, \d+ slices, \d+ rows checked: clean$/m);
  });

  /** Applies `corrupt` to a copy of the data root and returns verify's findings. */
  async function findingsAfter(corrupt: (t: Tamper, records: SliceRecord[], summary: StreamSummary) => void): Promise<{ code: number | null; findings: Array<{ kind: string; sliceKey: string; problem: string }>; records: SliceRecord[] }> {
    const copy = copyRoot();
    const store = openStorage(copy, { readOnly: true });
    const records = [...store.records(BTC)];
    const summary = store.storedSummary(BTC)!;
    await store.close();
    const t = Tamper.open(copy);
    corrupt(t, records, summary);
    await t.close();
    const r = await runCandlekeep(['verify', '--data-root', copy, '--json']);
    return { code: r.code, findings: (JSON.parse(r.stdout) as { findings: any[] }).findings, records };
  }

  it('finds a payload edited inside LMDB, naming its slice', async () => {
    const { code, findings, records } = await findingsAfter((t, recs) => {
      const target = recs[10]!;
      const bytes = Buffer.from(t.payload(target.id)!);
      const at = bytes.indexOf(Buffer.from('.'));
      bytes[at + 1] = bytes[at + 1] === 0x31 ? 0x32 : 0x31; // one digit of one price
      t.putPayload(target.id, bytes);
    });
    expect(code).toBe(1);
    expect(findings).toContainEqual({ kind: 'corrupt', sliceKey: records[10]!.key, problem: expect.stringContaining('do not match the checksum') });
  });

  it('checks the SHA-256 checksums of stores written before CRC-32: a matching one passes, an edited payload is found', async () => {
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex').slice(0, 32);
    const { code, findings, records } = await findingsAfter((t, recs) => {
      for (const i of [3, 4]) {
        const bytes = Buffer.from(t.payload(recs[i]!.id)!);
        expect(recs[i]!.payloadHash).toMatch(/^crc32:[0-9a-f]{8}$/);
        t.putSliceRecord(BTC, recs[i]!.startMs, { ...recs[i]!, payloadHash: sha(bytes) });
        if (i === 4) {
          const at = bytes.indexOf(Buffer.from('.'));
          bytes[at + 1] = bytes[at + 1] === 0x31 ? 0x32 : 0x31; // one digit of one price
          t.putPayload(recs[i]!.id, bytes);
        }
      }
    });
    expect(code).toBe(1);
    expect(findings.filter((f) => f.problem.includes('checksum')).map((f) => f.sliceKey)).toEqual([records[4]!.key]);
  });

  it('finds a summary count off by one', async () => {
    const { code, findings } = await findingsAfter((t, _recs, s) => {
      t.putSummary(BTC, { ...s, counts: { ...s.counts, ok: s.counts.ok + 1 } } satisfies StreamSummary);
    });
    expect(code).toBe(1);
    expect(findings).toContainEqual({ kind: 'corrupt', sliceKey: 'binance:klines:BTCUSDT:1m', problem: expect.stringMatching(/summary counts \d+ ok slices, records hold \d+/) });
  });

  it('finds a payload removed', async () => {
    const { code, findings, records } = await findingsAfter((t, recs) => t.removePayload(recs[7]!.id));
    expect(code).toBe(1);
    expect(findings).toContainEqual({ kind: 'corrupt', sliceKey: records[7]!.key, problem: 'ok slice has no payload' });
  });

  it('finds a slice record pointing at the wrong window', async () => {
    const { code, findings, records } = await findingsAfter((t, recs) => {
      const r = recs[12]!;
      t.putSliceRecord(BTC, r.startMs, { ...r, startMs: r.startMs + 60_000, endMs: r.endMs + 60_000 });
    });
    expect(code).toBe(1);
    expect(findings.filter((f) => f.sliceKey === records[12]!.key).map((f) => f.problem)).toContainEqual(expect.stringContaining('does not match its key'));
  });
});

describe('rebuild-manifest', () => {
  it('reproduces every record field the payloads determine, and the summaries', async () => {
    const copy = copyRoot();
    const before = openStorage(copy, { readOnly: true });
    const refs = ['BTCUSDT', 'ETHUSDT'].flatMap((symbol) => (['1m', '1h'] as const).map((interval) => ({ ...BTC, symbol, interval })));
    const records = new Map(refs.map((ref) => [ref, [...before.records(ref)]]));
    const summaries = new Map(refs.map((ref) => [ref, before.storedSummary(ref)!]));
    await before.close();
    // delete the manifest outright, as the old system allowed
    const wipe = Tamper.open(copy);
    await wipe.clearManifest();
    await wipe.close();
    const r = await runCandlekeep(['rebuild-manifest', '--config', cfg, '--data-root', copy]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^rebuilt \d+ slices of 4 streams from their payloads$/m);
    const after = openStorage(copy, { readOnly: true });
    for (const ref of refs) {
      expect([...after.records(ref)]).toEqual(records.get(ref)!);
      const s = after.storedSummary(ref)!;
      const o = summaries.get(ref)!;
      expect({ ...s, lastCommitAt: 0 }).toEqual({ ...o, lastCommitAt: 0 });
    }
    await after.close();
    expect((await runCandlekeep(['verify', '--data-root', copy])).code).toBe(0);
  });

  it('refuses while a daemon holds the data root', async () => {
    const { child, done, output } = spawnCandlekeep(['run', '--config', cfg]);
    await daemonUrl(output); // started: the data root is locked
    const r = await ck('rebuild-manifest', '--config', cfg);
    child.kill('SIGTERM');
    await done;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is in use by candlekeep pid \d+ .*\[CK_ERR_DATA_ROOT_LOCKED\]/);
    expect(existsSync(join(root, 'candlekeep.lmdb'))).toBe(true);
  });
});
