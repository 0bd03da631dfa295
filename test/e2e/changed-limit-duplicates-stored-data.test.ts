// a-changed-limit-duplicated-stored-data: backfilling a stream again with
// another `limit` (or a start off its stored grid) cut windows overlapping
// the stored ones: verify found overlaps, status counted rows twice, export
// wrote duplicate open times, and rebuild-manifest kept them. Now such a
// config is refused before anything is written, and rebuild-manifest repairs
// a store an older candlekeep damaged that way.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../storage/open.js';
import type { CommitItem } from '../../storage/port.js';
import { manifestFindings, readStream, runCandlekeep, servedClosed, tempDir, writeConfig } from '../support/daemon-harness.js';
import { MockClock } from '../support/mock-clock.js';
import { MockExchange } from '../support/mock-exchange.js';

const NOW = Date.UTC(2024, 6, 1, 0, 30);
const START = Date.UTC(2024, 0, 1);
const REF = { venue: 'binance', endpoint: 'klines', symbol: 'BTCUSDT', interval: '1h' } as const;
const NAME = 'binance:klines:BTCUSDT:1h';

let mock: MockExchange;
beforeAll(async () => {
  mock = new MockExchange({ clock: new MockClock({ start: NOW, held: true }), symbols: [{ symbol: 'BTCUSDT', listedAt: Date.UTC(2023, 11, 1) }] });
  await mock.start();
});
afterAll(async () => mock.stop());

function config(dir: string, stream: Record<string, unknown>): string {
  return writeConfig(dir, { venues: { binance: { baseUrl: mock.url } }, streams: [{ venue: 'binance', endpoint: 'klines', symbols: ['BTCUSDT'], intervals: ['1h'], start: new Date(START).toISOString(), ...stream }] });
}

/** Open times stored as closed candles, and how many of them are there twice. */
function openTimes(root: string): { times: number[]; duplicates: number } {
  const times = readStream(root, REF).closedRows.map((r) => r[0] as number);
  return { times, duplicates: times.length - new Set(times).size };
}

describe('a changed slice geometry', () => {
  it('a changed limit is refused with exit 2 naming the stream and both limits; nothing is written', async () => {
    const dir = tempDir();
    const root = join(dir, 'data');
    expect((await runCandlekeep(['backfill', '--config', config(dir, { limit: 1000 })])).code).toBe(0);
    const before = readStream(root, REF);
    const r = await runCandlekeep(['backfill', '--config', config(dir, { limit: 700 })]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/\[CK_ERR_GEOMETRY_CHANGED\]$/);
    expect(lines[0]).toContain(`${NAME}: its stored slices hold limit 1000, the config asks for limit 700; set "limit": 1000`);
    const after = readStream(root, REF);
    expect(after.records).toEqual(before.records);
    expect(openTimes(root).duplicates).toBe(0);
    expect(manifestFindings(root)).toEqual([]);
  });

  it('a start off the stored grid is refused with the nearest start on it, which is then accepted without overlap', async () => {
    const dir = tempDir();
    const root = join(dir, 'data');
    expect((await runCandlekeep(['backfill', '--config', config(dir, {})])).code).toBe(0);
    const earlier = Date.UTC(2023, 11, 1);
    const r = await runCandlekeep(['backfill', '--config', config(dir, { start: new Date(earlier).toISOString() })]);
    expect(r.code).toBe(2);
    // 1000 x 1h = 41 days 16 hours before 2024-01-01 is 2023-11-20T08:00Z: the nearest grid start at or before 2023-12-01.
    const onGrid = START - 1000 * 3_600_000;
    expect(r.stderr).toContain(`use "start": "${new Date(onGrid).toISOString()}"`);
    expect((await runCandlekeep(['backfill', '--config', config(dir, { start: new Date(onGrid).toISOString() })])).code).toBe(0);
    expect(manifestFindings(root)).toEqual([]);
    const { times, duplicates } = openTimes(root);
    expect(duplicates).toBe(0);
    expect(times).toEqual(servedClosed(mock, 'BTCUSDT', '1h', onGrid, NOW).map((row) => row[0]));
  });

  it('rebuild-manifest repairs a store an older candlekeep wrote on two grids: one grid kept, the rest fetched again, no duplicate', async () => {
    // Build the damage as the old daemon left it: the limit-700 slices committed over a limit-1000 store.
    const dir = tempDir();
    const root = join(dir, 'data');
    const other = tempDir();
    expect((await runCandlekeep(['backfill', '--config', config(dir, { limit: 1000 })])).code).toBe(0);
    expect((await runCandlekeep(['backfill', '--config', config(other, { limit: 700 })])).code).toBe(0);
    const from = openStorage(join(other, 'data'), { readOnly: true });
    const store = openStorage(root);
    const g1000 = { ...REF, anchorMs: START, endMs: null, limit: 1000 };
    const items: CommitItem[] = [
      ...[...store.records(REF)].map((record) => ({ stream: g1000, record, payload: null })),
      ...[...from.records(REF)].map((record) => ({ stream: g1000, record, payload: from.payload(record)! })),
    ];
    await store.replaceAll(items, NOW);
    await from.close();
    await store.close();
    expect(openTimes(root).duplicates).toBeGreaterThan(0);
    const damaged = await runCandlekeep(['verify', '--data-root', root]);
    expect(damaged.code).toBe(1);
    expect(damaged.stdout).toMatch(/overlap/);

    const rebuilt = await runCandlekeep(['rebuild-manifest', '--config', config(dir, { limit: 1000 })]);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout + rebuilt.stderr).toMatch(/off the kept slice grid \(limit 1000 from 2024-01-01T00:00:00\.000Z\)/);
    expect(manifestFindings(root)).toEqual([]);
    expect((await runCandlekeep(['verify', '--data-root', root])).code).toBe(0);
    expect(openTimes(root).duplicates).toBe(0);
    // The windows only the dropped payloads covered are fetched again on the kept grid.
    expect((await runCandlekeep(['backfill', '--config', config(dir, { limit: 1000 })])).code).toBe(0);
    expect(manifestFindings(root)).toEqual([]);
    const { times, duplicates } = openTimes(root);
    expect(duplicates).toBe(0);
    expect(times).toEqual(servedClosed(mock, 'BTCUSDT', '1h', START, NOW).map((row) => row[0]));
  });
});
