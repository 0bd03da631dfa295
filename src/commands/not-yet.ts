// A subcommand whose issue has not landed yet says so and exits 2.
import { CkError } from '../errors.js';
import type { Command } from '../cli/command.js';

export function notYet(name: string, summary: string, options: Command['options'] = {}, help: Command['help'] = {}): Command {
  return {
    name,
    summary,
    options,
    help,
    run: () => Promise.reject(new CkError('CK_ERR_NOT_IMPLEMENTED', `\`${name}\` is not built yet in this version`)),
  };
}
