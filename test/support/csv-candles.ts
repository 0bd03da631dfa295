// Real 1m klines from a Binance archive CSV (gzip), served as REST rows:
// prices padded to 8 decimals as the REST API writes them. Other intervals
// are aggregated from the 1m rows with exact decimal arithmetic.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { addIntervals, floorToInterval, type Interval } from '../../src/intervals.js';
import { pad8, type KlineRow } from './kline-row.js';

export class CsvCandles {
  readonly rows1m: KlineRow[];
  private readonly byOpen = new Map<number, number>();

  constructor(file: string) {
    const text = gunzipSync(readFileSync(file)).toString('utf8');
    this.rows1m = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const f = line.trim().split(',');
      if (!/^\d+$/.test(f[0]!)) continue; // header row
      let open = Number(f[0]);
      let close = Number(f[6]);
      if (open > 1e14) { open = Math.floor(open / 1000); close = Math.floor(close / 1000); } // archive µs
      this.rows1m.push([open, pad8(f[1]!), pad8(f[2]!), pad8(f[3]!), pad8(f[4]!), pad8(f[5]!), close, pad8(f[7]!), Number(f[8]), pad8(f[9]!), pad8(f[10]!), f[11] ?? '0']);
    }
    this.rows1m.forEach((r, i) => this.byOpen.set(r[0], i));
  }

  get listedAt(): number {
    return this.rows1m[0]![0];
  }

  rows(interval: Interval, from: number, to: number, limit: number): KlineRow[] {
    if (interval === '1s') return [];
    const out: KlineRow[] = [];
    if (interval === '1m') {
      let i = lowerBound(this.rows1m, from);
      for (; i < this.rows1m.length && this.rows1m[i]![0] <= to && out.length < limit; i++) out.push(this.rows1m[i]!);
      return out;
    }
    let open = floorToInterval(Math.max(from, floorToInterval(this.listedAt, interval)), interval);
    if (open < from) open = addIntervals(open, interval, 1);
    const last = this.rows1m[this.rows1m.length - 1]![0];
    for (; open <= to && open <= last && out.length < limit; open = addIntervals(open, interval, 1)) {
      const end = addIntervals(open, interval, 1);
      const i0 = lowerBound(this.rows1m, open);
      const parts: KlineRow[] = [];
      for (let i = i0; i < this.rows1m.length && this.rows1m[i]![0] < end; i++) parts.push(this.rows1m[i]!);
      if (parts.length > 0) out.push(aggregateRows(open, end - 1, parts));
    }
    return out;
  }
}

function lowerBound(rows: KlineRow[], t: number): number {
  let lo = 0, hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid]![0] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const units = (s: string) => BigInt(s.replace('.', ''));
const fromUnits = (u: bigint) => {
  const s = u.toString().padStart(9, '0');
  return `${s.slice(0, -8)}.${s.slice(-8)}`;
};

function aggregateRows(open: number, close: number, parts: KlineRow[]): KlineRow {
  let h = units(parts[0]![2]), l = units(parts[0]![3]);
  let v = 0n, q = 0n, tb = 0n, tq = 0n, n = 0;
  for (const p of parts) {
    const ph = units(p[2]), pl = units(p[3]);
    if (ph > h) h = ph;
    if (pl < l) l = pl;
    v += units(p[5]); q += units(p[7]); tb += units(p[9]); tq += units(p[10]); n += p[8];
  }
  return [open, parts[0]![1], fromUnits(h), fromUnits(l), parts[parts.length - 1]![4], fromUnits(v), close, fromUnits(q), n, fromUnits(tb), fromUnits(tq), '0'];
}
