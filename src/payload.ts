// How a fetched response is stored: the body exactly as the exchange sent it,
// after a small header with its URL key, fetch time and the exchange's time.
//
//   'CKP1' | u32 LE length of meta | msgpack(meta) | body bytes
//
// Built in the worker in ONE buffer (the body is copied once, straight from
// the socket's chunks), transferred to the main thread without a copy and
// written to LMDB as is. Readers parse the body only when they need rows.
import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import type { PayloadMeta } from './protocol.js';

const MAGIC = 0x31504b43; // 'CKP1' little-endian
const packr = new Packr({ useRecords: false, moreTypes: true });

export interface RawPayload {
  meta: PayloadMeta;
  /** The response body as received (a view into the payload bytes). */
  body: Uint8Array;
}

/** One buffer of its own (transferable) holding the header and the body's chunks; `body` views its tail. */
export function encodePayload(meta: PayloadMeta, chunks: readonly Uint8Array[], size: number): RawPayload & { bytes: Uint8Array } {
  const m = packr.pack(meta);
  // Its own ArrayBuffer (transferable), not zero-filled: every byte is written below.
  const bytes = Buffer.allocUnsafeSlow(8 + m.length + size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, m.length, true);
  bytes.set(m, 8);
  let at = 8 + m.length;
  const bodyStart = at;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return { meta, body: bytes.subarray(bodyStart), bytes };
}

export function decodeRawPayload(bytes: Uint8Array): RawPayload {
  if (bytes.length < 8) throw new Error('payload shorter than its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new Error('payload does not start with CKP1');
  const metaLength = view.getUint32(4, true);
  if (8 + metaLength > bytes.length) throw new Error('payload header longer than the payload');
  const meta = packr.unpack(bytes.subarray(8, 8 + metaLength)) as PayloadMeta;
  if (!meta || typeof meta !== 'object' || typeof meta.key !== 'string') throw new Error('payload meta is not { url, key, ... }');
  return { meta, body: bytes.subarray(8 + metaLength) };
}

export function bodyText(body: Uint8Array): string {
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
}

/** Checksum of a stored payload, kept in its slice record so `verify` sees bytes edited on disk. */
export function payloadHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32);
}
