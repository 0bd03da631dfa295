// The storage port on real LMDB in a fresh temp directory per test: sink
// offsets, the checksum check on every payload read, a damaged partial
// slice fetched again instead of kept, injected write faults, and stores
// that a kill left before their databases existed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodePayload, payloadHash } from '../../src/payload.js';
import { geometry, sliceAt, streamName } from '../../src/slices.js';
import { Tamper } from '../../storage/lmdb/tamper.js';
import { openStorage } from '../../storage/open.js';
import type { CommitItem, Storage } from '../../storage/port.js';
import type { SliceRecord, StoredStatus } from '../../storage/records.js';
import { tempDir } from '../support/daemon-harness.js';

const g = geometry({ venue: 'binance', endpoint: 'klines', symbol: 'BTCUSDT', interval: '1m' }, Date.UTC(2024, 0, 1), null, 10);
const eth = { ...g, symbol: 'ETHUSDT' };

/** Slice `index` committed as `status` with a payload whose body is `body`. */
function item(index: number, status: StoredStatus, body = `[["row ${index}", "1.23456"]]`): CommitItem {
  const s = sliceAt(g, index)!;
  const { bytes } = encodePayload({ url: `u${index}`, key: s.key, fetchedAt: 1, serverTime: 2, httpStatus: 200 }, [Buffer.from(body)], Buffer.byteLength(body));
  const record: SliceRecord = {
    status, key: s.key, id: s.id, startMs: s.startMs, endMs: s.endMs, limit: s.limit, rows: 1, firstOpen: s.startMs, lastOpen: s.startMs,
    lastClosedClose: s.startMs + 59_999, gaps: [], anomalies: [], fetchedAt: 1, attempts: 0, error: null,
    nextDueAt: status === 'partial' ? 5 : null, hasPayload: true, payloadHash: payloadHash(bytes),
  };
  return { stream: g, record, payload: Buffer.from(bytes) };
}

/** A failed re-fetch of slice `index`: no payload. */
function failure(index: number): CommitItem {
  const s = sliceAt(g, index)!;
  const record: SliceRecord = {
    status: 'failed', key: s.key, id: s.id, startMs: s.startMs, endMs: s.endMs, limit: s.limit, rows: 0, firstOpen: null, lastOpen: null,
    lastClosedClose: null, gaps: [], anomalies: [], fetchedAt: null, attempts: 1, error: { code: 'CK_ERR_HTTP_5XX', message: '502' }, nextDueAt: 9, hasPayload: false, payloadHash: null,
  };
  return { stream: g, record, payload: null };
}

/** Flips one bit of the stored payload of slice `index`, as a bad disk would. */
async function flipBit(root: string, store: Storage, index: number): Promise<void> {
  const id = sliceAt(g, index)!.id;
  await store.close();
  const t = Tamper.open(root);
  const bytes = Buffer.from(t.payload(id)!);
  bytes[bytes.length - 5]! ^= 0x01; // a digit of the price "1.23456"
  t.putPayload(id, bytes);
  await t.close();
}

describe('storage port', () => {
  it('keeps an opaque offset per sink per stream, across a reopen, in the same store', async () => {
    const root = tempDir('ck-port-');
    const store = openStorage(root);
    expect(store.sinkOffset('postgres', g)).toBeUndefined();
    await store.setSinkOffset('postgres', g, 'slice:1704067200000');
    await store.setSinkOffset('postgres', eth, 'slice:1');
    await store.setSinkOffset('parquet', g, '{"file":"2024-01.parquet","rows":600}');
    await store.setSinkOffset('postgres', g, 'slice:1704067800000'); // advanced after the next confirmed write
    expect(store.sinkOffset('postgres', g)).toBe('slice:1704067800000');
    await store.close();
    const again = openStorage(root, { readOnly: true });
    expect(again.sinkOffset('postgres', g)).toBe('slice:1704067800000');
    expect(again.sinkOffset('postgres', eth)).toBe('slice:1');
    expect(again.sinkOffset('parquet', g)).toBe('{"file":"2024-01.parquet","rows":600}');
    expect(again.sinkOffset('parquet', eth)).toBeUndefined();
    await expect(again.setSinkOffset('postgres', g, 'x')).rejects.toMatchObject({ code: 'CK_ERR_STORAGE' });
    expect([...again.streams()]).toEqual([]); // offsets are not streams
    await again.close();
  });

  it('a sink offset whose write fails keeps the offset before it', async () => {
    let full = false;
    const store = openStorage(tempDir('ck-port-'), { faults: { beforeWrite: () => { if (full) throw Object.assign(new Error('no space'), { code: 'ENOSPC' }); } } });
    await store.setSinkOffset('postgres', g, 'a');
    full = true;
    await expect(store.setSinkOffset('postgres', g, 'b')).rejects.toMatchObject({ code: 'CK_ERR_STORAGE', message: expect.stringContaining('ENOSPC') });
    expect(store.sinkOffset('postgres', g)).toBe('a');
    await store.close();
  });

  it('an injected write fault fails the whole commit: nothing of the batch stored, the summary as before', async () => {
    let full = false;
    const store = openStorage(tempDir('ck-port-'), { faults: { beforeWrite: () => { if (full) throw Object.assign(new Error('no space left on device (simulated)'), { code: 'ENOSPC' }); } } });
    await store.commit([item(0, 'ok')], 1);
    full = true;
    await expect(store.commit([item(1, 'ok'), item(2, 'ok')], 2)).rejects.toMatchObject({ code: 'CK_ERR_STORAGE', message: 'LMDB write failed, nothing of this batch was stored: ENOSPC no space left on device (simulated)' });
    expect([...store.records(g)].map((r) => r.startMs)).toEqual([sliceAt(g, 0)!.startMs]);
    expect(store.summary(g)).toMatchObject({ total: 1, okThroughIndex: 1 });
    full = false;
    await store.commit([item(1, 'ok')], 3);
    expect(store.summary(g)).toMatchObject({ total: 2, okThroughIndex: 2 });
    await store.close();
  });

  it('refuses a payload whose bytes fail their checksum, naming the stream and the slice', async () => {
    const root = tempDir('ck-port-');
    const store = openStorage(root);
    await store.commit([item(0, 'ok'), item(1, 'ok')], 1);
    await flipBit(root, store, 1);
    const reader = openStorage(root, { readOnly: true });
    const [intact, damaged] = [...reader.records(g)];
    expect(Buffer.from(reader.payload(intact!)!).toString()).toContain('1.23456');
    expect(() => reader.payload(damaged!)).toThrow(expect.objectContaining({
      code: 'CK_ERR_STORE_CORRUPT',
      message: expect.stringContaining(`stream ${streamName(g)}, slice ${damaged!.key}: payload bytes do not match the checksum`),
    }));
    await reader.close();
  });

  it('a failed re-fetch of a partial slice keeps its rows; of a partial slice whose payload is damaged, drops them so it is fetched again', async () => {
    const root = tempDir('ck-port-');
    let store = openStorage(root);
    await store.commit([item(0, 'partial'), item(1, 'partial')], 1);
    await store.commit([failure(0)], 2);
    expect(store.slice(g, sliceAt(g, 0)!.startMs)).toMatchObject({ status: 'partial', hasPayload: true, rows: 1, attempts: 1, nextDueAt: 9 });
    await flipBit(root, store, 1);
    store = openStorage(root);
    await store.commit([failure(1)], 3);
    expect(store.slice(g, sliceAt(g, 1)!.startMs)).toMatchObject({ status: 'failed', hasPayload: false, rows: 0, nextDueAt: 9 });
    expect(store.summary(g)).toMatchObject({ counts: { ok: 0, partial: 1, failed: 1 }, total: 2, rows: 1 });
    expect([...store.payloads()].map((p) => p.id)).toEqual([sliceAt(g, 0)!.id]); // the damaged bytes are gone
    await store.close();
  });

  it('reads a store killed before its databases existed as empty', async () => {
    const root = tempDir('ck-port-');
    await Tamper.bareEnvironment(root);
    const store = openStorage(root, { readOnly: true });
    expect([...store.streams()]).toEqual([]);
    expect([...store.records(g)]).toEqual([]);
    expect([...store.payloads()]).toEqual([]);
    expect(store.lastStartAtOrBefore(g, Date.now())).toBeUndefined();
    expect(store.sinkOffset('postgres', g)).toBeUndefined();
    await store.close();
  });

  it('reads a store file killed before LMDB wrote its first page as empty, and the daemon starts on it', async () => {
    const root = tempDir('ck-port-');
    writeFileSync(join(root, 'candlekeep.lmdb'), '');
    const reader = openStorage(root, { readOnly: true });
    expect([...reader.streams()]).toEqual([]);
    expect(reader.bytesOnDisk()).toBe(0);
    await reader.close();
    const writer = openStorage(root);
    await writer.commit([item(0, 'ok')], 1);
    expect(writer.summary(g)).toMatchObject({ total: 1 });
    await writer.close();
  });

  it('a data root without a store is CK_ERR_NO_DATA for readers, created for the writer', async () => {
    const root = tempDir('ck-port-');
    expect(() => openStorage(root, { readOnly: true })).toThrow(expect.objectContaining({ code: 'CK_ERR_NO_DATA' }));
    expect(() => openStorage(root, { existing: true })).toThrow(expect.objectContaining({ code: 'CK_ERR_NO_DATA' }));
    const store = openStorage(join(root, 'new'));
    expect(store.bytesOnDisk()).toBeGreaterThan(0);
    await store.close();
  });
});
