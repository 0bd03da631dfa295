// Reads, validates and freezes the config. Nothing is written anywhere
// until this has succeeded: a bad config exits 2 with every problem listed.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { CkError } from '../errors.js';
import type { Interval } from '../intervals.js';
import { geometry, streamName, type StreamGeometry } from '../slices.js';
import { VENUES } from '../venues/index.js';
import { formatIssues } from './format-issues.js';
import { configSchema, toMs, type ParsedConfig } from './schema.js';

export interface StreamSpec extends StreamGeometry {
  /** `venue:endpoint:SYMBOL:interval` */
  name: string;
}

export interface VenueSettings {
  baseUrl: string;
  maxBudgetShare: number;
}

export interface Config {
  configPath: string;
  dataRoot: string;
  http: ParsedConfig['http'];
  venues: Readonly<Record<string, VenueSettings>>;
  streams: readonly StreamSpec[];
  logging: { level: ParsedConfig['logging']['level']; dir: string; splitByStream: boolean };
  fetcher: ParsedConfig['fetcher'];
}

export interface LoadOptions {
  dataRootFlag?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

export function loadConfig(path: string, options: LoadOptions = {}): Config {
  const configPath = resolve(path);
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (cause) {
    throw new CkError('CK_ERR_CONFIG_NOT_FOUND', `${path}: cannot read the config file (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new CkError('CK_ERR_CONFIG_INVALID', `${path}: not valid JSON (${(cause as Error).message})`, { cause });
  }
  return parseConfig(raw, configPath, options);
}

export function parseConfig(raw: unknown, configPath: string, options: LoadOptions = {}): Config {
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const lines = formatIssues(result.error.issues, configSchema);
    throw new CkError('CK_ERR_CONFIG_INVALID', lines.join('\n'));
  }
  const c = result.data;
  const env = options.env ?? process.env;
  const baseDir = dirname(configPath);
  const dataRoot = options.dataRootFlag !== undefined
    ? resolve(options.dataRootFlag)
    : c.dataRoot !== undefined
      ? resolve(baseDir, c.dataRoot)
      : defaultDataRoot(env);

  const venues: Record<string, VenueSettings> = {};
  for (const [name, def] of Object.entries(VENUES)) {
    const v = c.venues[name];
    venues[name] = { baseUrl: (v?.baseUrl ?? def.defaultBaseUrl).replace(/\/+$/, ''), maxBudgetShare: v?.maxBudgetShare ?? 0.9 };
  }

  const streams: StreamSpec[] = [];
  const definedBy = new Map<string, number>();
  const problems: string[] = [];
  c.streams.forEach((s, i) => {
    const endpoint = VENUES[s.venue]!.endpoints[s.endpoint]!;
    for (const symbol of s.symbols) {
      for (const interval of s.intervals as Interval[]) {
        const g = geometry({ venue: s.venue, endpoint: s.endpoint, symbol, interval }, toMs(s.start), s.end === undefined ? null : toMs(s.end), s.limit ?? endpoint.defaultLimit);
        const name = streamName(g);
        const first = definedBy.get(name);
        if (first !== undefined) problems.push(`streams[${i}]: ${name} is already defined by streams[${first}]`);
        definedBy.set(name, i);
        streams.push(Object.freeze({ ...g, name }));
      }
    }
  });
  if (problems.length > 0) throw new CkError('CK_ERR_CONFIG_INVALID', problems.join('\n'));

  return deepFreeze({
    configPath,
    dataRoot,
    http: c.http,
    venues,
    streams,
    logging: { level: c.logging.level, dir: c.logging.dir ? resolve(baseDir, c.logging.dir) : resolve(dataRoot, 'logs'), splitByStream: c.logging.splitByStream },
    fetcher: c.fetcher,
  });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** The data root when neither a flag nor the config names one: CANDLEKEEP_DATA_ROOT, else ~/.candlekeep. */
export function defaultDataRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.CANDLEKEEP_DATA_ROOT ? resolve(env.CANDLEKEEP_DATA_ROOT) : resolve(homedir(), '.candlekeep');
}
