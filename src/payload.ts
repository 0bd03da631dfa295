// How a fetched response is stored: the body exactly as the exchange sent it
// (or packed losslessly), after a small header with its URL key, fetch time
// and the exchange's time.
//
//   'CKP1' | u32 LE length of meta | msgpack(meta) | body bytes
//   'CKP2' | u32 LE length of meta | msgpack(meta) | packed klines body
//
// CKP2: a Binance klines body the scanner accepted, packed to half (its
// length, then 4 bits a character; src/venues/binance/kline-scan.wat says
// how); decoding gives back the body byte for byte. Any other body is stored
// as received (CKP1).
//
// Built in the worker in ONE buffer, transferred to the main thread without a
// copy and written to LMDB as is. Readers parse the body only when they need rows.
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import type { PayloadMeta } from './protocol.js';
import { packedLengthMatches, unpackKlineBody } from './venues/binance/kline-scan.js';

const MAGIC = 0x31504b43; // 'CKP1' little-endian
const MAGIC_PACKED = 0x32504b43; // 'CKP2'
const packr = new Packr({ useRecords: false, moreTypes: true });

export interface RawPayload {
  meta: PayloadMeta;
  /** The response body as received (a view into the payload bytes; for CKP2, unpacked when first read). */
  readonly body: Uint8Array;
  /** CKP2: the packed body as stored (readers that can use it skip unpacking, e.g. CSV export). */
  packed?: Uint8Array;
}

/**
 * Buffers for large payloads, per thread. A payload's buffer is transferred
 * to the main thread and comes back with the commit's reply
 * (actors/manifest-writer.ts), so a backfill reuses a handful of 160 KB
 * buffers instead of faulting in a fresh one per response. Small payloads
 * (following the live candle: a few rows) are allocated as they come;
 * malloc serves them without page faults. Bounded: at most 64 buffers and
 * 32 MiB are kept.
 */
const spare: ArrayBuffer[] = [];
let spareBytes = 0;
const SPARE_MAX = 64;
const SPARE_MAX_BYTES = 32 * 1024 * 1024;
/** Payloads at least this large use pooled buffers. */
const POOLED = 64 * 1024;
/** Pooled buffers are rounded up to this, so bodies of similar size fit each other's buffers. */
const ROUND = 32 * 1024;

function takeBuffer(size: number): ArrayBuffer {
  if (size < POOLED) return Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer; // every byte is written by the caller
  for (let i = spare.length - 1; i >= 0; i--) {
    const b = spare[i]!;
    if (b.byteLength >= size && b.byteLength <= 2 * size) {
      spare[i] = spare[spare.length - 1]!;
      spare.pop();
      spareBytes -= b.byteLength;
      return b;
    }
  }
  return Buffer.allocUnsafeSlow(Math.ceil(size / ROUND) * ROUND).buffer as ArrayBuffer;
}

/** A payload buffer the main thread has finished with (it arrives detached from its old views). */
export function reusePayloadBuffer(b: ArrayBuffer): void {
  if (b.byteLength < POOLED || spare.length >= SPARE_MAX || spareBytes + b.byteLength > SPARE_MAX_BYTES) return;
  spare.push(b);
  spareBytes += b.byteLength;
}

/**
 * The meta's msgpack is written here (packMeta below), the same bytes
 * msgpackr writes (test/unit/payload-buffers.test.ts compares), so that
 * msgpackr's encoder never runs in a fetcher thread (optimising its `pack`
 * cost a worker about 50 CPU-ms per process). A map of five string keys;
 * strings by length; integers in 32 bits (unsigned, or signed when
 * negative) by size, any other number as float64.
 */
const META_KEYS = ['url', 'key', 'fetchedAt', 'serverTime', 'httpStatus'] as const;

/** A msgpack type byte and a big-endian length or value of `size` bytes (0: none; the value is in the type byte). */
function typed(out: Buffer, at: number, type: number, size: 0 | 1 | 2 | 4, n: number): number {
  out[at++] = type;
  if (size === 1) out[at] = n & 0xff;
  else if (size === 2) out.writeUInt16BE(n & 0xffff, at);
  else if (size === 4) out.writeUInt32BE(n >>> 0, at);
  return at + size;
}

function writeMetaValue(v: string | number, out: Buffer, at: number): number {
  if (typeof v === 'string') {
    const n = Buffer.byteLength(v);
    at = n < 32 ? typed(out, at, 0xa0 | n, 0, n) : n < 0x100 ? typed(out, at, 0xd9, 1, n) : n < 0x10000 ? typed(out, at, 0xda, 2, n) : typed(out, at, 0xdb, 4, n);
    return at + out.write(v, at, 'utf8');
  }
  if (Number.isInteger(v) && v >= 0 && v < 0x1_0000_0000) {
    return v < 0x80 ? typed(out, at, v, 0, v) : v < 0x100 ? typed(out, at, 0xcc, 1, v) : v < 0x10000 ? typed(out, at, 0xcd, 2, v) : typed(out, at, 0xce, 4, v);
  }
  if (Number.isInteger(v) && v < 0 && v >= -0x8000_0000) {
    return v >= -0x20 ? typed(out, at, v & 0xff, 0, v) : v >= -0x80 ? typed(out, at, 0xd0, 1, v) : v >= -0x8000 ? typed(out, at, 0xd1, 2, v) : typed(out, at, 0xd2, 4, v);
  }
  out[at++] = 0xcb;
  out.writeDoubleBE(v, at);
  return at + 8;
}

/** Where the meta is written first (per thread; grows for a longer URL). */
let metaScratch = Buffer.allocUnsafe(1024);

/** The meta's msgpack: a view of scratch space that the next call overwrites. */
export function packMeta(meta: PayloadMeta): Buffer {
  let bound = 3; // map16 header; then each key, and its value at its largest (str32 header, float64)
  for (const k of META_KEYS) {
    const v = meta[k];
    bound += 1 + k.length + (typeof v === 'string' ? 5 + Buffer.byteLength(v) : 9);
  }
  if (metaScratch.length < bound) metaScratch = Buffer.allocUnsafe(bound);
  const out = metaScratch;
  out[0] = 0xde; // map16, as msgpackr writes maps
  out.writeUInt16BE(META_KEYS.length, 1);
  let at = 3;
  for (const k of META_KEYS) {
    out[at++] = 0xa0 | k.length;
    at += out.write(k, at, 'latin1');
    at = writeMetaValue(meta[k], out, at);
  }
  return out.subarray(0, at);
}

/** A payload buffer with its header written; `at` is where the body goes. */
function payloadWith(magic: number, meta: PayloadMeta, bodySize: number): { out: Buffer; at: number } {
  const m = packMeta(meta);
  const total = 8 + m.length + bodySize;
  const out = Buffer.from(takeBuffer(total), 0, total);
  out.writeUInt32LE(magic, 0);
  out.writeUInt32LE(m.length, 4);
  out.set(m, 8);
  return { out, at: 8 + m.length };
}

/** One transferable buffer holding the header and the body's chunks; `bytes` views the payload, `body` its tail. */
export function encodePayload(meta: PayloadMeta, chunks: readonly Uint8Array[], size: number): RawPayload & { bytes: Uint8Array } {
  const { out, at: bodyStart } = payloadWith(MAGIC, meta, size);
  let at = bodyStart;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  const bytes = new Uint8Array(out.buffer, 0, out.length);
  return { meta, body: bytes.subarray(bodyStart), bytes };
}

/** One transferable buffer holding the header and a klines body the scanner packed (CKP2). */
export function encodePackedPayload(meta: PayloadMeta, packed: Uint8Array): Uint8Array {
  const { out, at } = payloadWith(MAGIC_PACKED, meta, packed.length);
  out.set(packed, at);
  return new Uint8Array(out.buffer, 0, out.length);
}

export function decodeRawPayload(bytes: Uint8Array): RawPayload {
  if (bytes.length < 8) throw new Error('payload shorter than its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  if (magic !== MAGIC && magic !== MAGIC_PACKED) throw new Error('payload does not start with CKP1 or CKP2');
  const metaLength = view.getUint32(4, true);
  if (8 + metaLength > bytes.length) throw new Error('payload header longer than the payload');
  const meta = packr.unpack(bytes.subarray(8, 8 + metaLength)) as PayloadMeta;
  if (!meta || typeof meta !== 'object' || typeof meta.key !== 'string') throw new Error('payload meta is not { url, key, ... }');
  const rest = bytes.subarray(8 + metaLength);
  if (magic === MAGIC) return { meta, body: rest };
  if (!packedLengthMatches(rest)) throw new Error('packed klines body is damaged');
  let body: Uint8Array | null = null;
  return {
    meta,
    packed: rest,
    get body() {
      return (body ??= unpackKlineBody(rest));
    },
  };
}

export function bodyText(body: Uint8Array): string {
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
}

/**
 * Checksum of a stored payload, kept in its slice record so `verify` sees
 * bytes edited or damaged on disk: `crc32:` and 8 hex digits (zlib's CRC-32,
 * about 2.5x cheaper than SHA-256 here; it guards against accidents, not
 * forgery).
 */
export function payloadHash(bytes: Uint8Array): string {
  return `crc32:${crc32(bytes).toString(16).padStart(8, '0')}`;
}

/** Whether `bytes` match a recorded checksum: `crc32:...`, or the 32 hex digits (truncated SHA-256) of stores written before. */
export function payloadMatches(bytes: Uint8Array, recorded: string): boolean {
  if (recorded.startsWith('crc32:')) return payloadHash(bytes) === recorded;
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32) === recorded;
}
