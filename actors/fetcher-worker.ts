// Piscina's entry in each worker thread. Two kinds of task: a long-lived
// fetcher actor (one per stream), and a one-off GET for the main thread
// (exchangeInfo at start), so that every exchange request goes out from a
// worker and the main thread never loads the HTTP client.
import type { ResponseHeaders } from '../src/http/headers.js';
import { toWireError, type WireError } from '../src/errors.js';
import type { HttpSettings } from '../src/http/exchange-http.js';
import { httpFor, runFetcher, type FetcherResult, type FetcherTask } from './fetcher.js';

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
