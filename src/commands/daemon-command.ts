// Shared by `run` and `backfill`: load the config, then run the daemon.
import type { Command } from '../cli/command.js';
import { loadConfig } from '../config/load-config.js';
import { CkError } from '../errors.js';
import { runDaemon, type DaemonMode } from '../daemon.js';

export function daemonCommand(mode: DaemonMode, summary: string): Command {
  return {
    name: mode,
    summary,
    options: {},
    help: {},
    async run({ flags, storageFaults }) {
      if (typeof flags.config !== 'string') throw new CkError('CK_ERR_USAGE', '--config <file> is required (e.g. --config symbols.json)');
      const config = loadConfig(flags.config, { dataRootFlag: typeof flags['data-root'] === 'string' ? flags['data-root'] : undefined });
      const { exitCode } = await runDaemon(config, { mode, storageFaults });
      return exitCode;
    },
  };
}
