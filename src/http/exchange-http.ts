// HTTP to exchanges with undici: keep-alive, bounded connections, timeouts
// for connect, headers and body, and a cap on the body size. Runs in worker
// threads (one agent per thread, shared by its fetcher actors).
import { Agent, errors as undiciErrors } from 'undici';
import { CkError } from '../errors.js';

export interface HttpSettings {
  /** Connections per origin per worker thread (default 8). */
  connections?: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  maxResponseBytes: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as it arrived, in chunks (copy them once, where they must end up). */
  chunks: Buffer[];
  size: number;
  /** The body in one buffer (joined on first use). */
  readonly body: Buffer;
  /** Local time when the last byte arrived. */
  receivedAt: number;
}

export class ExchangeHttp {
  private readonly agent: Agent;

  constructor(private readonly s: HttpSettings) {
    this.agent = new Agent({
      connections: s.connections ?? 8,
      keepAliveTimeout: 30_000,
      connect: { timeout: s.connectTimeoutMs },
      headersTimeout: s.headersTimeoutMs,
      bodyTimeout: s.bodyTimeoutMs,
    });
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<HttpResponse> {
    const deadline = AbortSignal.timeout(this.s.connectTimeoutMs + this.s.headersTimeoutMs + this.s.bodyTimeoutMs);
    try {
      const u = new URL(url);
      const res = await this.agent.request({ origin: u.origin, path: u.pathname + u.search, method: 'GET', headers, signal: deadline });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > this.s.maxResponseBytes) {
          res.body.destroy();
          throw new CkError('CK_ERR_RESPONSE_TOO_LARGE', `response from ${u.pathname} exceeded ${this.s.maxResponseBytes} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
      let joined: Buffer | null = null;
      return {
        status: res.statusCode, headers: res.headers, chunks, size, receivedAt: Date.now(),
        get body() {
          return (joined ??= Buffer.concat(chunks, size));
        },
      };
    } catch (err) {
      throw classifyTransportError(err, url);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

export function classifyTransportError(err: unknown, url: string): CkError {
  if (err instanceof CkError) return err;
  const e = err as { code?: string; name?: string; message?: string };
  const path = safePath(url);
  if (e.name === 'TimeoutError' || e.code === 'UND_ERR_CONNECT_TIMEOUT' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return new CkError('CK_ERR_FETCH_TIMEOUT', `${path}: ${e.code ?? e.name ?? 'timeout'}`, { cause: err });
  }
  if (e.code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return new CkError('CK_ERR_RESPONSE_MALFORMED', `${path}: truncated body`, { cause: err });
  }
  return new CkError('CK_ERR_FETCH_NETWORK', `${path}: ${e.code ?? e.message ?? String(err)}`, { cause: err });
}

function safePath(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname;
  } catch {
    return url;
  }
}
