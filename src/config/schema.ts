// The config file's schema (zod). Validated once at start, then frozen;
// the JSON Schema shipped for editors is generated from this file.
import { z } from 'zod';
import { VENUES, VENUE_NAMES } from '../venues/index.js';

/** A candle counts as final this long after its close (`fetcher.settleMs`); also what data-root commands assume without a config. */
export const DEFAULT_SETTLE_MS = 1000;

export const SYMBOL_PATTERN = /^[A-Z0-9][A-Z0-9-]{1,29}$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const list = (values: readonly string[]) => values.join(', ');

/** ISO date string or epoch milliseconds. */
const instant = z.union([
  z.number().int().nonnegative(),
  z.string().refine((s) => /^\d{4}-\d{2}-\d{2}/.test(s) && Number.isFinite(Date.parse(s)), {
    error: (iss) => `${JSON.stringify(iss.input)} is not an ISO date (e.g. "2024-01-01" or "2024-01-01T00:00:00Z") or epoch milliseconds`,
  }),
], { error: (iss) => `${JSON.stringify(iss.input)} is not an ISO date or epoch milliseconds` });

const venueSchema = z.strictObject({
  baseUrl: z.url({ protocol: /^https?$/, error: (iss) => `${JSON.stringify(iss.input)} is not an http(s) URL` }).optional(),
  maxBudgetShare: z.number().gt(0).max(1).default(0.9),
});

const streamSchema = z.strictObject({
  venue: z.enum(VENUE_NAMES as [string, ...string[]], {
    error: (iss) => `${JSON.stringify(iss.input)} is not a venue; use one of ${list(VENUE_NAMES)}`,
  }),
  endpoint: z.string(),
  symbols: z.array(z.string().regex(SYMBOL_PATTERN, {
    error: (iss) => `${JSON.stringify(iss.input)} is not a symbol; symbols are 2-30 characters A-Z, 0-9 and - (e.g. "BTCUSDT", OKX "BTC-USDT")`,
  })).min(1, { error: 'list at least one symbol' }),
  intervals: z.array(z.string()).min(1, { error: 'list at least one interval' }),
  start: instant,
  end: instant.optional(),
  limit: z.number().int().min(1).optional(),
}).superRefine((s, ctx) => {
  const venue = VENUES[s.venue];
  if (!venue) return;
  const endpoint = venue.endpoints[s.endpoint];
  if (!endpoint) {
    ctx.addIssue({ code: 'custom', path: ['endpoint'], message: `${JSON.stringify(s.endpoint)} is not a ${s.venue} endpoint; use one of ${list(Object.keys(venue.endpoints))}` });
  } else if (s.limit !== undefined && s.limit > endpoint.maxLimit) {
    ctx.addIssue({ code: 'custom', path: ['limit'], message: `${s.limit} is above the ${venueTitle(s.venue)} ${s.endpoint} maximum of ${endpoint.maxLimit}` });
  }
  const intervals = endpoint?.intervals ?? venue.intervals;
  s.intervals.forEach((iv, i) => {
    if (!(intervals as readonly string[]).includes(iv)) {
      const what = endpoint?.intervals ? `${venueTitle(s.venue)} ${s.endpoint} interval (the funding period)` : `${venueTitle(s.venue)} interval`;
      ctx.addIssue({ code: 'custom', path: ['intervals', i], message: `${JSON.stringify(iv)} is not ${/^[AEIOU]/.test(what) ? 'an' : 'a'} ${what}; use one of ${list(intervals)}` });
    }
  });
  const seen = new Set<string>();
  s.symbols.forEach((sym, i) => {
    if (seen.has(sym)) ctx.addIssue({ code: 'custom', path: ['symbols', i], message: `${JSON.stringify(sym)} is listed twice` });
    seen.add(sym);
  });
  if (s.end !== undefined && toMs(s.end) <= toMs(s.start)) {
    ctx.addIssue({ code: 'custom', path: ['end'], message: 'end must be after start' });
  }
});

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  dataRoot: z.string().min(1).optional(),
  http: z.strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(9464),
  }).default({ host: '127.0.0.1', port: 9464 }),
  venues: z.strictObject(Object.fromEntries(VENUE_NAMES.map((n) => [n, venueSchema.optional()]))).default({}),
  streams: z.array(streamSchema).min(1, { error: 'list at least one stream' }),
  logging: z.strictObject({
    level: z.enum(LOG_LEVELS, { error: (iss) => `${JSON.stringify(iss.input)} is not a log level; use one of ${list(LOG_LEVELS)}` }).default('info'),
    dir: z.string().min(1).optional(),
    splitByStream: z.boolean().default(false),
  }).default({ level: 'info', splitByStream: false }),
  fetcher: z.strictObject({
    concurrency: z.number().int().min(1).max(16).default(2),
    maxUncommitted: z.number().int().min(1).max(64).default(4),
    connectTimeoutMs: z.number().int().min(100).default(5000),
    headersTimeoutMs: z.number().int().min(100).default(10_000),
    bodyTimeoutMs: z.number().int().min(100).default(15_000),
    maxResponseBytes: z.number().int().min(1024).default(16 * 1024 * 1024),
    maxAttempts: z.number().int().min(1).default(8),
    settleMs: z.number().int().min(0).default(DEFAULT_SETTLE_MS),
    timeSyncMs: z.number().int().min(100).default(30_000),
  }).default({
    concurrency: 2, maxUncommitted: 4, connectTimeoutMs: 5000, headersTimeoutMs: 10_000,
    bodyTimeoutMs: 15_000, maxResponseBytes: 16 * 1024 * 1024, maxAttempts: 8, settleMs: DEFAULT_SETTLE_MS, timeSyncMs: 30_000,
  }),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;

export function toMs(v: number | string): number {
  return typeof v === 'number' ? v : Date.parse(v);
}

function venueTitle(name: string): string {
  return VENUES[name]?.title ?? name;
}
