// The venue registry: the only place that lists venues by name.
import { binance, binanceus, binanceusdm } from './binance/venue.js';
import { okx } from './okx/venue.js';
import type { VenueDef } from './venue.js';

export const VENUES: Readonly<Record<string, VenueDef>> = { binance, binanceus, binanceusdm, okx };
export const VENUE_NAMES = Object.keys(VENUES);

export function venueByName(name: string): VenueDef {
  const v = VENUES[name];
  if (!v) throw new Error(`unknown venue ${name}`);
  return v;
}
