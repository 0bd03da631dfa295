// One daemon per data root: a lock file holding the owner's pid. A lock
// left by a process that no longer exists (kill -9) is taken over.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CkError } from './errors.js';

export const LOCK_FILE = 'daemon.lock';

export interface DataRootLock {
  release(): void;
}

export function lockDataRoot(dataRoot: string): DataRootLock {
  mkdirSync(dataRoot, { recursive: true });
  const path = join(dataRoot, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return { release: () => rmSync(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = lockOwner(dataRoot);
      if (owner !== null && owner !== process.pid && isAlive(owner)) {
        throw new CkError('CK_ERR_DATA_ROOT_LOCKED', `${dataRoot} is in use by candlekeep pid ${owner} (${path})`);
      }
      rmSync(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new CkError('CK_ERR_DATA_ROOT_LOCKED', `${dataRoot}: could not take ${path}`);
}

/** The pid holding the data root, or null when none does. */
export function lockOwner(dataRoot: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataRoot, LOCK_FILE), 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
