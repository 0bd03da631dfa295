// The short soak inside npm test: 1002 streams following in real time for
// a minute, half past to half past (`npm run soak` runs ten). Figures are printed.
import { describe, expect, it } from 'vitest';
import { followMany, MAX_SOCKETS } from '../bench/follow-many.js';

describe('soak', () => {
  it('1002 streams following: closes fetched within 5 s, CPU under 10% of a core, memory and handles flat, no 429', async () => {
    const f = await followMany(334, 45, Number(process.env.CK_SOAK_SECONDS ?? 60));
    console.log(`soak: ${JSON.stringify(f)}`);
    expect(f.closeToFetchMs.samples).toBeGreaterThanOrEqual(334);
    expect(f.closeToFetchMs.p99).toBeLessThan(5000);
    expect(f.cpuShareOfCore).toBeLessThan(0.1);
    expect(f.rssMiB.end).toBeLessThan(f.rssMiB.start * 1.25);
    // Files flat; sockets are the HTTP pool, which fills as bursts need it (3m and 5m closes) and is bounded.
    expect(f.handles.end).toBeLessThanOrEqual(f.handles.start + 5);
    expect(f.sockets.end).toBeLessThanOrEqual(MAX_SOCKETS);
    expect(f.status['429'] ?? 0).toBe(0);
  }, 240_000);
});
