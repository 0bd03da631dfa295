// health-says-pass-while-the-exchange-is-down: following the open candle,
// the slice retried during an outage stays `partial`, so slice counts alone
// kept /health at "pass". The venue's reachability is told from the requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonUrl, logLines, spawnCandlekeep, tempDir, waitUntil, writeConfig } from '../support/daemon-harness.js';
import { MockClock } from '../support/mock-clock.js';
import { MockExchange } from '../support/mock-exchange.js';

const NOW = Date.UTC(2024, 2, 1, 12, 0, 30);

interface Health {
  status: string;
  reasons: string[];
  venues: Array<{ venue: string; unreachable: { since: string; failures: number; lastCode: string } | null; lastOutage: { from: string; to: string; failures: number } | null }>;
}

let mock: MockExchange;
let daemon: ReturnType<typeof spawnCandlekeep>;
let url: string;

beforeAll(async () => {
  mock = new MockExchange({ clock: new MockClock({ start: NOW, speed: 30 }), symbols: [{ symbol: 'BTCUSDT', listedAt: Date.UTC(2024, 1, 28) }] });
  await mock.start();
  const dir = tempDir();
  const cfg = writeConfig(dir, {
    venues: { binance: { baseUrl: mock.url } },
    streams: [{ venue: 'binance', endpoint: 'klines', symbols: ['BTCUSDT'], intervals: ['1m'], start: '2024-02-29' }],
    fetcher: { settleMs: 200 },
    logging: { level: 'info' },
  });
  daemon = spawnCandlekeep(['run', '--config', cfg]);
  url = await daemonUrl(daemon.output);
}, 60_000);

afterAll(async () => {
  daemon?.child.kill('SIGTERM');
  await daemon?.done;
  await mock?.stop();
});

async function health(): Promise<Health> {
  return (await (await fetch(`${url}/health`)).json()) as Health;
}

async function unreachableGauge(): Promise<string | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return /^candlekeep_venue_unreachable\{venue="binance"\} (\d)$/m.exec(text)?.[1];
}

describe('an exchange outage while following', () => {
  it('turns /health to warn naming the venue, sets candlekeep_venue_unreachable, and says when it ended', async () => {
    await waitUntil(async () => (await health()).status === 'pass' && (await health()).venues[0]!.unreachable === null, 'a healthy follow', 30_000, 200);
    expect(await unreachableGauge()).toBe('0');

    mock.faults.setRates({ reset: 1 }); // every data request: the connection is reset
    const down = await waitUntil(async () => { const h = await health(); return h.status === 'warn' && h.venues[0]!.unreachable ? h : null; }, '/health to warn', 60_000, 200);
    const outage = down.venues[0]!.unreachable!;
    expect(outage.lastCode).toBe('CK_ERR_FETCH_NETWORK');
    expect(outage.failures).toBeGreaterThanOrEqual(3);
    expect(down.reasons.some((r) => r.startsWith(`binance: unreachable since ${outage.since}`))).toBe(true);
    expect(await unreachableGauge()).toBe('1');

    mock.faults.setRates({});
    const up = await waitUntil(async () => { const h = await health(); return h.venues[0]!.lastOutage && !h.venues[0]!.unreachable ? h : null; }, 'the outage to end', 60_000, 200);
    expect(up.status).toBe('pass');
    expect(up.venues[0]!.lastOutage!.from).toBe(outage.since);
    expect(Date.parse(up.venues[0]!.lastOutage!.to)).toBeGreaterThan(Date.parse(outage.since));
    expect(await unreachableGauge()).toBe('0');
    const lines = logLines(daemon.output());
    expect(lines.filter((l) => l.msg === 'exchange unreachable; slices are retried with backoff')).toHaveLength(1);
    const back = lines.find((l) => l.msg === 'exchange reachable again')!;
    expect(back).toMatchObject({ venue: 'binance', from: outage.since });
    expect(back.downSeconds).toBeTypeOf('number');
  }, 150_000);
});
