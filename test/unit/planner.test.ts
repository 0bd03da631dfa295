import { describe, expect, it } from 'vitest';
import { StreamPlan } from '../../actors/planner.js';
import { geometry, sliceAt } from '../../src/slices.js';

const H = 3_600_000;
const start = Date.UTC(2024, 0, 1);
const g = geometry({ venue: 'binance', endpoint: 'klines', symbol: 'BTCUSDT', interval: '1h' }, start, null, 10);

describe('StreamPlan', () => {
  it('hands out new slices in time order, lazily, only once their first candle has closed', () => {
    const p = new StreamPlan(g, 0, 1000);
    const now = start + 35 * H; // slices 0..3 exist; slice 3 opened at 30h
    const r = p.plan(now, 3);
    expect(r.slices.map((s) => s.index)).toEqual([0, 1, 2]);
    const r2 = p.plan(now, 10);
    expect(r2.slices.map((s) => s.index)).toEqual([3]);
    expect(r2.wakeAt).toBe(start + 41 * H + 1000); // slice 4's first candle closes at 41h
    expect(r2.caughtUp).toBe(false); // slices in flight
  });

  it('re-offers failed slices when due, partial tails after their next close, and reports caught-up', () => {
    const p = new StreamPlan(g, 0, 1000);
    const now = start + 15 * H;
    p.plan(now, 10);
    p.settled(0, 'failed', now + 5000, 1);
    p.settled(1, 'partial', start + 16 * H + 1000, 0);
    let r = p.plan(now, 10);
    expect(r.slices).toEqual([]);
    expect(r.wakeAt).toBe(now + 5000);
    expect(r.caughtUp).toBe(false); // a failed slice still waits
    r = p.plan(now + 5000, 10);
    expect(r.slices.map((s) => [s.index, s.attempts])).toEqual([[0, 1]]);
    p.settled(0, 'ok', null, 0);
    r = p.plan(now + 5000, 10);
    expect(r.caughtUp).toBe(true);
    expect(r.wakeAt).toBe(start + 16 * H + 1000);
    r = p.plan(start + 16 * H + 1000, 10);
    expect(r.slices.map((s) => s.index)).toEqual([1]);
  });

  it('rebuilds from storage: missing records below the frontier are pending, ok ones are skipped', () => {
    const p = new StreamPlan(g, 2, 0);
    const key = (i: number) => sliceAt(g, i)!.key;
    expect(key(3)).toBeTruthy();
    p.noteStored(3, 'ok', null, 0, true);
    p.noteStored(5, 'failed', 0, 2, true);
    p.noteStored(6, 'ok', null, 0, false); // from another geometry: refetch
    const r = p.plan(start + 1000 * H, 100);
    expect(r.slices.map((s) => s.index).slice(0, 6)).toEqual([2, 4, 5, 6, 7, 8]);
    expect(r.slices.find((s) => s.index === 5)!.attempts).toBe(2);
  });

  it('finishes a stream with an end once every slice is ok', () => {
    const ended = geometry(g, start, start + 25 * H, 10);
    const p = new StreamPlan(ended, 0, 0);
    const r = p.plan(start + 100 * H, 10);
    expect(r.slices.map((s) => s.index)).toEqual([0, 1, 2]);
    for (const s of r.slices) p.settled(s.index, 'ok', null, 0);
    expect(p.plan(start + 100 * H, 10)).toMatchObject({ slices: [], finished: true, caughtUp: true });
  });

  it('releases in-flight slices when their actor dies', () => {
    const p = new StreamPlan(g, 0, 0);
    p.plan(start + 25 * H, 2);
    p.releaseInFlight();
    expect(p.plan(start + 25 * H, 5).slices.map((s) => s.index)).toEqual([0, 1, 2]);
  });
});
