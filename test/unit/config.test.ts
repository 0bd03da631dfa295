import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig, loadConfig } from '../../src/config/load-config.js';
import { renderJsonSchema, SCHEMA_FILE } from '../../src/config/write-json-schema.js';

const good = () => ({
  streams: [{ venue: 'binance', endpoint: 'klines', symbols: ['BTCUSDT'], intervals: ['1m'], start: '2024-01-01' }],
});

function problems(raw: unknown): string {
  try {
    parseConfig(raw, '/cfg/symbols.json', { env: {} });
  } catch (err) {
    expect((err as { code: string }).code).toBe('CK_ERR_CONFIG_INVALID');
    return (err as Error).message;
  }
  throw new Error('config was accepted');
}

describe('config validation', () => {
  const table: Array<[string, (c: Record<string, any>) => void, string]> = [
    ['misspelt top-level key', (c) => { c.dataroot = '/x'; }, '(top level): unknown key "dataroot" (did you mean "dataRoot"?)'],
    ['misspelt stream key', (c) => { c.streams[0].symbls = c.streams[0].symbols; delete c.streams[0].symbols; }, 'streams[0]: unknown key "symbls" (did you mean "symbols"?)'],
    ['bad interval', (c) => { c.streams[0].intervals = ['1m', '2m']; }, 'streams[0].intervals[1]: "2m" is not a Binance interval; use one of 1s, 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M'],
    ['lower-case symbol', (c) => { c.streams[0].symbols = ['btcusdt']; }, 'streams[0].symbols[0]: "btcusdt" is not a symbol; symbols are 2-30 characters A-Z, 0-9 and - (e.g. "BTCUSDT", OKX "BTC-USDT")'],
    ['path in symbol', (c) => { c.streams[0].symbols = ['../ETC']; }, 'streams[0].symbols[0]: "../ETC" is not a symbol; symbols are 2-30 characters A-Z, 0-9 and - (e.g. "BTCUSDT", OKX "BTC-USDT")'],
    ['unknown venue', (c) => { c.streams[0].venue = 'kraken'; }, 'streams[0].venue: "kraken" is not a venue; use one of binance, binanceus, binanceusdm, okx'],
    ['8h on OKX', (c) => { c.streams[0].venue = 'okx'; c.streams[0].endpoint = 'candles'; c.streams[0].intervals = ['8h']; }, 'streams[0].intervals[0]: "8h" is not an OKX interval; use one of 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d, 1w, 1M'],
    ['1s on Binance.US', (c) => { c.streams[0].venue = 'binanceus'; c.streams[0].intervals = ['1s']; }, 'streams[0].intervals[0]: "1s" is not a Binance.US interval; use one of 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M'],
    ['uiKlines on Binance.US', (c) => { c.streams[0].venue = 'binanceus'; c.streams[0].endpoint = 'uiKlines'; }, 'streams[0].endpoint: "uiKlines" is not a binanceus endpoint; use one of klines'],
    ['funding rates by a period Binance does not use', (c) => { c.streams[0].venue = 'binanceusdm'; c.streams[0].endpoint = 'fundingRate'; c.streams[0].intervals = ['12h']; }, 'streams[0].intervals[0]: "12h" is not a Binance USD-M futures fundingRate interval (the funding period); use one of 1h, 4h, 8h'],
    ['limit above the USD-M maximum', (c) => { c.streams[0].venue = 'binanceusdm'; c.streams[0].limit = 1501; }, 'streams[0].limit: 1501 is above the Binance USD-M futures klines maximum of 1500'],
    ['unknown endpoint', (c) => { c.streams[0].endpoint = 'trades'; }, 'streams[0].endpoint: "trades" is not a binance endpoint; use one of klines, uiKlines'],
    ['funding rates on spot', (c) => { c.streams[0].endpoint = 'fundingRate'; }, 'streams[0].endpoint: "fundingRate" is not a binance endpoint; use one of klines, uiKlines'],
    ['bad start', (c) => { c.streams[0].start = 'yesterday'; }, 'streams[0].start: "yesterday" is not an ISO date (e.g. "2024-01-01" or "2024-01-01T00:00:00Z") or epoch milliseconds'],
    ['end before start', (c) => { c.streams[0].end = '2023-01-01'; }, 'streams[0].end: end must be after start'],
    ['budget share above 1', (c) => { c.venues = { binance: { maxBudgetShare: 1.5 } }; }, 'venues.binance.maxBudgetShare: Too big: expected number to be <=1'],
    ['port as string', (c) => { c.http = { port: '9464' }; }, 'http.port: expected number, got "9464"'],
    ['no streams', (c) => { c.streams = []; }, 'streams: list at least one stream'],
    ['limit above maximum', (c) => { c.streams[0].limit = 5000; }, 'streams[0].limit: 5000 is above the Binance klines maximum of 1000'],
    ['duplicate symbol', (c) => { c.streams[0].symbols = ['BTCUSDT', 'BTCUSDT']; }, 'streams[0].symbols[1]: "BTCUSDT" is listed twice'],
    ['unknown venue key', (c) => { c.venues = { binanse: {} }; }, 'venues: unknown key "binanse" (did you mean "binance"?)'],
    ['bad log level', (c) => { c.logging = { level: 'loud' }; }, 'logging.level: "loud" is not a log level; use one of fatal, error, warn, info, debug, trace, silent'],
  ];
  it.each(table)('%s', (_name, mutate, message) => {
    const c = good() as Record<string, any>;
    mutate(c);
    expect(problems(c)).toBe(message);
  });

  it('asks each venue for its cheapest rows per request unless a stream sets limit', () => {
    const c = good() as Record<string, any>;
    c.streams.push({ ...c.streams[0], venue: 'binanceus' }, { ...c.streams[0], venue: 'binanceusdm' }, { ...c.streams[0], venue: 'binanceusdm', symbols: ['ETHUSDT'], limit: 1500 });
    const cfg = parseConfig(c, '/cfg/symbols.json', { env: {} });
    expect(cfg.streams.map((s) => [s.name, s.limit])).toEqual([
      ['binance:klines:BTCUSDT:1m', 1000], ['binanceus:klines:BTCUSDT:1m', 1000], ['binanceusdm:klines:BTCUSDT:1m', 499], ['binanceusdm:klines:ETHUSDT:1m', 1500],
    ]);
    expect(Object.fromEntries(Object.entries(cfg.venues).map(([k, v]) => [k, v.baseUrl]))).toEqual({
      binance: 'https://api.binance.com', binanceus: 'https://api.binance.us', binanceusdm: 'https://fapi.binance.com', okx: 'https://www.okx.com',
    });
  });

  it('reports a stream defined twice', () => {
    const c = good() as Record<string, any>;
    c.streams.push({ ...c.streams[0] });
    expect(problems(c)).toBe('streams[1]: binance:klines:BTCUSDT:1m is already defined by streams[0]');
  });

  it('reports every problem at once', () => {
    const c = good() as Record<string, any>;
    c.streams[0].intervals = ['7m'];
    c.http = { prot: 1 };
    expect(problems(c).split('\n')).toHaveLength(2);
  });

  it('applies defaults and freezes', () => {
    const cfg = parseConfig(good(), '/cfg/symbols.json', { env: {} });
    expect(cfg.http).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(cfg.venues.binance).toEqual({ baseUrl: 'https://api.binance.com', maxBudgetShare: 0.9 });
    expect(cfg.streams).toHaveLength(1);
    expect(cfg.streams[0]).toMatchObject({ name: 'binance:klines:BTCUSDT:1m', anchorMs: Date.UTC(2024, 0, 1), limit: 1000, endMs: null });
    expect(Object.isFrozen(cfg.streams[0])).toBe(true);
  });

  it('resolves the data root: flag, then dataRoot (relative to the config), then env, then ~/.candlekeep', () => {
    const withRoot = { ...good(), dataRoot: './d' };
    expect(parseConfig(withRoot, '/cfg/symbols.json', { dataRootFlag: '/flag', env: { CANDLEKEEP_DATA_ROOT: '/env' } }).dataRoot).toBe('/flag');
    expect(parseConfig(withRoot, '/cfg/symbols.json', { env: { CANDLEKEEP_DATA_ROOT: '/env' } }).dataRoot).toBe('/cfg/d');
    expect(parseConfig(good(), '/cfg/symbols.json', { env: { CANDLEKEEP_DATA_ROOT: '/env' } }).dataRoot).toBe('/env');
    expect(parseConfig(good(), '/cfg/symbols.json', { env: {} }).dataRoot).toMatch(/\.candlekeep$/);
  });

  it('the shipped example config is valid and the JSON Schema matches the zod schema', () => {
    const cfg = loadConfig(fileURLToPath(new URL('../../symbols.json', import.meta.url)));
    expect(cfg.streams.length).toBe(6);
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(renderJsonSchema());
  });
});
