// The checksum a slice record holds is the judge of its payload's bytes:
// every read of a payload through the port passes here, so damaged bytes
// are refused by code (CK_ERR_STORE_CORRUPT) instead of exported, counted
// or blessed with a fresh checksum. Storage-independent.
import { CkError } from '../src/errors.js';
import { payloadMatches } from '../src/payload.js';
import type { SliceRecord } from './records.js';

/** What is wrong with such a payload (verify's finding, the error's message). */
export const PAYLOAD_DAMAGED = 'payload bytes do not match the checksum recorded with the slice (damaged or edited on disk)';

/** How to get the slice back, for the user. */
export const PAYLOAD_REPAIR = '`verify` lists every damaged slice; stop the daemon and run `rebuild-manifest` to drop them, and the next run fetches them again';

/** Whether `bytes` are the payload `record` was committed with (a record without a checksum trusts its bytes). */
export function payloadIntact(record: Pick<SliceRecord, 'payloadHash'>, bytes: Uint8Array): boolean {
  return !record.payloadHash || payloadMatches(bytes, record.payloadHash);
}

/** `bytes` when they match `record`'s checksum; CK_ERR_STORE_CORRUPT naming the stream and the slice otherwise. */
export function checkedPayload(record: SliceRecord, bytes: Uint8Array): Uint8Array {
  if (payloadIntact(record, bytes)) return bytes;
  const stream = record.key.split(':').slice(0, 4).join(':');
  throw new CkError('CK_ERR_STORE_CORRUPT', `stream ${stream}, slice ${record.key}: ${PAYLOAD_DAMAGED}; nothing of it was used. ${PAYLOAD_REPAIR}`);
}
