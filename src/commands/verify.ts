// verify: reads every record and payload and checks the invariants; exit 0
// when clean, 1 with each finding and its slice key otherwise.
import type { Command } from '../cli/command.js';
import { CkError } from '../errors.js';
import { verifyStore } from '../../storage/verify.js';
import { chooseDataRoot, withStore } from './data-root.js';

export const verify: Command = {
  name: 'verify',
  summary: 'check every slice, payload and summary; exit 1 when anything is wrong',
  options: { json: { type: 'boolean' } },
  help: { '--json': 'machine-readable report: { streams, slices, rows, findings: [{ kind, sliceKey, problem }] }' },
  async run({ flags, out }) {
    const { dataRoot } = chooseDataRoot(flags);
    const report = await withStore(dataRoot, (store) => verifyStore(store));
    if (flags.json) out(JSON.stringify(report, null, 2));
    else {
      for (const f of report.findings) out(`${f.kind}\t${f.sliceKey}\t${f.problem}`);
      out(`${report.streams} streams, ${report.slices} slices, ${report.rows} rows checked: ${report.findings.length === 0 ? 'clean' : `${report.findings.length} findings`}`);
    }
    if (report.findings.length > 0) {
      const corrupt = report.findings.filter((f) => f.kind === 'corrupt').length;
      throw new CkError('CK_ERR_VERIFY_FAILED', `${corrupt} corrupt, ${report.findings.length - corrupt} gaps in ${dataRoot}`);
    }
    return 0;
  },
};
