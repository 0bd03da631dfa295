// A payload's buffer travels worker -> main (transferred) and comes back with
// the commit's reply for the next response. The property that matters: once
// the reply arrives, LMDB holds its own copy, so reusing the buffer cannot
// change what was stored.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { ManifestWriter } from '../../actors/manifest-writer.js';
import { decodeRawPayload, encodePayload, packMeta, reusePayloadBuffer } from '../../src/payload.js';
import type { FetcherMessage, MainMessage } from '../../src/protocol.js';
import { geometry, sliceAt, streamName } from '../../src/slices.js';
import { openStorage } from '../../storage/open.js';
import { tempDir } from '../support/daemon-harness.js';

const g = geometry({ venue: 'binance', endpoint: 'klines', symbol: 'BTCUSDT', interval: '1m' }, Date.UTC(2024, 0, 1), null, 1000);
const stream = { ...g, name: streamName(g) };
const store = openStorage(tempDir('ck-buffers-'));
afterAll(() => store.close());

function reply(port: MessagePort): Promise<MainMessage> {
  return new Promise((resolve) => port.once('message', resolve));
}

describe('payload buffers', () => {
  it('come back with the commit reply (one per transaction), are reused, and scribbling on them leaves the stored payload intact', async () => {
    const writer = new ManifestWriter(store, 1000, { onOther() {} });
    const { port1, port2 } = new MessageChannel();
    writer.attach(stream, port1);
    const stored: Array<{ startMs: number; bytes: Buffer }> = [];
    let previous: ArrayBuffer | null = null;
    for (let i = 0; i < 3; i++) {
      const slice = { ...sliceAt(g, i)!, attempts: 0 };
      const body = Buffer.from(`[["row ${i}"]]`.repeat(13_000 + i)); // about 160 KB, as a 1000-row klines answer
      const { bytes } = encodePayload({ url: `u${i}`, key: slice.key, fetchedAt: 1, serverTime: 2, httpStatus: 200 }, [body.subarray(0, 7), body.subarray(7)], body.length);
      if (previous) expect(bytes.buffer).toBe(previous); // the buffer that came back is the one used
      stored.push({ startMs: slice.startMs, bytes: Buffer.from(bytes) });
      const answered = reply(port2);
      port2.postMessage({ type: 'writer.commit', id: i, slice, status: 'ok', payload: bytes, facts: { rows: 1, firstOpen: slice.startMs, lastOpen: slice.startMs, lastClosedClose: null, hasOpenCandle: false, gaps: [], anomalies: [] }, fetchedAt: 1, nextDueAt: null } satisfies FetcherMessage, [bytes.buffer as ArrayBuffer]);
      expect(bytes.byteLength).toBe(0); // transferred, not copied
      const m = await answered;
      if (m.type !== 'writer.committed') throw new Error(`expected writer.committed, got ${m.type}`);
      expect(m.ids).toEqual([i]);
      expect(m.buffers).toHaveLength(1);
      const buffer = m.buffers[0]!;
      expect(buffer.byteLength).toBeGreaterThanOrEqual(stored[i]!.bytes.length);
      new Uint8Array(buffer).fill(0x58); // the next response overwrites it
      reusePayloadBuffer(buffer);
      previous = buffer;
    }
    // Commits that arrive together share a transaction and get ONE reply with every id and buffer.
    const together = [3, 4, 5].map((i) => {
      const slice = { ...sliceAt(g, i)!, attempts: 0 };
      const body = Buffer.from(`[["row ${i}"]]`.repeat(13_000));
      const { bytes } = encodePayload({ url: `u${i}`, key: slice.key, fetchedAt: 1, serverTime: 2, httpStatus: 200 }, [body], body.length);
      stored.push({ startMs: slice.startMs, bytes: Buffer.from(bytes) });
      return { slice, bytes };
    });
    const answered = reply(port2);
    for (const [n, { slice, bytes }] of together.entries()) {
      port2.postMessage({ type: 'writer.commit', id: 10 + n, slice, status: 'ok', payload: bytes, facts: { rows: 1, firstOpen: slice.startMs, lastOpen: slice.startMs, lastClosedClose: null, hasOpenCandle: false, gaps: [], anomalies: [] }, fetchedAt: 1, nextDueAt: null } satisfies FetcherMessage, [bytes.buffer as ArrayBuffer]);
    }
    const m = await answered;
    expect(m).toMatchObject({ type: 'writer.committed', ids: [10, 11, 12] });
    expect((m as { buffers: ArrayBuffer[] }).buffers.map((b) => b.byteLength >= stored[3]!.bytes.length)).toEqual([true, true, true]);
    port2.close();
    for (const { startMs, bytes } of stored) {
      const got = store.payload(store.slice(g, startMs)!)!;
      expect(Buffer.compare(got, bytes)).toBe(0);
      expect(decodeRawPayload(got).meta.key).toBe(decodeRawPayload(bytes).meta.key);
    }
  });
});

describe('payload meta', () => {
  const packr = new Packr({ useRecords: false, moreTypes: true });
  const base = { url: 'http://127.0.0.1:8080/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=1704067200000&endTime=1704127199999&limit=1000', key: 'binance/klines/BTCUSDT/1m/1704067200000', fetchedAt: 1_763_781_234_567, serverTime: 1_763_781_234_601.25, httpStatus: 200 };
  const cases = [
    base,
    { ...base, url: 'http://h/x', key: 'k', fetchedAt: 0, serverTime: 127, httpStatus: 128 },
    { ...base, url: `http://h/${'u'.repeat(300)}`, key: `${'k'.repeat(31)}`, serverTime: 65_535, httpStatus: 65_536 },
    { ...base, url: `http://h/${'é'.repeat(40_000)}`, key: `${'k'.repeat(32)}`, serverTime: -1, httpStatus: 4_294_967_295 },
    { ...base, fetchedAt: 4_294_967_296, serverTime: 0.5, httpStatus: 255 },
    { ...base, fetchedAt: -33, serverTime: -129, httpStatus: -32_769 },
    { ...base, fetchedAt: -2_147_483_648, serverTime: -2_147_483_649, httpStatus: -32 },
  ];
  it('is written byte for byte as msgpackr writes it, and read back by decodeRawPayload', () => {
    for (const meta of cases) {
      expect(packMeta(meta)).toEqual(Buffer.from(packr.pack(meta)));
      const { bytes } = encodePayload(meta, [Buffer.from('[]')], 2);
      expect(decodeRawPayload(bytes)).toEqual({ meta, body: new Uint8Array(Buffer.from('[]')) });
    }
  });
});

