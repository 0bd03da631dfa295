// The root pino logger: JSON lines with `pid` on every record. Worker-thread
// actors log through their port; their records arrive here with the
// stream's fields attached.
import pino, { type Logger } from 'pino';
import type { StreamRef } from './slices.js';

export type { Logger };

export function createLogger(level: string, destination: pino.DestinationStream | number = 1): Logger {
  const dest = typeof destination === 'number' ? pino.destination({ fd: destination, sync: false }) : destination;
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

export function streamFields(s: StreamRef): Record<string, string> {
  return { venue: s.venue, endpoint: s.endpoint, symbol: s.symbol, interval: s.interval };
}
