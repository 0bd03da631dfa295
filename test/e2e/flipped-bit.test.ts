// Regressions: one bit flipped in the LMDB file changed a price. `verify`
// caught it through the record's checksum, but `export` exited 0 writing
// the wrong value, and `rebuild-manifest` accepted the damaged payload with
// a fresh checksum, after which `verify` was clean for good. The damage
// here is made in the file itself, as a bad disk would, on a copy of a
// data root the built daemon backfilled from the mock.
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VENUES } from '../../src/venues/index.js';
import { decodePayload } from '../../storage/manifest-checks.js';
import { openStorage } from '../../storage/open.js';
import type { SliceRecord } from '../../storage/records.js';
import { runCandlekeep, servedClosed, tempDir } from '../support/daemon-harness.js';
import type { MockExchange } from '../support/mock-exchange.js';
import { LISTING_AND_MAINTENANCE, listingAndMaintenance } from '../support/scenarios.js';

const BTC = { venue: 'binance', endpoint: 'klines', symbol: 'BTCUSDT', interval: '1m' } as const;
const { now: NOW, start: START } = LISTING_AND_MAINTENANCE;
/** Bytes of the payload on each side of the flipped bit that locate it in the LMDB file. */
const CONTEXT = 32;

let mock: MockExchange;
let cfg: string;
let root: string;

beforeAll(async () => {
  let dir: string;
  ({ mock, dir, cfg } = await listingAndMaintenance());
  root = join(dir, 'data');
  expect((await runCandlekeep(['backfill', '--config', cfg])).code).toBe(0);
}, 60_000);
afterAll(async () => mock.stop());

interface Damage {
  copy: string;
  target: SliceRecord;
  /** The CSV line of the row whose price the flip changed, before and after. */
  right: string;
  wrong: string;
}

/**
 * A copy of the data root with one bit flipped inside one ok slice's
 * payload, in candlekeep.lmdb itself: the first bit of the body whose flip
 * still decodes, to the same rows but one price (what export used to
 * write without a word). Found on the payload's bytes, then located in the
 * file by the bytes around it, so it holds whatever the payload format.
 */
async function damagedCopy(): Promise<Damage> {
  const copy = join(tempDir(), 'data');
  cpSync(root, copy, { recursive: true });
  const store = openStorage(copy, { readOnly: true });
  const target = [...store.records(BTC)][10]!;
  const bytes = Buffer.from(store.payload(target)!);
  await store.close();
  expect(target.status).toBe('ok');
  const model = VENUES.binance!.endpoints.klines!.rows;
  const rows = decodePayload(bytes, model).rows as unknown[][];
  for (let at = bytes.length - CONTEXT - 1; at > bytes.length / 2; at--) {
    for (let bit = 0; bit < 4; bit++) {
      const flipped = Buffer.from(bytes);
      flipped[at]! ^= 1 << bit;
      let now: unknown[][];
      try {
        now = decodePayload(flipped, model).rows as unknown[][];
      } catch {
        continue;
      }
      const changed = rows.flatMap((row, i) => (JSON.stringify(row) === JSON.stringify(now[i]) ? [] : [i]));
      if (now.length !== rows.length || changed.length !== 1) continue;
      const [i] = changed as [number];
      const fields = rows[i]!.flatMap((v, f) => (v === now[i]![f] ? [] : [f]));
      if (fields.length !== 1 || fields[0]! < 1 || fields[0]! > 4 || !/^\d+\.\d+$/.test(String(now[i]![fields[0]!]))) continue;
      const file = readFileSync(join(copy, 'candlekeep.lmdb'));
      const around = bytes.subarray(at - CONTEXT, at + CONTEXT);
      let found = 0;
      for (let o = file.indexOf(around); o >= 0; o = file.indexOf(around, o + 1)) {
        file[o + CONTEXT]! ^= 1 << bit;
        found++;
      }
      expect(found, 'the payload bytes are in the LMDB file').toBeGreaterThan(0);
      writeFileSync(join(copy, 'candlekeep.lmdb'), file);
      return { copy, target, right: rows[i]!.join(','), wrong: now[i]!.join(',') };
    }
  }
  throw new Error('no single bit of the payload changes exactly one price');
}

function csvLines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n') : [];
}

describe('a payload with a flipped bit', () => {
  it('export exits 1 naming the stream and slice (CK_ERR_STORE_CORRUPT) and never writes the wrong row; verify names the slice', async () => {
    const { copy, target, right, wrong } = await damagedCopy();
    expect(wrong).not.toBe(right);
    for (const format of ['csv', 'ndjson']) {
      const out = join(copy, `..`, `btc.${format}`);
      const r = await runCandlekeep(['export', '--data-root', copy, '--stream', 'binance:klines:BTCUSDT:1m', '--format', format, '--out', out]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`candlekeep: stream binance:klines:BTCUSDT:1m, slice ${target.key}: payload bytes do not match the checksum recorded with the slice`);
      expect(r.stderr.trimEnd()).toMatch(/\[CK_ERR_STORE_CORRUPT\]$/);
      const wrongOpen = Number(wrong.split(',')[0]);
      const written = csvLines(out);
      expect(written.filter((l) => l.startsWith(`${wrongOpen},`) || l.includes(`"openTime":${wrongOpen},`))).toEqual([]);
    }
    const v = await runCandlekeep(['verify', '--data-root', copy, '--json']);
    expect(v.code).toBe(1);
    const findings = (JSON.parse(v.stdout) as { findings: Array<{ kind: string; sliceKey: string; problem: string }> }).findings;
    expect(findings.filter((f) => f.problem.includes('checksum'))).toEqual([
      { kind: 'corrupt', sliceKey: target.key, problem: expect.stringContaining('payload bytes do not match the checksum recorded with the slice') },
    ]);
  });

  it('rebuild-manifest drops it instead of blessing it; the slice is fetched again and the data ends as served', async () => {
    const { copy, target, wrong } = await damagedCopy();
    const rebuilt = await runCandlekeep(['rebuild-manifest', '--config', cfg, '--data-root', copy]);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toContain(`dropped payload ${target.id} of ${target.key}: payload bytes do not match the checksum recorded with the slice`);
    expect(rebuilt.stdout).toMatch(/^rebuilt \d+ slices of 4 streams from their payloads; 1 payloads dropped$/m);

    // Nothing damaged is left, and the slice is missing (pending), not clean with a wrong price.
    const v = await runCandlekeep(['verify', '--data-root', copy, '--json']);
    const findings = (JSON.parse(v.stdout) as { findings: Array<{ kind: string; sliceKey: string; problem: string }> }).findings;
    expect(v.code).toBe(1);
    expect(findings.filter((f) => f.kind === 'corrupt')).toEqual([]);
    expect(findings).toContainEqual({ kind: 'gap', sliceKey: expect.any(String), problem: `no slice between ${target.startMs} and ${target.endMs} (pending)` });
    const out = join(copy, '..', 'btc.csv');
    const exported = await runCandlekeep(['export', '--data-root', copy, '--stream', 'binance:klines:BTCUSDT:1m', '--format', 'csv', '--out', out]);
    expect(exported.code).toBe(0);
    expect(csvLines(out)).not.toContain(wrong);

    // The next run fetches that slice, and only that one (the clock stands still: no tail is due).
    const before = mock.log.length;
    const again = await runCandlekeep(['backfill', '--config', cfg, '--data-root', copy]);
    expect(again.code).toBe(0);
    const klines = mock.log.slice(before).filter((e) => e.path === '/api/v3/klines');
    expect(klines.map((e) => [e.params.symbol, e.params.interval, Number(e.params.startTime)])).toEqual([['BTCUSDT', '1m', target.startMs]]);
    expect((await runCandlekeep(['verify', '--data-root', copy])).code).toBe(0);
    expect((await runCandlekeep(['export', '--data-root', copy, '--stream', 'binance:klines:BTCUSDT:1m', '--format', 'csv', '--out', out])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(servedClosed(mock, 'BTCUSDT', '1m', START, NOW).map((row) => `${row.join(',')}\n`).join(''));
  });
});
