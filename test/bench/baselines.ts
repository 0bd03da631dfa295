// The benchmark's baselines against the same mock: undici fetch-only (body
// read and discarded) and ccxt's fetchOHLCV loop (unmodified ccxt from npm,
// its Binance URLs pointed at the mock). Each measured run happens in a
// fresh process, as each candlekeep run does:
//   node --import tsx test/bench/baselines.ts fetch-only|ccxt <mockUrl>
// prints {"ms":..,"rows":..}; the clock starts after set-up (agent built,
// markets loaded), at the first kline request.
import { pathToFileURL } from 'node:url';
import { Agent } from 'undici';
import { sliceAt, type StreamGeometry } from '../../src/slices.js';

export const YEAR: StreamGeometry = { venue: 'binance', endpoint: 'klines', symbol: 'BTCUSDT', interval: '1m', anchorMs: Date.UTC(2023, 0, 1), endMs: Date.UTC(2024, 0, 1), limit: 1000 };
export const YEAR_ROWS = 525_600;

export async function fetchOnly(url: string, lanes = 8): Promise<{ ms: number; rows: number }> {
  const agent = new Agent({ connections: lanes, keepAliveTimeout: 30_000 });
  const urls: string[] = [];
  for (let i = 0; ; i++) {
    const s = sliceAt(YEAR, i);
    if (!s) break;
    urls.push(`/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${s.startMs}&endTime=${s.endMs}&limit=1000`);
  }
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next < urls.length) {
      const res = await agent.request({ origin: url, path: urls[next++]!, method: 'GET' });
      await res.body.arrayBuffer();
    }
  }));
  const ms = performance.now() - t0;
  await agent.close();
  return { ms, rows: YEAR_ROWS };
}

export async function ccxtLoop(url: string, symbol: string, from: number, to: number, enableRateLimit: boolean, stopAfterMs = Infinity): Promise<{ ms: number; rows: number }> {
  const { default: ccxt } = await import('ccxt');
  const ex = new ccxt.binance({ enableRateLimit, options: { fetchMarkets: { types: ['spot'] }, fetchCurrencies: false } });
  const api = ex.urls.api as Record<string, string>;
  for (const k of Object.keys(api)) if (api[k]!.includes('api.binance.com/api/v3')) api[k] = `${url}/api/v3`;
  await ex.loadMarkets();
  const t0 = performance.now();
  let since = from;
  let rows = 0;
  while (since < to && performance.now() - t0 < stopAfterMs) {
    const o = await ex.fetchOHLCV(symbol, '1m', since, 1000);
    if (o.length === 0) break;
    rows += o.filter((r) => (r[0] as number) < to).length;
    since = (o[o.length - 1]![0] as number) + 60_000;
  }
  return { ms: performance.now() - t0, rows };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [mode, url] = process.argv.slice(2);
  const r = mode === 'ccxt' ? await ccxtLoop(url!, 'BTC/USDT', YEAR.anchorMs, YEAR.endMs!, false) : await fetchOnly(url!);
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
