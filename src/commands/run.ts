import { daemonCommand } from './daemon-command.js';

export const run = daemonCommand('run', 'backfill every stream, then follow each one forever (the default)');
