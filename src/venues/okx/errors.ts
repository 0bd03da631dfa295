// OKX's error codes, in the envelope `{"code": "...", "msg": "..."}` of any
// HTTP status (docs/exchanges.md): 50011 rate limit (also with HTTP 429), 50013
// busy (429), 50001 unavailable (503), 51000 bad parameter (400), 51001
// unknown instrument (often HTTP 200).
import { CkError } from '../../errors.js';
import type { ResponseHeaders } from '../../http/headers.js';

/** OKX's windows are 2 s: a rate-limited venue pauses for one. */
const RATE_PAUSE_MS = 2000;

export function classifyOkx(status: number, _headers: ResponseHeaders, body: string): CkError {
  let code = '';
  let msg = '';
  try {
    const e = JSON.parse(body) as { code?: unknown; msg?: unknown };
    code = typeof e.code === 'string' ? e.code : '';
    msg = typeof e.msg === 'string' ? e.msg : '';
  } catch {
    // not JSON: a proxy's HTML page
  }
  const said = code ? ` (${code}: ${msg})` : '';
  if (code === '50011' || (status === 429 && code !== '50013')) return new CkError('CK_ERR_RATE_LIMITED', `HTTP ${status}${said}`, { retryAfterMs: RATE_PAUSE_MS });
  if (code === '50013' || code === '50001' || status >= 500) return new CkError('CK_ERR_HTTP_5XX', `HTTP ${status}${said}`);
  if (code === '51001') return new CkError('CK_ERR_UNKNOWN_SYMBOL', `exchange says unknown instrument${said}`);
  return new CkError('CK_ERR_EXCHANGE_REJECTED', `HTTP ${status}${said}`);
}
