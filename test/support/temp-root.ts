// vitest global set-up: every data root, config and export a test makes goes
// under one directory for the run (CK_TMP_ROOT, read by tempDir in the
// daemon harness), removed when the run ends, so repeated runs do not fill
// the disk with LMDB files. CK_KEEP_TMP=1 keeps it to look at after a failure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'ck-test-run-'));
  process.env.CK_TMP_ROOT = root;
  return () => {
    if (process.env.CK_KEEP_TMP) process.stderr.write(`test data kept in ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
  };
}
