// Piscina's entry in each worker thread: every task is one long-lived fetcher actor.
import { runFetcher, type FetcherResult, type FetcherTask } from './fetcher.js';

export default function fetcherTask(task: FetcherTask): Promise<FetcherResult> {
  return runFetcher(task);
}
