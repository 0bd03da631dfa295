import { describe, expect, it } from 'vitest';
import { addIntervals, floorToInterval, intervalMs } from '../../src/intervals.js';
import { geometry, sliceAt, sliceIndexAt } from '../../src/slices.js';

const ref = { venue: 'binance', endpoint: 'klines', symbol: 'BTCUSDT' } as const;

describe('intervals', () => {
  it('weeks open on Monday 00:00 UTC', () => {
    const thu = Date.UTC(2024, 1, 29, 13); // Thursday
    expect(new Date(floorToInterval(thu, '1w')).toISOString()).toBe('2024-02-26T00:00:00.000Z');
  });
  it('months follow the calendar, including leap February', () => {
    const feb = Date.UTC(2024, 1, 1);
    expect(intervalMs('1M', feb)).toBe(29 * 86_400_000);
    expect(new Date(addIntervals(Date.UTC(2024, 0, 1), '1M', 13)).toISOString()).toBe('2025-02-01T00:00:00.000Z');
  });
});

describe('slices', () => {
  it('are deterministic windows of limit x interval from the floored start', () => {
    const g = geometry({ ...ref, interval: '1m' }, Date.UTC(2024, 0, 1, 0, 0, 30), null, 1000);
    const s0 = sliceAt(g, 0)!;
    const s1 = sliceAt(g, 1)!;
    expect(s0.startMs).toBe(Date.UTC(2024, 0, 1));
    expect(s0.endMs).toBe(s0.startMs + 1000 * 60_000 - 1);
    expect(s1.startMs).toBe(s0.endMs + 1);
    expect(s0.key).toBe(`binance:klines:BTCUSDT:1m:${s0.startMs}-${s0.endMs}:1000`);
    expect(s0.id).toMatch(/^[0-9a-f]{16}$/);
    expect(sliceAt(g, 0)).toEqual(s0);
    expect(s1.id).not.toBe(s0.id);
  });

  it('partition the range: each slice starts where the previous ended, the last stops at end', () => {
    const end = Date.UTC(2024, 0, 3, 5);
    const g = geometry({ ...ref, interval: '1h' }, Date.UTC(2023, 11, 1), end, 100);
    let prevEnd = g.anchorMs - 1;
    let i = 0;
    for (let s = sliceAt(g, 0); s; s = sliceAt(g, ++i)) {
      expect(s.startMs).toBe(prevEnd + 1);
      prevEnd = s.endMs;
      expect(sliceIndexAt(g, s.startMs)).toBe(i);
      expect(sliceIndexAt(g, s.endMs)).toBe(i);
    }
    expect(prevEnd).toBe(end - 1);
  });

  it('calendar slices for 1M and 1w', () => {
    const g = geometry({ ...ref, interval: '1M' }, Date.UTC(2020, 4, 17), null, 12);
    expect(new Date(sliceAt(g, 1)!.startMs).toISOString()).toBe('2021-05-01T00:00:00.000Z');
    expect(sliceIndexAt(g, Date.UTC(2022, 3, 30))).toBe(1);
    const w = geometry({ ...ref, interval: '1w' }, Date.UTC(2024, 1, 29), null, 2);
    expect(new Date(sliceAt(w, 0)!.startMs).getUTCDay()).toBe(1);
  });
});
