// The data-out commands work on a data root, with or without a config and
// whether or not a daemon is running on it (LMDB readers do not block).
import { resolve } from 'node:path';
import type { FlagValues } from '../cli/command.js';
import { defaultDataRoot, loadConfig, type Config } from '../config/load-config.js';
import { CkError } from '../errors.js';
import { openStorage } from '../../storage/open.js';
import type { Storage } from '../../storage/port.js';

export interface DataRootChoice {
  dataRoot: string;
  config: Config | null;
}

/** --data-root, else the config's data root, else CANDLEKEEP_DATA_ROOT, else ~/.candlekeep. */
export function chooseDataRoot(flags: FlagValues): DataRootChoice {
  const flag = typeof flags['data-root'] === 'string' ? flags['data-root'] : undefined;
  if (typeof flags.config === 'string') {
    const config = loadConfig(flags.config, { dataRootFlag: flag });
    return { dataRoot: config.dataRoot, config };
  }
  return { dataRoot: flag === undefined ? defaultDataRoot() : resolve(flag), config: null };
}

/** The store of a data root that must already hold one (CK_ERR_NO_DATA otherwise). */
export function openExisting(dataRoot: string, readOnly = true): Storage {
  try {
    return openStorage(dataRoot, { readOnly, existing: true });
  } catch (err) {
    if ((err as CkError).code === 'CK_ERR_NO_DATA') throw new CkError('CK_ERR_NO_DATA', `${(err as Error).message}; pass --config or --data-root`);
    throw err;
  }
}

export async function withStore<T>(dataRoot: string, fn: (store: Storage) => T | Promise<T>, readOnly = true): Promise<T> {
  const store = openExisting(dataRoot, readOnly);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(':00.000Z', 'Z').replace('.000Z', 'Z');
}

/** A time flag: ISO 8601 or milliseconds since the epoch. */
export function parseTime(v: unknown, name: string): number {
  const s = String(v);
  const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(ms)) throw new CkError('CK_ERR_USAGE', `--${name} ${s}: not a time (use ISO 8601 such as 2024-02-01 or milliseconds)`);
  return ms;
}
