// Opens the one LMDB environment under the data root and its named
// databases. Only storage/lmdb/ imports lmdb; the rest of candlekeep sees
// the storage port (storage/port.ts).
// Sync settings stay at lmdb-js defaults: no noSync, noMetaSync, useWritemap
// or mapAsync, so `await put()` means committed and `flushed` means on disk.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { CkError } from '../../src/errors.js';
import type { SinkKey, SliceKey, StreamKey } from './keys.js';

export interface Environment {
  /** Null only when opened read-only before LMDB wrote its first pages (see MIN_STORE_BYTES). */
  root: RootDatabase | null;
  /** [venue, endpoint, symbol, interval, startMs] -> SliceRecord */
  slices: Database<unknown, SliceKey>;
  /** slice id -> msgpack bytes of { meta, rows } exactly as the fetcher encoded them */
  payloads: Database<Buffer, string>;
  /** [venue, endpoint, symbol, interval] -> StreamSummary */
  streams: Database<unknown, StreamKey>;
  /** [sink, venue, endpoint, symbol, interval] -> the sink's opaque offset */
  sinks: Database<string, SinkKey>;
  path: string;
}

export const STORE_FILE = 'candlekeep.lmdb';

/**
 * LMDB writes its two meta pages (4 KiB each at the smallest page size)
 * right after creating the file. A file shorter than that was cut off by a
 * kill between the two steps and holds nothing; lmdb-js crashes the process
 * (SIGSEGV) opening such a file read-only, so readers never hand it over.
 */
const MIN_STORE_BYTES = 8192;

/** Plain msgpack without shared record structures: data written with one structure setting and read with another decodes as garbage. */
const ENCODER = { useRecords: false, moreTypes: true };

export function storePath(dataRoot: string): string {
  return join(dataRoot, STORE_FILE);
}

export function openEnvironment(dataRoot: string, options: { readOnly?: boolean } = {}): Environment {
  const path = storePath(dataRoot);
  const readOnly = options.readOnly ?? false;
  try {
    if (!readOnly) mkdirSync(dataRoot, { recursive: true });
    if (readOnly && statSync(path).size < MIN_STORE_BYTES) return { root: null, ...absent(), path };
    const root = open({ path, maxDbs: 8, readOnly, sharedStructuresKey: undefined, encoder: ENCODER } as Parameters<typeof open>[0]) as RootDatabase;
    // Read-only, a database the writer never got to create (killed early) is absent: it reads as empty.
    const db = <V, K extends SliceKey | StreamKey | SinkKey | string>(name: string, o: object) => (root.openDB<V, K>({ name, ...o } as never) as Database<V, K> | undefined) ?? EMPTY;
    return {
      root,
      slices: db('slices', { encoder: ENCODER }),
      payloads: db('payloads', { encoding: 'binary' }),
      streams: db('streams', { encoder: ENCODER }),
      sinks: db('sinks', { encoding: 'string' }),
      path,
    };
  } catch (cause) {
    throw new CkError('CK_ERR_STORAGE', `cannot open LMDB at ${path}: ${(cause as Error).message}`, { cause });
  }
}

/**
 * A database that holds nothing, for reading a store whose databases do
 * not exist yet. Only the reads storage/lmdb/ uses; a read-only store never
 * writes.
 */
const EMPTY = {
  get: () => undefined,
  getRange: () => [],
  getKeys: () => [],
} as unknown as Database<never, never>;

function absent(): Omit<Environment, 'root' | 'path'> {
  return { slices: EMPTY, payloads: EMPTY, streams: EMPTY, sinks: EMPTY };
}
