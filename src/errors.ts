// The one catalog of candlekeep error codes. Decide by `code`, never by
// `instanceof`: errors cross worker threads as plain `{ code, message, retryable }`.

export interface ErrorDef {
  /** Exit code when this error ends the process. 2 = the user's mistake. */
  readonly exit: number;
  /** Whether retrying the same operation later can succeed. */
  readonly retryable: boolean;
  /** One line for the README's error table. */
  readonly meaning: string;
}

export const ERRORS = {
  CK_ERR_USAGE: { exit: 2, retryable: false, meaning: 'Unknown subcommand or flag, or a flag without its value.' },
  CK_ERR_CONFIG_NOT_FOUND: { exit: 2, retryable: false, meaning: 'The config file does not exist or cannot be read.' },
  CK_ERR_CONFIG_INVALID: { exit: 2, retryable: false, meaning: 'The config is not valid JSON or breaks the schema; every problem is listed with its path.' },
  CK_ERR_NO_DATA: { exit: 2, retryable: false, meaning: 'The data root holds no candlekeep store (wrong --config or --data-root?).' },
  CK_ERR_STREAM_NOT_FOUND: { exit: 2, retryable: false, meaning: '`export --stream` names no stored stream (the closest is suggested).' },
  CK_ERR_DATA_ROOT_LOCKED: { exit: 2, retryable: false, meaning: 'Another candlekeep daemon holds the data root (see `daemon.lock`); also stops `rebuild-manifest` while a daemon runs.' },
  CK_ERR_GEOMETRY_CHANGED: { exit: 2, retryable: false, meaning: "A stream's configured `limit`, or a `start` off its stored slice grid, would cut other windows than those stored (and store candles twice); nothing is written. The message names the stored values and a start that fits." },
  CK_ERR_HTTP_LISTEN: { exit: 2, retryable: false, meaning: 'The metrics/health server cannot listen on `http.host:http.port` (in use, or not allowed).' },
  CK_ERR_UNKNOWN_SYMBOL: { exit: 2, retryable: false, meaning: 'The exchange does not list the symbol (Binance -1121); its streams stop.' },
  CK_ERR_INVALID_INTERVAL: { exit: 2, retryable: false, meaning: 'The exchange rejects the interval (Binance -1120).' },
  CK_ERR_EXCHANGE_REJECTED: { exit: 1, retryable: false, meaning: 'The exchange answered 4xx with an error code that retrying cannot fix (-1100, -1102, -1104, -1130, ...).' },
  CK_ERR_FETCH_TIMEOUT: { exit: 1, retryable: true, meaning: 'Connect, headers or body took longer than its timeout.' },
  CK_ERR_FETCH_NETWORK: { exit: 1, retryable: true, meaning: 'The connection failed or was reset.' },
  CK_ERR_HTTP_5XX: { exit: 1, retryable: true, meaning: "The exchange answered 5xx or a busy/timeout code (-1000, -1001, -1007, -1008)." },
  CK_ERR_RATE_LIMITED: { exit: 1, retryable: true, meaning: 'HTTP 429: the venue pauses for Retry-After.' },
  CK_ERR_IP_BANNED: { exit: 1, retryable: true, meaning: 'HTTP 418: the IP is banned; the venue stops until the ban ends.' },
  CK_ERR_WAF_BLOCKED: { exit: 1, retryable: true, meaning: 'HTTP 403 (web application firewall); the venue pauses.' },
  CK_ERR_RESPONSE_MALFORMED: { exit: 1, retryable: true, meaning: 'The body was truncated, not JSON, or not the expected shape.' },
  CK_ERR_RESPONSE_TOO_LARGE: { exit: 1, retryable: true, meaning: 'The body exceeded the response size cap.' },
  CK_ERR_VALIDATION: { exit: 1, retryable: true, meaning: 'Rows failed validation (outside the window, disordered, inconsistent); nothing was committed.' },
  CK_ERR_STORAGE: { exit: 1, retryable: false, meaning: 'LMDB could not be opened or written.' },
  CK_ERR_STORE_CORRUPT: { exit: 1, retryable: false, meaning: 'A stored payload does not match the checksum recorded with its slice (damaged on disk); the command stops before using it and names the stream and slice. `verify` lists every such slice; stop the daemon and run `rebuild-manifest` to drop them, and the next run fetches them again.' },
  CK_ERR_ACTOR_CRASHED: { exit: 1, retryable: false, meaning: 'A fetcher actor crashed past its restart intensity and was stopped.' },
  CK_ERR_STREAM_FAILED: { exit: 1, retryable: false, meaning: 'A stream gave up: a slice failed more than `maxAttempts` times during `backfill`.' },
  CK_ERR_VERIFY_FAILED: { exit: 1, retryable: false, meaning: '`verify` found problems; each is printed with its slice key.' },
  CK_ERR_INTERNAL: { exit: 1, retryable: false, meaning: 'A bug: please report it with the log line.' },
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof ERRORS;

/** The form an error takes on a MessagePort. */
export interface WireError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  /** How long the exchange asked us to wait (429/418/403), when it said. */
  retryAfterMs?: number;
}

export class CkError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retryable?: boolean; retryAfterMs?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CkError';
    this.code = code;
    this.retryable = options.retryable ?? ERRORS[code].retryable;
    this.retryAfterMs = options.retryAfterMs;
  }

  get exitCode(): number {
    return ERRORS[this.code].exit;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

/** Any thrown value as plain data that survives postMessage. */
export function toWireError(err: unknown): WireError {
  const e = err as { code?: unknown; message?: unknown; retryable?: unknown; retryAfterMs?: unknown } | null;
  if (e && isErrorCode(e.code)) {
    const wire: WireError = { code: e.code, message: String(e.message), retryable: Boolean(e.retryable) };
    if (typeof e.retryAfterMs === 'number') wire.retryAfterMs = e.retryAfterMs;
    return wire;
  }
  const message = e && typeof e.message === 'string' ? e.message : String(err);
  return { code: 'CK_ERR_INTERNAL', message, retryable: false };
}

export function fromWireError(wire: WireError): CkError {
  return new CkError(wire.code, wire.message, {
    retryable: wire.retryable,
    ...(wire.retryAfterMs === undefined ? {} : { retryAfterMs: wire.retryAfterMs }),
  });
}
