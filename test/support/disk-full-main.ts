// Test entry point: the candlekeep CLI with a full disk simulated at the
// storage layer (this machine cannot mount a small filesystem). While the
// file named by CANDLEKEEP_TEST_ENOSPC exists, every storage write fails as
// a full disk would. Production code never reads this variable: the fault
// reaches the store as an injected hook (runCli -> runDaemon -> openStorage).
import { existsSync } from 'node:fs';
import { runCli } from '../../src/cli/run-cli.js';

const flag = process.env.CANDLEKEEP_TEST_ENOSPC;

process.exitCode = await runCli(process.argv.slice(2), undefined, {
  storageFaults: {
    beforeWrite() {
      if (flag && existsSync(flag)) throw Object.assign(new Error('no space left on device (simulated)'), { code: 'ENOSPC' });
    },
  },
});
