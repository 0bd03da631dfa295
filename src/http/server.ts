// The daemon's own HTTP endpoint (node:http): /metrics for Prometheus and
// the probes. Only GET and HEAD; other methods 405, unknown paths 404.
// Nothing here waits on the exchange, so an exchange outage never fails
// /livez; a slow or hostile client cannot hold the event loop (small
// timeouts, bounded headers).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { CkError } from '../errors.js';
import { health, type DaemonView } from '../observe.js';

export interface ObservabilityServer {
  url: string;
  close(): Promise<void>;
}

export async function startHttpServer(host: string, port: number, registry: Registry, view: () => DaemonView | null): Promise<ObservabilityServer> {
  const server: Server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
    void handle(req, res, registry, view).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`internal error: ${(err as Error).message}\n`);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new CkError(err.code === 'EADDRINUSE' || err.code === 'EACCES' ? 'CK_ERR_HTTP_LISTEN' : 'CK_ERR_INTERNAL', `cannot listen on ${host}:${port}: ${err.code ?? err.message}`)));
    server.listen(port, host, resolve);
  });
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, registry: Registry, view: () => DaemonView | null): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const send = (status: number, type: string, body: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body), ...extra });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const known = path === '/metrics' || path === '/livez' || path === '/readyz' || path === '/health';
  if (!known) return send(404, 'text/plain; charset=utf-8', 'not found: try /metrics, /livez, /readyz or /health\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
  const v = view();
  switch (path) {
    case '/livez':
      // The process and its event loop answer: that is all liveness means.
      return send(200, 'text/plain; charset=utf-8', 'ok\n');
    case '/readyz': {
      const r = v?.ready() ?? { ok: false, why: ['starting'] };
      return send(r.ok ? 200 : 503, 'text/plain; charset=utf-8', r.ok ? 'ready\n' : `not ready: ${r.why.join('; ')}\n`);
    }
    case '/health': {
      if (!v) return send(503, 'application/json', JSON.stringify({ status: 'fail', reasons: ['starting'] }));
      const h = health(v);
      return send(h.status === 'fail' ? 503 : 200, 'application/health+json', JSON.stringify(h, null, 2));
    }
    case '/metrics':
      return send(200, registry.contentType, await registry.metrics());
  }
}
