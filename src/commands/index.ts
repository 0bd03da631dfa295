// Every subcommand, in the order `--help` lists them.
import type { Command } from '../cli/command.js';
import { backfill } from './backfill.js';
import { exportCommand } from './export.js';
import { rebuildManifest } from './rebuild-manifest.js';
import { run } from './run.js';
import { status } from './status.js';
import { verify } from './verify.js';

export const COMMANDS: readonly Command[] = [run, backfill, status, verify, rebuildManifest, exportCommand];
