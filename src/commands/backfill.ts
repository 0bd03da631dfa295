import { daemonCommand } from './daemon-command.js';

export const backfill = daemonCommand('backfill', 'fetch every stream up to now, then exit: 0 when all are complete, 1 if any failed');
