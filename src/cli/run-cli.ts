// Parses argv, picks the subcommand (`run` by default) and turns errors into
// one line and an exit code: 2 for the user's mistakes, 1 for the rest.
import { parseArgs } from 'node:util';
import type { StorageFaults } from '../../storage/port.js';
import { CkError, ERRORS, isErrorCode } from '../errors.js';
import { closest } from '../closest.js';
import { version } from '../version.js';
import { COMMANDS } from '../commands/index.js';
import { GLOBAL_HELP, GLOBAL_OPTIONS, type Command } from './command.js';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const defaultIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** What a test entry point (test/support/) injects; production passes nothing. */
export interface CliHooks {
  storageFaults?: StorageFaults;
}

export async function runCli(argv: readonly string[], io: CliIo = defaultIo, hooks: CliHooks = {}): Promise<number> {
  try {
    return await dispatch(argv, io, hooks);
  } catch (err) {
    return report(err, io);
  }
}

async function dispatch(argv: readonly string[], io: CliIo, hooks: CliHooks): Promise<number> {
  const first = argv[0];
  let command = COMMANDS.find((c) => c.name === 'run')!;
  let rest = argv;
  if (first !== undefined && !first.startsWith('-')) {
    const found = COMMANDS.find((c) => c.name === first);
    if (!found) {
      const hint = closest(first, COMMANDS.map((c) => c.name));
      throw new CkError('CK_ERR_USAGE', `unknown subcommand ${JSON.stringify(first)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}; use one of ${COMMANDS.map((c) => c.name).join(', ')}`);
    }
    command = found;
    rest = argv.slice(1);
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...rest], options: { ...GLOBAL_OPTIONS, ...command.options }, strict: true, allowPositionals: false }) as { values: Record<string, string | boolean | undefined> });
  } catch (cause) {
    throw new CkError('CK_ERR_USAGE', `${(cause as Error).message.split('\n')[0]!.replace(/\. To specify.*$/, '')} (see \`candlekeep ${command.name} --help\`)`, { cause });
  }
  if (values.version) {
    io.out(version());
    return 0;
  }
  if (values.help) {
    io.out(first === command.name ? commandHelp(command) : overallHelp());
    return 0;
  }
  return command.run({ flags: values, out: io.out, storageFaults: hooks.storageFaults });
}

function report(err: unknown, io: CliIo): number {
  const e = err as { code?: unknown; message?: unknown; stack?: unknown };
  if (e && isErrorCode(e.code)) {
    for (const line of String(e.message).split('\n')) io.err(`candlekeep: ${line} [${e.code}]`);
    return ERRORS[e.code].exit;
  }
  io.err(`candlekeep: internal error [CK_ERR_INTERNAL]: ${String(e?.stack ?? err)}`);
  return 1;
}

function table(rows: Record<string, string>): string[] {
  const width = Math.max(0, ...Object.keys(rows).map((k) => k.length));
  return Object.entries(rows).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
}

export function overallHelp(): string {
  return [
    'candlekeep: keeps complete, verified local copies of exchange market data',
    '',
    'usage: candlekeep [subcommand] --config <file> [flags]',
    '',
    'subcommands (run is the default):',
    ...table(Object.fromEntries(COMMANDS.map((c) => [c.name, c.summary]))),
    '',
    'flags:',
    ...table(GLOBAL_HELP),
    '',
    'exit codes: 0 success, 1 failure, 2 a mistake in the command line or config',
  ].join('\n');
}

export function commandHelp(c: Command): string {
  return [
    `usage: candlekeep ${c.name} --config <file> [flags]`,
    '',
    c.summary,
    '',
    'flags:',
    ...table({ ...c.help, ...GLOBAL_HELP }),
  ].join('\n');
}
