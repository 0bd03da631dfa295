// Piscina's entry in each worker thread. Two kinds of task: a long-lived
// fetcher actor (one per stream), and a one-off GET for the main thread
// (exchangeInfo at start), so that every exchange request goes out from a
// worker and the main thread never loads the HTTP client.
import type { ResponseHeaders } from '../src/http/headers.js';
import { toWireError, type WireError } from '../src/errors.js';
import type { HttpSettings } from '../src/http/exchange-http.js';
import { setFlagsFromString } from 'node:v8';
import { workerData } from 'node:worker_threads';
import { prepareKlineScanner, useKlineScanModule } from '../src/venues/binance/kline-scan.js';
import { httpFor, runFetcher, type FetcherResult, type FetcherTask } from './fetcher.js';

// undici's HTTP/1.1 parser (llhttp) is WebAssembly, compiled at the thread's
// first connection: Liftoff, then TurboFan in the background, about 150
// CPU-ms per thread while the first responses arrive. Its work per response
// is small (the headers, then counting body bytes), so the Liftoff code is
// kept. Set here, once the thread has booted: a V8 flag changed before a
// thread starts makes V8 refuse Node's built-in code cache for it (about 50
// ms more to boot). Flags are process-wide: the klines scanner, also
// WebAssembly but all work, comes compiled with TurboFan from the main
// thread (workerData, src/daemon.ts); a pool started without it compiles
// its own first.
const handed = (workerData as { klineScanModule?: object } | null)?.klineScanModule;
if (handed) useKlineScanModule(handed);
prepareKlineScanner();
setFlagsFromString('--liftoff-only');

export interface GetTask {
  kind: 'get';
  url: string;
  settings: HttpSettings;
}

export type GetResult =
  | { status: number; headers: ResponseHeaders; body: Uint8Array; receivedAt: number }
  | { error: WireError };

export default function workerTask(task: FetcherTask | GetTask): Promise<FetcherResult | GetResult> {
  return 'kind' in task ? getOnce(task) : runFetcher(task);
}

async function getOnce(task: GetTask): Promise<GetResult> {
  try {
    const res = await httpFor(task.settings).get(task.url);
    return { status: res.status, headers: res.headers, body: res.body, receivedAt: res.receivedAt };
  } catch (err) {
    return { error: toWireError(err) };
  }
}
