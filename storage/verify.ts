// verify: reads everything through the storage port and reports what is
// wrong, each finding with its slice key. On top of the invariants
// (storage/manifest-checks.ts, checksums included): record <-> stored
// position <-> URL key consistency, re-validation of
// every payload, the partition of each stream into slices, and spacing
// violations and gaps inside and between slices that no recorded
// known-empty range explains (the old system's "manifest validation").
import { addIntervals } from '../src/intervals.js';
import { parseSliceKey, sliceId, streamName, type StreamRef } from '../src/slices.js';
import { venueByName } from '../src/venues/index.js';
import { checkStream, type Finding } from './manifest-checks.js';
import type { Storage } from './port.js';
import type { SliceRecord, StreamSummary } from './records.js';
import { listStreams } from './stream-reader.js';

export type FindingKind = 'corrupt' | 'gap';

export interface VerifyFinding extends Finding {
  kind: FindingKind;
}

export interface VerifyReport {
  streams: number;
  slices: number;
  rows: number;
  findings: VerifyFinding[];
}

export function verifyStore(store: Storage): VerifyReport {
  const findings: VerifyFinding[] = [];
  let slices = 0;
  let rows = 0;
  const streams = listStreams(store);
  for (const { ref, summary } of streams) {
    const r = verifyStream(store, ref, summary, findings);
    slices += r.slices;
    rows += r.rows;
  }
  return { streams: streams.length, slices, rows, findings };
}

/** The invariants and this file's checks, in one pass over the stream (each payload decoded once). */
function verifyStream(store: Storage, ref: StreamRef, summary: StreamSummary, out: VerifyFinding[]): { slices: number; rows: number } {
  const name = streamName(ref);
  const endpoint = venueByName(ref.venue).endpoints[ref.endpoint];
  const corrupt = (sliceKey: string, problem: string) => out.push({ sliceKey, problem, kind: 'corrupt' });
  const gap = (sliceKey: string, problem: string) => out.push({ sliceKey, problem, kind: 'gap' });
  let prev: SliceRecord | null = null;
  /** Last candle seen so far, and the known-empty ranges that may explain a jump. */
  let lastOpen: number | null = null;
  let lastKey = name;
  let prevGaps: Array<[number, number]> = [];
  let slices = 0;
  let rows = 0;
  const invariants = checkStream(store, ref, summary, (r, p) => {
    slices++;
    const k = parseSliceKey(String(r.key));
    if (!k || streamName(k as StreamRef) !== name || k.startMs !== r.startMs || k.endMs !== r.endMs || k.limit !== r.limit) {
      corrupt(String(r.key), `record window ${r.startMs}-${r.endMs}:${r.limit} does not match its key`);
    }
    // Stored where its window starts: the planner and the readers look it up there.
    if (store.slice(ref, r.startMs)?.key !== r.key) corrupt(String(r.key), `record is not stored at its window's start ${r.startMs}`);
    if (r.id !== sliceId(String(r.key))) corrupt(r.key, `record id ${r.id} is not the id of its key (${sliceId(String(r.key))})`);
    if (prev) {
      if (r.startMs <= prev.endMs) corrupt(r.key, `window overlaps ${prev.key}`);
      else if (r.startMs !== prev.endMs + 1) gap(r.key, `no slice between ${prev.endMs + 1} and ${r.startMs - 1} (pending)`);
    }
    prev = r;
    if (r.status === 'failed' && !r.hasPayload) {
      gap(r.key, `failed ${r.attempts} time(s): ${r.error?.code ?? ''} ${r.error?.message ?? ''}`.trim());
      return;
    }
    if (!p) return; // the invariants report it (missing, damaged, does not decode)
    if (endpoint) {
      try {
        const facts = endpoint.validate(p.body, { slice: { index: 0, startMs: r.startMs, endMs: r.endMs, limit: r.limit, key: r.key, id: r.id }, interval: ref.interval, exchangeNow: p.meta.serverTime });
        if (facts.rows !== r.rows || facts.firstOpen !== r.firstOpen || facts.lastOpen !== r.lastOpen) corrupt(r.key, `record says ${r.rows} rows ${r.firstOpen}..${r.lastOpen}, payload holds ${facts.rows} rows ${facts.firstOpen}..${facts.lastOpen}`);
      } catch (err) {
        corrupt(r.key, `payload fails validation: ${(err as Error).message}`);
      }
    }
    // Spacing: every step between consecutive candles is one interval, or a recorded known-empty range (events have none).
    const model = endpoint?.rows;
    for (const row of p.rows) {
      rows++;
      if (!model || model.kind !== 'candles') continue;
      const open = model.time(row);
      if (lastOpen !== null) {
        const expected = addIntervals(lastOpen, ref.interval, 1);
        if (open !== expected && !explained(r, prevGaps, expected, open)) {
          (lastKey === r.key ? corrupt : gap)(r.key, `spacing: candle ${open} follows ${lastOpen}; expected ${expected}${lastKey === r.key ? '' : ` (across ${lastKey})`}`);
        }
      }
      lastOpen = open;
      lastKey = r.key;
    }
    prevGaps = r.gaps;
  });
  out.push(...invariants.map((f) => ({ ...f, kind: 'corrupt' as const })));
  return { slices, rows };
}

/** A jump from `expected` to `open` is fine when the recorded gaps of this and the previous slice, joined, cover it. */
function explained(r: SliceRecord, previous: Array<[number, number]>, expected: number, open: number): boolean {
  if (r.anomalies.some((a) => a.startsWith('unaligned'))) return true;
  const ranges = [...previous, ...r.gaps].sort((a, b) => a[0] - b[0]);
  let reach = expected;
  for (const [from, to] of ranges) if (from <= reach && to > reach) reach = to;
  return reach >= open;
}
