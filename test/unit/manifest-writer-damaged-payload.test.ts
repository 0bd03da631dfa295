// The manifest writer over real LMDB: a slice it plans whose stored payload
// fails its checksum is fetched again at once, not kept until it is due
// (a partial tail) or forever (an ok slice after a hole).
import { describe, expect, it } from 'vitest';
import { ManifestWriter } from '../../actors/manifest-writer.js';
import { encodePayload, payloadHash } from '../../src/payload.js';
import type { MainMessage } from '../../src/protocol.js';
import { geometry, sliceAt, streamName } from '../../src/slices.js';
import { Tamper } from '../../storage/lmdb/tamper.js';
import { openStorage } from '../../storage/open.js';
import type { CommitItem } from '../../storage/port.js';
import type { SliceRecord, StoredStatus } from '../../storage/records.js';
import { tempDir } from '../support/daemon-harness.js';

const H = 3_600_000;
const g = geometry({ venue: 'binance', endpoint: 'klines', symbol: 'BTCUSDT', interval: '1h' }, Date.UTC(2024, 0, 1), null, 10);
const stream = { ...g, name: streamName(g) };

function item(index: number, status: StoredStatus, nextDueAt: number | null): CommitItem {
  const s = sliceAt(g, index)!;
  const body = `[["row ${index}","1.23456"]]`;
  const { bytes } = encodePayload({ url: `u${index}`, key: s.key, fetchedAt: 1, serverTime: 2, httpStatus: 200 }, [Buffer.from(body)], body.length);
  const record: SliceRecord = {
    status, key: s.key, id: s.id, startMs: s.startMs, endMs: s.endMs, limit: s.limit, rows: 1, firstOpen: s.startMs, lastOpen: s.startMs,
    lastClosedClose: s.startMs + H - 1, gaps: [], anomalies: [], fetchedAt: 1, attempts: 0, error: null, nextDueAt, hasPayload: true, payloadHash: payloadHash(bytes),
  };
  return { stream: g, record, payload: Buffer.from(bytes) };
}

/** Slices 0 failed (a hole), 1 ok, 2 partial due far ahead; the payloads of `damaged` get one bit flipped. Returns what a new writer plans at `now`. */
async function planAfterDamage(damaged: number[]): Promise<number[]> {
  const root = tempDir('ck-writer-');
  const store = openStorage(root);
  const far = g.anchorMs + 1000 * H;
  const hole = { ...item(0, 'failed', far), payload: null };
  hole.record = { ...hole.record, hasPayload: false, payloadHash: null, rows: 0, error: { code: 'CK_ERR_HTTP_5XX', message: '502' } };
  await store.commit([hole, item(1, 'ok', null), item(2, 'partial', far)], 1);
  await store.close();
  const t = Tamper.open(root);
  for (const i of damaged) {
    const bytes = Buffer.from(t.payload(sliceAt(g, i)!.id)!);
    bytes[bytes.length - 4]! ^= 0x01;
    t.putPayload(sliceAt(g, i)!.id, bytes);
  }
  await t.close();
  const writer = new ManifestWriter(openStorage(root), 1000, { onOther() {} });
  let planned: MainMessage | undefined;
  writer.handle(stream, { type: 'writer.plan', id: 1, now: g.anchorMs + 30.5 * H, max: 10 }, (m) => (planned = m));
  await writer.close();
  if (planned?.type !== 'writer.planned') throw new Error('no plan');
  return planned.slices.map((s) => s.index);
}

describe('manifest writer', () => {
  it('plans nothing stored again while every payload is intact', async () => {
    expect(await planAfterDamage([])).toEqual([]); // the hole and the tail are not due yet, slice 3 has not opened
  });

  it('plans a partial tail and an ok slice after a hole again at once when their payloads fail their checksums', async () => {
    expect(await planAfterDamage([1, 2])).toEqual([1, 2]);
  });
});
