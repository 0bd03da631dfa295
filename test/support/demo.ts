// `npm run demo`: the mock exchange and the daemon against it, so a newcomer
// without exchange access sees candlekeep backfill and then follow.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN } from './daemon-harness.js';
import { MockExchange } from './mock-exchange.js';

const mock = new MockExchange({ symbols: [{ symbol: 'BTCUSDT', listedAt: Date.UTC(2024, 0, 1) }, { symbol: 'ETHUSDT', listedAt: Date.UTC(2024, 0, 1) }] });
const url = await mock.start();
const dir = mkdtempSync(join(tmpdir(), 'candlekeep-demo-'));
const config = join(dir, 'symbols.json');
writeFileSync(config, JSON.stringify({
  dataRoot: './data',
  venues: { binance: { baseUrl: url } },
  streams: [{ venue: 'binance', endpoint: 'klines', symbols: ['BTCUSDT', 'ETHUSDT'], intervals: ['1m', '1h'], start: new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10) }],
}, null, 2));
console.log(`mock exchange at ${url}; config ${config}; press Ctrl-C to stop`);
const daemon = spawn(process.execPath, [MAIN, 'run', '--config', config], { stdio: 'inherit' });
const stop = () => daemon.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
daemon.on('close', (code) => void mock.stop().then(() => process.exit(code ?? 0)));
