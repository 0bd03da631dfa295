// rebuild-manifest: drop slice records and summaries, derive them again from
// the payloads alone. Refuses while a daemon holds the data root.
import type { Command } from '../cli/command.js';
import { DEFAULT_SETTLE_MS } from '../config/schema.js';
import { lockDataRoot } from '../data-root-lock.js';
import { rebuildManifest as rebuild } from '../../storage/rebuild.js';
import { chooseDataRoot, withStore } from './data-root.js';

export const rebuildManifest: Command = {
  name: 'rebuild-manifest',
  summary: 'drop the manifest and rebuild it from the stored payloads alone',
  options: {},
  help: {},
  async run({ flags, out }) {
    const { dataRoot, config } = chooseDataRoot(flags);
    const lock = lockDataRoot(dataRoot); // CK_ERR_DATA_ROOT_LOCKED while a daemon runs
    try {
      const grids = new Map((config?.streams ?? []).map((s) => [s.name, { anchorMs: s.anchorMs, limit: s.limit }]));
      const report = await withStore(dataRoot, (store) => rebuild(store, config?.fetcher.settleMs ?? DEFAULT_SETTLE_MS, grids), false);
      for (const s of report.skipped) out(`skipped payload ${s.id}: ${s.problem}`);
      for (const d of report.dropped) out(`dropped payload ${d.id} of ${d.key}: ${d.problem}; the slice is pending and the next run fetches it again`);
      out(`rebuilt ${report.slices} slices of ${report.streams} streams from their payloads${report.skipped.length ? `; ${report.skipped.length} payloads skipped` : ''}${report.dropped.length ? `; ${report.dropped.length} payloads dropped` : ''}`);
      return 0;
    } finally {
      lock.release();
    }
  },
};
