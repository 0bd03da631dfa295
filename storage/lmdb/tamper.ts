// Deliberate damage to an LMDB store, for tests only: what a kill, a bad
// disk or a person editing the file could leave behind. Nothing in src/,
// actors/ or the rest of storage/ imports this (test/unit/storage-boundary
// checks); tests reach raw records here instead of through a handle.
import { open } from 'lmdb';
import type { StreamRef } from '../../src/slices.js';
import { openEnvironment, storePath, type Environment } from './environment.js';
import { sliceKey, streamKey } from './keys.js';

export class Tamper {
  private constructor(private readonly env: Environment) {}

  static open(dataRoot: string): Tamper {
    return new Tamper(openEnvironment(dataRoot));
  }

  /** An environment without any of its databases: what a kill leaves between LMDB creating the file and the writer creating its databases. */
  static async bareEnvironment(dataRoot: string): Promise<void> {
    const root = open({ path: storePath(dataRoot), maxDbs: 8 });
    await root.close();
  }

  /** The payload stored under `id`, as stored (no checksum check). */
  payload(id: string): Buffer | undefined {
    return this.env.payloads.get(id);
  }

  putPayload(id: string, bytes: Uint8Array): void {
    this.env.payloads.putSync(id, Buffer.from(bytes));
  }

  removePayload(id: string): void {
    this.env.payloads.removeSync(id);
  }

  /** Any value as the record of the slice stored at `startMs`. */
  putSliceRecord(ref: StreamRef, startMs: number, record: unknown): void {
    this.env.slices.putSync(sliceKey(ref, startMs), record);
  }

  /** Any value as the stream's summary. */
  putSummary(ref: StreamRef, summary: unknown): void {
    this.env.streams.putSync(streamKey(ref), summary);
  }

  /** Every slice record and summary gone, payloads kept (as the old system allowed), in one transaction. */
  async clearManifest(): Promise<void> {
    await this.env.root!.transaction(() => {
      this.env.slices.clearSync();
      this.env.streams.clearSync();
    });
  }

  async close(): Promise<void> {
    await this.env.root!.flushed;
    await this.env.root!.close();
  }
}
