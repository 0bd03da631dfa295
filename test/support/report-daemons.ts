// vitest set-up file: a test that fails (a timeout too) while a daemon it
// spawned is still running prints that daemon's last log lines, so a hang
// says where the daemon was instead of only that the test ran out of time.
import { beforeEach } from 'vitest';
import { runningDaemons } from './daemon-registry.js';

const LINES = 15;

beforeEach((ctx) => {
  ctx.onTestFailed(() => {
    for (const d of runningDaemons) {
      const tail = d.output().trimEnd().split('\n').slice(-LINES).join('\n');
      process.stderr.write(`\n--- daemon still running when "${ctx.task.name}" failed (pid ${d.pid}, ${d.args.join(' ')}); its last ${LINES} lines:\n${tail}\n---\n`);
    }
  });
});
