// The shape of a subcommand. Each lives in its own file under src/commands/
// and is listed once in src/commands/index.ts.
import type { ParseArgsConfig } from 'node:util';
import type { StorageFaults } from '../../storage/port.js';

export type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

export type FlagValues = Record<string, string | boolean | undefined>;

export interface CommandContext {
  flags: FlagValues;
  /** Where output for the user goes (stdout unless a test captures it). */
  out: (line: string) => void;
  /** Storage faults a test entry point injects (the daemon's store); undefined in production. */
  storageFaults?: StorageFaults;
}

export interface Command {
  name: string;
  summary: string;
  /** Flags beyond the global ones, with their help text. */
  options: ParseArgsOptionsConfig;
  help: Record<string, string>;
  /** Resolves to the process exit code. */
  run(ctx: CommandContext): Promise<number>;
}

/** Flags every subcommand accepts. */
export const GLOBAL_OPTIONS: ParseArgsOptionsConfig = {
  config: { type: 'string', short: 'c' },
  'data-root': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
};

export const GLOBAL_HELP: Record<string, string> = {
  '--config, -c <file>': 'the config file (e.g. symbols.json); required by run, backfill, status, verify, rebuild-manifest, export',
  '--data-root <dir>': 'where data lives; overrides the config\'s dataRoot, CANDLEKEEP_DATA_ROOT and ~/.candlekeep',
  '--help, -h': 'show help (also `<subcommand> --help`)',
  '--version, -V': 'print the version',
};
