// export: one stream's closed candles to a file (csv, ndjson, parquet) or
// to the old system's inspectable json tree. Gaps in the exported range are
// reported, or filled with flat zero-volume candles marked synthetic.
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CkError } from '../../src/errors.js';
import { addIntervals } from '../../src/intervals.js';
import { VENUES } from '../../src/venues/index.js';
import type { RowModel } from '../../src/venues/venue.js';
import type { Storage } from '../port.js';
import { bodyText } from '../../src/payload.js';
import { klinesToCsv } from '../../src/venues/binance/kline-scan.js';
import { knownEmptyRanges, rawSlices, type GapRange, type KlineRow, type StoredStreamInfo } from '../stream-reader.js';
import { openSink, type ExportFormat } from './sinks.js';

export type GapMode = 'report' | 'ffill';

export interface ExportOptions {
  format: ExportFormat;
  fromMs: number;
  toMs: number;
  header: boolean;
  gaps: GapMode;
  /** Called every 65,536 rows with rows written so far and rows stored. */
  progress?: (rows: number, total: number) => void;
}

export interface ExportResult {
  path: string;
  rows: number;
  synthetic: number;
  /** Missing candles between exported ones; `known` when the exchange had none (recorded known-empty range). */
  gaps: Array<GapRange & { candles: number; known: boolean }>;
}

export async function exportStream(store: Storage, s: StoredStreamInfo, path: string, o: ExportOptions): Promise<ExportResult> {
  if (o.format === 'json-tree') return exportJsonTree(store, s, path, o);
  const model = VENUES[s.ref.venue]?.endpoints[s.ref.endpoint]?.rows;
  if (model?.table) return exportTable(store, s, path, o, model, model.table);
  const sink = await openSink(o.format, path, { synthetic: o.gaps === 'ffill', header: o.header });
  const known = knownEmptyRanges(store, s.ref);
  const result: ExportResult = { path, rows: 0, synthetic: 0, gaps: [] };
  const interval = s.ref.interval;
  let prev: KlineRow | null = null;
  let prevOpen: number | null = null;
  let reported = 0;
  const gapTo = (open: number) => {
    if (prevOpen === null) return;
    const expected = addIntervals(prevOpen, interval, 1);
    if (open <= expected) return;
    let candles = 0;
    for (let t = expected; t < open; t = addIntervals(t, interval, 1)) {
      candles++;
      if (o.gaps === 'ffill' && prev) {
        sink.write(flat(prev, t, addIntervals(t, interval, 1) - 1), true);
        result.synthetic++;
      }
    }
    result.gaps.push({ fromMs: expected, toMs: open, candles, known: known.some((g) => g.fromMs <= expected && g.toMs >= open) });
  };
  try {
    for (const { record, payload } of rawSlices(store, s.ref, o.fromMs)) {
      if (record.startMs >= o.toMs) break;
      // Fast path: a whole final slice with no gap inside, written from the body's text (CSV only).
      const whole = record.status === 'ok' && record.gaps.length === 0 && record.rows > 0 && record.startMs >= o.fromMs && record.endMs < o.toMs;
      if (whole && o.format === 'csv' && o.gaps === 'report' && sink.writeRaw) {
        const csv = klinesToCsv(payload);
        if (csv) {
          gapTo(record.firstOpen!);
          sink.writeRaw(csv);
          result.rows += record.rows;
          prevOpen = record.lastOpen;
          if (result.rows - reported >= 0x10000) {
            reported = result.rows;
            o.progress?.(result.rows, s.summary.rows);
          }
          continue;
        }
      }
      const rows = JSON.parse(bodyText(payload.body)) as KlineRow[];
      for (const row of rows) {
        if (row[0] < o.fromMs || row[0] >= o.toMs || row[6] >= payload.meta.serverTime) continue;
        gapTo(row[0]);
        sink.write(row, false);
        prev = row;
        prevOpen = row[0];
        result.rows++;
      }
      if (result.rows - reported >= 0x10000) {
        reported = result.rows;
        o.progress?.(result.rows, s.summary.rows);
      }
    }
  } finally {
    sink.close();
  }
  o.progress?.(result.rows, s.summary.rows);
  return result;
}

/** A candle with no trades: OHLC at the previous close, zero volumes in the same decimals. */
function flat(prev: KlineRow, open: number, close: number): KlineRow {
  const c = prev[4];
  return [open, c, c, c, c, zeroLike(prev[5]), close, zeroLike(prev[7]), 0, zeroLike(prev[9]), zeroLike(prev[10]), '0'];
}

function zeroLike(s: string): string {
  const dot = s.indexOf('.');
  return dot < 0 ? '0' : `0.${'0'.repeat(s.length - dot - 1)}`;
}

/**
 * Rows that are not Binance klines (funding events, OKX candles) to CSV (the
 * model's columns, values as stored) or NDJSON (one object per row, the
 * columns as fields): final rows only, oldest first, a slice at a time. No
 * gap report.
 */
function exportTable(store: Storage, s: StoredStreamInfo, path: string, o: ExportOptions, model: RowModel, table: NonNullable<RowModel['table']>): ExportResult {
  if (o.format !== 'csv' && o.format !== 'ndjson') throw new CkError('CK_ERR_USAGE', `${s.name}: --format ${o.format} is for Binance klines; ${s.ref.venue} ${s.ref.endpoint} exports to csv, ndjson or json-tree`);
  const { columns } = table;
  const fd = openSync(path, 'w');
  let rows = 0;
  try {
    if (o.format === 'csv' && o.header) writeSync(fd, `${columns.join(',')}\n`);
    for (const { record, payload } of rawSlices(store, s.ref, o.fromMs)) {
      if (record.startMs >= o.toMs) break;
      const lines: string[] = [];
      for (const row of model.rowsOf(JSON.parse(bodyText(payload.body)))) {
        const t = model.time(row);
        if (t < o.fromMs || t >= o.toMs || !model.finalAt(row, payload.meta.serverTime)) continue;
        const cells = table.cells(row);
        lines.push(o.format === 'csv' ? `${cells.join(',')}\n` : `${JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, cells[i]])))}\n`);
      }
      // One write per slice: memory stays at one slice's rows.
      if (lines.length > 0) writeSync(fd, lines.join(''));
      rows += lines.length;
      o.progress?.(rows, s.summary.rows);
    }
  } finally {
    closeSync(fd);
  }
  return { path, rows, synthetic: 0, gaps: [] };
}

/**
 * `<root>/<venue>/<endpoint>/raw/<SYMBOL>/<interval>/manifest.json` and
 * `responses/<slice id>.json` holding `{ meta, data }` for each slice in range.
 */
function exportJsonTree(store: Storage, s: StoredStreamInfo, root: string, o: ExportOptions): ExportResult {
  const { venue, endpoint, symbol, interval } = s.ref;
  const dir = join(root, venue, endpoint, 'raw', symbol, interval);
  mkdirSync(join(dir, 'responses'), { recursive: true });
  const slices: unknown[] = [];
  let rows = 0;
  for (const { record, payload } of rawSlices(store, s.ref, o.fromMs)) {
    if (record.startMs >= o.toMs) break;
    // The body is JSON exactly as the exchange sent it: it goes in as `data` unparsed.
    writeFileSync(join(dir, 'responses', `${record.id}.json`), `{"meta":${JSON.stringify(payload.meta)},"data":${bodyText(payload.body)}}`);
    const { status, key, id, startMs, endMs, limit, rows: n, firstOpen, lastOpen, lastClosedClose, gaps, anomalies, fetchedAt, payloadHash } = record;
    slices.push({ status, key, id, startMs, endMs, limit, rows: n, firstOpen, lastOpen, lastClosedClose, gaps, anomalies, fetchedAt, payloadHash, url: payload.meta.url, response: `responses/${id}.json` });
    rows += n;
    o.progress?.(rows, s.summary.rows);
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ stream: s.name, summary: s.summary, slices }, null, 2));
  return { path: dir, rows, synthetic: 0, gaps: [] };
}
