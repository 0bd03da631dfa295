// export: stored candles to CSV, NDJSON, Parquet or the json tree.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../cli/command.js';
import { closest } from '../closest.js';
import { CkError } from '../errors.js';
import { exportStream, type GapMode } from '../../storage/export/export.js';
import { FORMATS, type ExportFormat } from '../../storage/export/sinks.js';
import { listStreams, matchStreams } from '../../storage/stream-reader.js';
import { chooseDataRoot, iso, parseTime, withStore } from './data-root.js';

const EXTENSION: Record<ExportFormat, string> = { csv: 'csv', ndjson: 'ndjson', parquet: 'parquet', 'json-tree': '' };

export const exportCommand: Command = {
  name: 'export',
  summary: 'write stored candles as csv, ndjson, parquet or a json tree',
  options: {
    stream: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    header: { type: 'boolean' },
    gaps: { type: 'string' },
  },
  help: {
    '--stream <name|glob>': 'venue:endpoint:SYMBOL:interval, or a glob such as binance:klines:*:1m (one file per stream)',
    '--from <time>': 'first open time to include (ISO 8601 or ms; default: the beginning)',
    '--to <time>': 'open times before this (ISO 8601 or ms; default: everything stored)',
    '--format <fmt>': 'csv | ndjson | parquet | json-tree',
    '--out <path>': 'a file, or a directory when the glob matches several streams (and for json-tree)',
    '--header': 'csv: a header line first',
    '--gaps <mode>': 'report (default: list missing candles on stderr) | ffill (flat zero-volume candles, `synthetic` column)',
  },
  async run({ flags, out }) {
    const pattern = required(flags, 'stream', 'binance:klines:BTCUSDT:1m');
    const format = required(flags, 'format', FORMATS.join('|'));
    if (!(FORMATS as readonly string[]).includes(format)) throw new CkError('CK_ERR_USAGE', `--format ${format}: use one of ${FORMATS.join(', ')}`);
    const outPath = required(flags, 'out', 'PATH');
    const gaps = (flags.gaps ?? 'report') as string;
    if (gaps !== 'report' && gaps !== 'ffill') throw new CkError('CK_ERR_USAGE', `--gaps ${gaps}: use report or ffill`);
    const fromMs = flags.from === undefined ? -Infinity : parseTime(flags.from, 'from');
    const toMs = flags.to === undefined ? Infinity : parseTime(flags.to, 'to');
    const { dataRoot } = chooseDataRoot(flags);
    const tty = process.stderr.isTTY;
    return withStore(dataRoot, async (store) => {
      const all = listStreams(store);
      const streams = matchStreams(all, pattern);
      if (streams.length === 0) {
        const hint = closest(pattern, all.map((s) => s.name), 6);
        throw new CkError('CK_ERR_STREAM_NOT_FOUND', `no stored stream matches ${pattern}${hint ? ` (did you mean ${hint}?)` : ''}; stored: ${all.length === 0 ? 'none' : all.slice(0, 5).map((s) => s.name).join(', ')}${all.length > 5 ? ', ...' : ''}`);
      }
      const many = streams.length > 1 || pattern.includes('*') || format === 'json-tree' || (existsSync(outPath) && statSync(outPath).isDirectory());
      if (many) mkdirSync(outPath, { recursive: true });
      for (const s of streams) {
        const path = many && format !== 'json-tree' ? join(outPath, `${s.name.replaceAll(':', '_')}.${EXTENSION[format as ExportFormat]}`) : outPath;
        let shown = 0;
        const r = await exportStream(store, s, path, {
          format: format as ExportFormat, fromMs, toMs, header: flags.header === true, gaps: gaps as GapMode,
          progress: tty ? (rows, total) => {
            if (Date.now() - shown < 200) return;
            shown = Date.now();
            const pct = total > 0 ? Math.min(100, (rows / total) * 100) : 100;
            process.stderr.write(`\r${s.name} [${'#'.repeat(Math.round(pct / 5)).padEnd(20)}] ${pct.toFixed(0)}% ${rows} rows`);
          } : undefined,
        });
        if (tty) process.stderr.write('\r\x1b[K');
        out(`${s.name}: ${r.rows} rows${r.synthetic ? ` + ${r.synthetic} synthetic` : ''} -> ${r.path}`);
        for (const g of r.gaps.slice(0, 20)) {
          process.stderr.write(`${s.name}: gap ${iso(g.fromMs)}..${iso(g.toMs)} (${g.candles} candles, ${g.known ? 'exchange had none' : 'not stored'})${gaps === 'ffill' ? ' filled' : ''}\n`);
        }
        if (r.gaps.length > 20) process.stderr.write(`${s.name}: ... ${r.gaps.length - 20} more gaps\n`);
      }
      return 0;
    });
  },
};

function required(flags: Record<string, unknown>, name: string, example: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v === '') throw new CkError('CK_ERR_USAGE', `export needs --${name} <${example}>`);
  return v;
}
