// `npm run mock-exchange -- --port N [--venue binance|binanceus|binanceusdm|okx] [--data DIR] [--speed X] [--start T] [--seed S] [--weight-limit N]`
// Starts the mock Binance exchange on 127.0.0.1 and prints its base URL.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MockClock } from './mock-clock.js';
import { MockExchange, type MockSymbol, type MockVenue } from './mock-exchange.js';
import { MockOkx } from './mock-okx.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    venue: { type: 'string', default: 'binance' },
    data: { type: 'string' },
    speed: { type: 'string', default: '1' },
    start: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'weight-limit': { type: 'string' },
  },
  strict: true,
});

const symbols: MockSymbol[] = [
  { symbol: 'BTCUSDT', listedAt: Date.UTC(2017, 7, 17) },
  { symbol: 'ETHUSDT', listedAt: Date.UTC(2017, 7, 17) },
];
if (values.data) {
  // Files named SYMBOL-1m-YYYY-MM.csv.gz (the Binance archive's names).
  for (const f of readdirSync(values.data)) {
    const m = /^([A-Z0-9]+)-1m-.*\.csv\.gz$/.exec(f);
    if (m) symbols.push({ symbol: m[1]!, csv: resolve(join(values.data, f)) });
  }
}
const VENUES = ['binance', 'binanceus', 'binanceusdm', 'okx'];
if (!VENUES.includes(values.venue)) {
  console.error(`--venue ${values.venue}: use one of ${VENUES.join(', ')}`);
  process.exit(2);
}
const clock = new MockClock({ ...(values.start ? { start: Date.parse(values.start) } : {}), speed: Number(values.speed) });
const okxSymbols = [{ symbol: 'BTC-USDT', listedAt: Date.UTC(2019, 0, 1) }, { symbol: 'ETH-USDT', listedAt: Date.UTC(2019, 0, 1) }];
const mock = values.venue === 'okx' ? new MockOkx({ port: Number(values.port), seed: Number(values.seed), clock, symbols: okxSymbols }) : new MockExchange({
  venue: values.venue as MockVenue,
  port: Number(values.port),
  seed: Number(values.seed),
  symbols,
  clock,
  ...(values['weight-limit'] ? { rateLimits: { limits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: Number(values['weight-limit']) }] } } : {}),
});
console.log(await mock.start());
const stop = () => void mock.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
