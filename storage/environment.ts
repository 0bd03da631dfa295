// Opens the one LMDB environment under the data root. Only the manifest
// writer (and read-only tools) call this; fetchers never import storage/.
// Sync settings stay at lmdb-js defaults: no noSync, noMetaSync, useWritemap
// or mapAsync, so `await put()` means committed and `flushed` means on disk.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { CkError } from '../src/errors.js';
import type { SliceKey, StreamKey } from './keys.js';

export interface Store {
  root: RootDatabase;
  /** [venue, endpoint, symbol, interval, startMs] -> SliceRecord */
  slices: Database<unknown, SliceKey>;
  /** slice id -> msgpack bytes of { meta, rows } exactly as the fetcher encoded them */
  payloads: Database<Buffer, string>;
  /** [venue, endpoint, symbol, interval] -> StreamSummary */
  streams: Database<unknown, StreamKey>;
  path: string;
}

export const STORE_FILE = 'candlekeep.lmdb';

export function openStore(dataRoot: string, options: { readOnly?: boolean } = {}): Store {
  const path = join(dataRoot, STORE_FILE);
  try {
    if (!options.readOnly) mkdirSync(dataRoot, { recursive: true });
    const root = open({
      path,
      maxDbs: 8,
      readOnly: options.readOnly ?? false,
      // Plain msgpack without shared record structures: data written with one
      // structure setting and read with another decodes as garbage.
      sharedStructuresKey: undefined,
      encoder: { useRecords: false, moreTypes: true },
    } as Parameters<typeof open>[0]) as RootDatabase;
    const slices = root.openDB<unknown, SliceKey>({ name: 'slices', encoder: { useRecords: false, moreTypes: true } } as never);
    const payloads = root.openDB<Buffer, string>({ name: 'payloads', encoding: 'binary' });
    const streams = root.openDB<unknown, StreamKey>({ name: 'streams', encoder: { useRecords: false, moreTypes: true } } as never);
    return { root, slices, payloads, streams, path };
  } catch (cause) {
    throw new CkError('CK_ERR_STORAGE', `cannot open LMDB at ${path}: ${(cause as Error).message}`, { cause });
  }
}
