import { describe, expect, it } from 'vitest';
import { OUTAGE_AFTER_FAILURES, VenueOutages } from '../../src/venue-outages.js';

describe('VenueOutages', () => {
  it('reports an outage once, after the threshold of failures in a row, and its end once', () => {
    const o = new VenueOutages();
    expect(OUTAGE_AFTER_FAILURES).toBe(3);
    expect(o.observe('binance', 'CK_ERR_FETCH_NETWORK', 100)).toBeNull();
    expect(o.observe('binance', 'CK_ERR_HTTP_5XX', 200)).toBeNull();
    expect(o.current('binance')).toBeNull();
    expect(o.observe('binance', 'CK_ERR_FETCH_TIMEOUT', 300)).toEqual({ type: 'venue.unreachable', venue: 'binance', outage: { since: 100, failures: 3, lastCode: 'CK_ERR_FETCH_TIMEOUT' } });
    expect(o.observe('binance', 'CK_ERR_FETCH_NETWORK', 400)).toBeNull();
    expect(o.current('binance')).toEqual({ since: 100, failures: 4, lastCode: 'CK_ERR_FETCH_NETWORK' });
    expect(o.current('okx')).toBeNull();
    expect(o.observe('binance', null, 500)).toEqual({ type: 'venue.reachable', venue: 'binance', ended: { from: 100, to: 500, failures: 4 } });
    expect(o.current('binance')).toBeNull();
    expect(o.lastEnded('binance')).toEqual({ from: 100, to: 500, failures: 4 });
  });

  it('an answer between failures (a 429, a bad body, a 200) restarts the count; a short blip is never reported', () => {
    const o = new VenueOutages();
    o.observe('binance', 'CK_ERR_FETCH_NETWORK', 1);
    o.observe('binance', 'CK_ERR_FETCH_NETWORK', 2);
    expect(o.observe('binance', 'CK_ERR_RATE_LIMITED', 3)).toBeNull();
    expect(o.observe('binance', 'CK_ERR_FETCH_NETWORK', 4)).toBeNull();
    expect(o.observe('binance', 'CK_ERR_FETCH_NETWORK', 5)).toBeNull();
    expect(o.observe('binance', null, 6)).toBeNull();
    expect(o.lastEnded('binance')).toBeNull();
    expect(o.observe('binance', 'CK_ERR_VALIDATION', 7)).toBeNull();
  });
});
