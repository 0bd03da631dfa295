// Which slices of one stream need work now. Pure bookkeeping over indices:
// a `todo` map for known-unsettled slices (missing below the frontier,
// failed, partial) and a frontier past which every slice is new, so a plan
// costs O(batch), never a walk over the stream's whole history.
import { addIntervals } from '../src/intervals.js';
import { sliceAt, sliceWindow, type StreamGeometry } from '../src/slices.js';
import type { PlannedSlice } from '../src/protocol.js';

export interface PlanResult {
  slices: PlannedSlice[];
  /** Earliest time something becomes due, null when nothing ever will. */
  wakeAt: number | null;
  /** Nothing due, in flight, or failed: every closed candle up to now is stored. */
  caughtUp: boolean;
  /** The stream has an end and every slice up to it is ok. */
  finished: boolean;
}

interface Todo {
  dueAt: number;
  attempts: number;
  failed: boolean;
}

export class StreamPlan {
  private readonly todo = new Map<number, Todo>();
  private readonly inFlight = new Set<number>();
  /** Every index >= frontier has no record. */
  private frontier: number;

  constructor(readonly g: StreamGeometry, okThroughIndex: number, private readonly settleMs: number) {
    this.frontier = okThroughIndex;
  }

  /** Loads what storage knows: one entry per stored record at or after okThrough. */
  noteStored(index: number, status: 'ok' | 'partial' | 'failed', nextDueAt: number | null, attempts: number, keyMatches: boolean): void {
    for (let i = this.frontier; i < index; i++) if (!this.todo.has(i)) this.todo.set(i, { dueAt: 0, attempts: 0, failed: false });
    if (index >= this.frontier) this.frontier = index + 1;
    if (!keyMatches) this.todo.set(index, { dueAt: 0, attempts: 0, failed: false });
    else if (status === 'ok') this.todo.delete(index);
    else this.todo.set(index, { dueAt: nextDueAt ?? 0, attempts, failed: status === 'failed' });
  }

  /** The exchange time of the latest plan request (the fetchers' clock, which decides what is due). */
  lastNow = 0;

  plan(now: number, max: number): PlanResult {
    this.lastNow = Math.max(this.lastNow, now);
    const slices: PlannedSlice[] = [];
    let wakeAt = Infinity;
    let failedWaiting = false;
    const due = [...this.todo.entries()]
      .filter(([i, t]) => {
        if (this.inFlight.has(i)) return false;
        if (t.dueAt > now) {
          wakeAt = Math.min(wakeAt, t.dueAt);
          if (t.failed) failedWaiting = true;
          return false;
        }
        return true;
      })
      .sort((a, b) => a[0] - b[0]);
    // Unsettled slices all lie below the frontier, so time order is: due todo, then new ones.
    for (const [index, t] of due.slice(0, max)) {
      const spec = sliceAt(this.g, index);
      if (spec) slices.push({ ...spec, attempts: t.attempts });
    }
    let next = this.frontier;
    while (slices.length < max) {
      const spec = sliceAt(this.g, next);
      if (!spec) break;
      const readyAt = this.readyAt(spec);
      if (readyAt > now) {
        wakeAt = Math.min(wakeAt, readyAt);
        break;
      }
      slices.push({ ...spec, attempts: 0 });
      next++;
    }
    this.frontier = next;
    const frontierSpec = sliceWindow(this.g, this.frontier);
    const rangeEnded = frontierSpec === null;
    for (const s of slices) this.inFlight.add(s.index);
    const idle = slices.length === 0 && this.inFlight.size === 0;
    return {
      slices,
      wakeAt: Number.isFinite(wakeAt) ? wakeAt : null,
      caughtUp: idle && !failedWaiting && (rangeEnded || this.readyAt(frontierSpec) > now),
      finished: idle && rangeEnded && this.todo.size === 0,
    };
  }

  /** A fetched slice was committed. */
  settled(index: number, status: 'ok' | 'partial' | 'failed', nextDueAt: number | null, attempts: number): void {
    this.inFlight.delete(index);
    if (status === 'ok') this.todo.delete(index);
    else this.todo.set(index, { dueAt: nextDueAt ?? 0, attempts, failed: status === 'failed' });
  }

  /** The fetcher that held these slices died: hand them out again. */
  releaseInFlight(): void {
    for (const i of this.inFlight) if (!this.todo.has(i)) this.todo.set(i, { dueAt: 0, attempts: 0, failed: false });
    this.inFlight.clear();
  }

  /** A slice is worth fetching once its first candle has closed. */
  private readyAt(spec: { startMs: number }): number {
    return addIntervals(spec.startMs, this.g.interval, 1) + this.settleMs;
  }
}
