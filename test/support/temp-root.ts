// vitest global set-up: every data root, config and export a test makes goes
// under one directory for the run (CK_TMP_ROOT, read by tempDir in the
// daemon harness), removed when the run ends, so repeated runs do not fill
// the disk with LMDB files. CK_KEEP_TMP=1 keeps it to look at after a failure.
// Daemons a test left running (vitest kills its workers, so their exit
// handlers never run) are killed first: each leaves its pid there.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running daemon's marker in CK_TMP_ROOT: this prefix and its pid (test/support/daemon-harness.ts). */
export const DAEMON_PID_PREFIX = 'daemon-pid-';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'ck-test-run-'));
  process.env.CK_TMP_ROOT = root;
  return () => {
    for (const f of readdirSync(root).filter((n) => n.startsWith(DAEMON_PID_PREFIX))) {
      try {
        process.kill(Number(f.slice(DAEMON_PID_PREFIX.length)), 'SIGKILL');
        process.stderr.write(`killed a daemon a test left running (pid ${f.slice(DAEMON_PID_PREFIX.length)})\n`);
      } catch {
        // already gone
      }
    }
    if (process.env.CK_KEEP_TMP) process.stderr.write(`test data kept in ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
  };
}
