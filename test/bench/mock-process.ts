// The mock exchange in its own process for the benchmark, so its CPU does
// not compete with the measuring process's event loop. Options arrive as
// JSON in argv[2]; the parent talks to it over IPC.
import { MockClock } from '../support/mock-clock.js';
import { MockExchange, type MockSymbol } from '../support/mock-exchange.js';
import type { RateLimitDecl } from '../support/mock-rate-limits.js';

export interface BenchMockOptions {
  symbols: MockSymbol[];
  clock: { start: number; held: boolean; speed?: number };
  limits: RateLimitDecl[];
  cacheResponses: boolean;
}

export type BenchMockRequest = { type: 'stats'; since?: number } | { type: 'reset' } | { type: 'stop' };

export interface BenchMockStats {
  requests: number;
  byStatus: Record<string, number>;
  /** Weight of every counted (non-429/418) request. */
  weight: number;
  klines: number;
  firstAt: number | null;
  lastAt: number | null;
  /** Arrival time (real ms) and params of kline requests, when asked for. */
  times?: Array<[number, string, string, string]>;
}

const o = JSON.parse(process.argv[2]!) as BenchMockOptions;
const mock = new MockExchange({
  clock: new MockClock(o.clock),
  symbols: o.symbols,
  rateLimits: { limits: o.limits },
  cacheResponses: o.cacheResponses,
});
const url = await mock.start();
process.send!({ type: 'ready', url });
process.on('message', (m: BenchMockRequest & { withTimes?: boolean }) => {
  switch (m.type) {
    case 'reset':
      mock.log.length = 0;
      process.send!({ type: 'reset' });
      return;
    case 'stats': {
      const log = mock.log;
      const byStatus: Record<string, number> = {};
      let weight = 0;
      let klines = 0;
      for (const e of log) {
        byStatus[e.status] = (byStatus[e.status] ?? 0) + 1;
        if (e.status !== 429 && e.status !== 418) weight += e.weight;
        if (e.path === '/api/v3/klines') klines++;
      }
      const k = log.filter((e) => e.path === '/api/v3/klines');
      const stats: BenchMockStats = {
        requests: log.length, byStatus, weight, klines, firstAt: k[0]?.at ?? null, lastAt: k[k.length - 1]?.at ?? null,
        ...(m.withTimes ? { times: k.map((e) => [e.at, e.params.symbol ?? '', e.params.interval ?? '', e.params.startTime ?? ''] as [number, string, string, string]) } : {}),
      };
      process.send!({ type: 'stats', stats });
      return;
    }
    case 'stop':
      void mock.stop().then(() => process.exit(0));
      return;
  }
});
