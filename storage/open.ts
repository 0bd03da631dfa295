// The one place that decides where data is kept: everything else gets its
// Storage (storage/port.ts) from openStorage and never sees LMDB. A second
// store is chosen here, not in actors/ or src/.
import { existsSync } from 'node:fs';
import { CkError } from '../src/errors.js';
import { STORE_FILE, storePath } from './lmdb/environment.js';
import { LmdbStorage } from './lmdb/lmdb-storage.js';
import type { OpenStorageOptions, Storage } from './port.js';

export function openStorage(dataRoot: string, options: OpenStorageOptions = {}): Storage {
  if ((options.readOnly || options.existing) && !existsSync(storePath(dataRoot))) {
    throw new CkError('CK_ERR_NO_DATA', `${dataRoot} holds no candlekeep data (${STORE_FILE} is missing)`);
  }
  return LmdbStorage.open(dataRoot, options);
}
