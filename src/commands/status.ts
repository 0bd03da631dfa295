// status: one row per stored stream: range, slices by status, completeness,
// known-empty ranges, first and last candle, lag.
import type { Command } from '../cli/command.js';
import { progress } from '../progress.js';
import type { StreamGeometry } from '../slices.js';
import { knownEmptyRanges, listStreams, type StoredStreamInfo } from '../../storage/stream-reader.js';
import type { Storage } from '../../storage/port.js';
import type { Config } from '../config/load-config.js';
import { DEFAULT_SETTLE_MS } from '../config/schema.js';
import { chooseDataRoot, iso, parseTime, withStore } from './data-root.js';

export interface StreamStatus {
  stream: string;
  from: string;
  to: string | null;
  slices: { ok: number; partial: number; failed: number; pending: number; expected: number };
  completeness: number;
  rows: number;
  knownEmpty: Array<{ from: string; to: string }>;
  firstCandle: string | null;
  /** Close of the last closed candle stored (its exclusive end). */
  lastClosedCandle: string | null;
  lagSeconds: number | null;
  configured: boolean;
}

export function streamStatus(store: Storage, s: StoredStreamInfo, config: Config | null, now: number): StreamStatus {
  const spec = config?.streams.find((c) => c.name === s.name);
  const g: StreamGeometry = spec ?? { ...s.ref, anchorMs: s.summary.anchorMs, endMs: null, limit: s.summary.limit };
  const p = progress(g, s.summary, now, config?.fetcher.settleMs ?? DEFAULT_SETTLE_MS);
  const { ok, partial, failed } = s.summary.counts;
  const last = s.summary.lastClosedClose;
  return {
    stream: s.name,
    from: iso(g.anchorMs),
    to: g.endMs === null ? null : iso(g.endMs),
    slices: { ok, partial, failed, pending: p.pending, expected: Math.max(p.expected, s.summary.total) },
    completeness: p.completeness,
    rows: s.summary.rows,
    knownEmpty: knownEmptyRanges(store, s.ref).map((r) => ({ from: iso(r.fromMs), to: iso(r.toMs) })),
    firstCandle: s.summary.firstOpen === null ? null : iso(s.summary.firstOpen),
    lastClosedCandle: last === null ? null : iso(last + 1),
    lagSeconds: p.lagSeconds === null ? null : Math.round(p.lagSeconds),
    configured: spec !== undefined,
  };
}

export const status: Command = {
  name: 'status',
  summary: 'one row per stream: slices by status, completeness, gaps, lag',
  options: { json: { type: 'boolean' }, now: { type: 'string' } },
  help: { '--json': 'machine-readable output (an array of stream objects)', '--now <time>': 'count pending slices and lag as of this time (ISO 8601 or ms; default: the clock)' },
  async run({ flags, out }) {
    const { dataRoot, config } = chooseDataRoot(flags);
    const now = flags.now === undefined ? Date.now() : parseTime(flags.now, 'now');
    const rows = await withStore(dataRoot, (store) => listStreams(store).map((s) => streamStatus(store, s, config, now)));
    if (flags.json) {
      out(JSON.stringify(rows, null, 2));
      return 0;
    }
    if (rows.length === 0) {
      out(`${dataRoot}: no streams stored yet`);
      return 0;
    }
    const table = [
      ['stream', 'range', 'ok', 'partial', 'failed', 'pending', 'complete', 'rows', 'first candle', 'last closed', 'lag', 'known-empty'],
      ...rows.map((r) => [
        r.stream, `${r.from}..${r.to ?? 'now'}`, String(r.slices.ok), String(r.slices.partial), String(r.slices.failed), String(r.slices.pending),
        `${(r.completeness * 100).toFixed(2)}%`, String(r.rows), r.firstCandle ?? '-', r.lastClosedCandle ?? '-',
        r.lagSeconds === null ? '-' : `${r.lagSeconds}s`, r.knownEmpty.length === 0 ? '-' : `${r.knownEmpty.length} (${r.knownEmpty.slice(0, 2).map((k) => `${k.from}..${k.to}`).join(', ')}${r.knownEmpty.length > 2 ? ', ...' : ''})`,
      ]),
    ];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table) out(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
    return 0;
  },
};
