import { notYet } from './not-yet.js';

export const exportCommand = notYet('export', 'write stored candles as csv, ndjson, parquet or a json tree', {
  stream: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
  format: { type: 'string' }, out: { type: 'string' }, header: { type: 'boolean' }, gaps: { type: 'string' },
}, {
  '--stream <venue:endpoint:SYMBOL:interval>': 'the stream (globs allowed)',
  '--from <time>, --to <time>': 'bounds (ISO date or ms)',
  '--format csv|ndjson|parquet|json-tree': 'output format',
  '--out <path>': 'output file or directory',
  '--header': 'csv header row',
  '--gaps report|ffill': 'how gaps are written',
});
