import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { VenueBudget, type BudgetLimit, type Ticket } from '../../actors/rate-limiter.js';

const W = 2000;
const weight: BudgetLimit = { type: 'REQUEST_WEIGHT', windowMs: W, limit: 600, cap: 540, header: 'x-mbx-used-weight-2s' };
const raw: BudgetLimit = { type: 'RAW_REQUESTS', windowMs: 10_000, limit: 100, cap: 90, header: null };

function fakeTime(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function take(b: VenueBudget, w: number): Ticket | number {
  const r = b.tryAcquire(w);
  return 'ticket' in r ? r.ticket : r.waitMs;
}

/** How many requests of weight 2 the budget admits now, one after another, until it says wait. */
function room(b: VenueBudget): number {
  let n = 0;
  while (typeof take(b, 2) === 'object') n++;
  return n;
}

describe('VenueBudget', () => {
  it('admits up to the cap per sliding window, then says how long to wait', () => {
    const time = fakeTime();
    const b = VenueBudget.create('binance', [weight], time.now);
    for (let i = 0; i < 270; i++) expect(typeof take(b, 2)).toBe('object');
    const wait = take(b, 2);
    expect(typeof wait).toBe('number');
    // every reservation is in the current bucket: it leaves the window after one window plus a bucket at most
    expect(wait as number).toBeGreaterThan(W - 1);
    expect(wait as number).toBeLessThanOrEqual(W + W / 64);
    time.advance(wait as number);
    expect(typeof take(b, 2)).toBe('object');
    expect(b.snapshot().weightSent).toBe(542);
  });

  it('never lets more than the cap into any window-long span (against a sliding count)', () => {
    const time = fakeTime();
    const b = VenueBudget.create('binance', [weight], time.now);
    const sent: number[] = [];
    for (let step = 0; step < 20_000; step++) {
      const r = b.tryAcquire(2);
      if ('ticket' in r) sent.push(time.now());
      time.advance(1 + (step % 7));
    }
    let lo = 0;
    let worst = 0;
    for (let hi = 0; hi < sent.length; hi++) {
      while (sent[hi]! - sent[lo]! >= W) lo++;
      worst = Math.max(worst, (hi - lo + 1) * 2);
    }
    expect(worst).toBeLessThanOrEqual(540);
    // and it uses nearly all of it: weight per window over the run
    const perWindow = (sent.length * 2) / ((sent[sent.length - 1]! - sent[0]!) / W);
    expect(perWindow).toBeGreaterThan(540 * 0.95);
  });

  it('applies every declared limit: raw request counts as well as weight', () => {
    const time = fakeTime();
    const b = VenueBudget.create('binance', [weight, raw], time.now);
    let admitted = 0;
    while (typeof take(b, 1) === 'object') admitted++;
    expect(admitted).toBe(90); // RAW_REQUESTS cap binds before the weight cap (540)
  });

  it('a limit of one endpoint holds that endpoint back and no other', () => {
    const time = fakeTime();
    const funding: BudgetLimit = { type: 'RAW_REQUESTS', windowMs: 10_000, limit: 10, cap: 9, header: null, endpoint: 'fundingRate' };
    const b = VenueBudget.create('binanceusdm', [weight, funding], time.now);
    let admitted = 0;
    while ('ticket' in b.tryAcquire(1, 'fundingRate')) admitted++;
    expect(admitted).toBe(9);
    // klines still go, up to the venue-wide weight cap (540 minus the 9 funding requests' weight)
    let klines = 0;
    while ('ticket' in b.tryAcquire(1, 'klines')) klines++;
    expect(klines).toBe(531);
    expect(b.snapshot().limits.map((l) => [l.endpoint ?? null, l.own])).toEqual([[null, 540], ['fundingRate', 9]]);
  });

  it('shrinks to what other programs on the IP leave, as the used-weight header reports', () => {
    const time = fakeTime();
    const b = VenueBudget.create('binance', [weight], time.now);
    time.advance(W); // past the first window (see the next test)
    const t = take(b, 2) as Ticket;
    // the exchange counted 302: our 2 plus 300 from someone else
    b.observe({ 'x-mbx-used-weight-2s': '302' }, t);
    const admitted = 1 + room(b);
    expect(admitted * 2 + 300).toBeLessThanOrEqual(540);
    expect(admitted * 2 + 300).toBeGreaterThan(536);
    expect(b.snapshot().limits[0]!.foreign).toBe(300);
    // an estimate older than a window is no longer reported as current use ...
    time.advance(W + W / 32);
    expect(b.snapshot().limits[0]!.foreign).toBe(0);
    // ... but admission keeps it (after a pause the other program is probably still there) until an answer says more
    const after = room(b);
    expect(after * 2 + 300).toBeLessThanOrEqual(540);
    expect(after * 2 + 300).toBeGreaterThan(536);
  });

  it('counts others at the most they held in the last window: a dip in their use (requests delayed, not dropped) does not free room', () => {
    const time = fakeTime();
    const b = VenueBudget.create('binance', [weight], time.now);
    time.advance(W);
    const read = (said: number) => b.observe({ 'x-mbx-used-weight-2s': String(said) }, take(b, 2) as Ticket);
    read(302); // 300 from someone else
    time.advance(W / 4);
    read(204); // they seem to hold 200 now (our 4 counted): their requests are late, their backlog still to come
    expect(room(b) * 2 + 4 + 300).toBeLessThanOrEqual(540);
    // a window of readings at 200 later, 200 is what they hold
    time.advance(W + W / 32);
    read(202);
    expect(room(b) * 2 + 2 + 200).toBeGreaterThan(536);
  });

  it('with a stale reading that leaves no room, one request goes to read the header again, then the fresh reading rules', () => {
    const time = fakeTime();
    const b = VenueBudget.create('binance', [weight], time.now);
    time.advance(W);
    const t = take(b, 2) as Ticket;
    b.observe({ 'x-mbx-used-weight-2s': '592' }, t); // others hold 590: no room
    expect(typeof take(b, 2)).toBe('number');
    time.advance(W + W / 32); // our request left the window, the reading went stale
    const probe = take(b, 2);
    expect(typeof probe).toBe('object');
    expect(typeof take(b, 2)).toBe('number'); // one probe at a time
    b.observe({ 'x-mbx-used-weight-2s': '102' }, probe as Ticket); // the other program slowed down
    const admitted = 1 + room(b);
    expect(admitted * 2 + 100).toBeGreaterThan(536);
    expect(admitted * 2 + 100).toBeLessThanOrEqual(540);
  });

  it('our own requests answered out of order do not look like others growing in the first window', () => {
    const time = fakeTime();
    const b = VenueBudget.create('binance', [weight], time.now);
    // 16 lanes reserve at once; by the time each answer is read all 16 have arrived (used weight 32)
    const tickets = Array.from({ length: 16 }, () => take(b, 2) as Ticket);
    time.advance(W / 16);
    for (const t of tickets.reverse()) b.observe({ 'x-mbx-used-weight-2s': '32' }, t);
    // the upper reading is 30 (the first ticket's view), but nothing grew: no projection on top of it
    expect(b.snapshot().limits[0]!.foreign).toBe(30);
    const admitted = 16 + room(b);
    expect(admitted * 2).toBe(510);
  });

  it('in the first window, projects how fast others grow to the end of that window, but not their history', () => {
    const time = fakeTime();
    const b = VenueBudget.create('binance', [weight], time.now);
    const t = take(b, 2) as Ticket;
    b.observe({ 'x-mbx-used-weight-2s': '402' }, t); // 400 spent by others before we started: history
    expect(b.snapshot().limits[0]!.foreign).toBe(400);
    const c = VenueBudget.create('binance', [weight], time.now);
    const t1 = take(c, 2) as Ticket;
    c.observe({ 'x-mbx-used-weight-2s': '2' }, t1);
    time.advance(W / 4);
    const t2 = take(c, 2) as Ticket;
    c.observe({ 'x-mbx-used-weight-2s': '79' }, t2); // 75 more from a client that started with us
    // 75 per quarter window, three quarters to go: 75 + 225
    expect(c.snapshot().limits[0]!.foreign).toBe(300);
  });

  it('a stop holds every caller of the venue until it ends; only the call that extends it reports', () => {
    const time = fakeTime();
    const b = VenueBudget.create('binance', [weight], time.now);
    expect(b.stop('rate-limited', time.now() + 3000)).toBe(true);
    expect(b.stop('rate-limited', time.now() + 2000)).toBe(false);
    expect(take(b, 2)).toBe(3000);
    expect(b.snapshot().stopReason).toBe('rate-limited');
    time.advance(3000);
    expect(typeof take(b, 2)).toBe('object');
    expect(b.stop('banned', time.now() + 60_000)).toBe(true);
    expect(b.snapshot()).toMatchObject({ stopReason: 'banned', events: { rateLimited: 2, banned: 1, wafBlocked: 0 } });
    expect(take(b, 2)).toBe(60_000);
  });

  it('is one budget across worker threads: four threads together never pass the cap', async () => {
    const b = VenueBudget.create('binance', [{ ...weight, windowMs: 60_000, cap: 1000 }]);
    // The threads load the compiled class (npm test builds dist/ first).
    const url = new URL('../../dist/actors/rate-limiter.js', import.meta.url).href;
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(${JSON.stringify(url)}).then(({ VenueBudget }) => {
        const b = VenueBudget.attach(workerData);
        let n = 0;
        for (let i = 0; i < 2000; i++) if ('ticket' in b.tryAcquire(1)) n++;
        parentPort.postMessage(n);
      });
    `;
    const counts = await Promise.all(
      Array.from({ length: 4 }, () => new Promise<number>((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: b.shared });
        w.once('message', resolve);
        w.once('error', reject);
      })),
    );
    expect(counts.reduce((a, c) => a + c, 0)).toBe(1000);
    expect(b.snapshot().weightSent).toBe(1000);
  });
});
