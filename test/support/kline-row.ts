// The 12-field Binance kline row as the REST API sends it, and helpers the
// mock's candle sources share.

export type KlineRow = [
  openTime: number, open: string, high: string, low: string, close: string, volume: string,
  closeTime: number, quoteVolume: string, trades: number, takerBase: string, takerQuote: string, ignore: string,
];

/** Integer amounts of candle fields; prices and volumes in fixed-point units. */
export interface Agg {
  o: number; h: number; l: number; c: number;
  v: number; q: number; n: number; tbv: number; tbq: number;
}

/** Formats an integer count of 10^-`decimals` units with 8 decimals, as Binance writes numbers. */
export function fixed8(units: number, decimals: number): string {
  const scale = 10 ** decimals;
  const int = Math.floor(units / scale);
  const frac = String(units - int * scale).padStart(decimals, '0');
  return `${int}.${frac}${'0'.repeat(8 - decimals)}`;
}

/** Pads a decimal string to 8 places ("33.173" -> "33.17300000"). */
export function pad8(s: string): string {
  const [int, frac = ''] = s.split('.');
  return `${int}.${frac.padEnd(8, '0').slice(0, 8)}`;
}

export function aggregate(parts: readonly Agg[]): Agg {
  const first = parts[0]!;
  const out: Agg = { ...first };
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.h > out.h) out.h = p.h;
    if (p.l < out.l) out.l = p.l;
    out.c = p.c;
    out.v += p.v; out.q += p.q; out.n += p.n; out.tbv += p.tbv; out.tbq += p.tbq;
  }
  return out;
}

/** The still-open candle as seen at `fraction` (0..1) of its span: values move toward the final ones. */
export function partialRow(row: KlineRow, fraction: number): KlineRow {
  const f = Math.max(0, Math.min(1, fraction));
  const o = Number(row[1]), h = Number(row[2]), l = Number(row[3]), c = Number(row[4]);
  const cp = o + (c - o) * f;
  const top = Math.max(o, cp), bottom = Math.min(o, cp);
  const scaled = (s: string) => (Number(s) * f).toFixed(8);
  return [
    row[0], row[1], (top + (h - top) * f).toFixed(8), (bottom - (bottom - l) * f).toFixed(8), cp.toFixed(8),
    scaled(row[5]), row[6], scaled(row[7]), Math.floor(row[8] * f), scaled(row[9]), scaled(row[10]), row[11],
  ];
}

/** A small, fast, seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over a string and numbers: the seed of one candle's randomness. */
export function hashOf(...parts: Array<string | number>): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const s = String(p);
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0x7c;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
