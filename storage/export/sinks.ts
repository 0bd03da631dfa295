// Where exported candles go: one sink per format. Rows arrive in time order
// and are written in bounded chunks, so memory stays constant however long
// the stream is.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { ParquetWriter } from 'hyparquet-writer';
import type { KlineRow } from '../stream-reader.js';

export const FORMATS = ['csv', 'ndjson', 'parquet', 'json-tree'] as const;
export type ExportFormat = (typeof FORMATS)[number];
export type RowFormat = Exclude<ExportFormat, 'json-tree'>;

export interface CandleSink {
  write(row: KlineRow, synthetic: boolean): void;
  /** Bytes already in the sink's format (CSV lines from a body), when the sink takes them. */
  writeRaw?(bytes: Uint8Array): void;
  close(): void;
}

/** The Binance archive's column order (the futures archive's header names). */
export const CSV_COLUMNS = ['open_time', 'open', 'high', 'low', 'close', 'volume', 'close_time', 'quote_volume', 'count', 'taker_buy_volume', 'taker_buy_quote_volume', 'ignore'];

export interface SinkOptions {
  /** Adds the `synthetic` column (ffill). */
  synthetic: boolean;
  /** CSV only: a header line first. */
  header: boolean;
}

export async function openSink(format: RowFormat, path: string, o: SinkOptions): Promise<CandleSink> {
  switch (format) {
    case 'csv': return new TextSink(path, o.header ? [...CSV_COLUMNS, ...(o.synthetic ? ['synthetic'] : [])].join(',') + '\n' : '', o.synthetic ? csvSynthetic : csvRow);
    case 'ndjson': return new TextSink(path, '', o.synthetic ? ndjsonSynthetic : ndjsonRow);
    case 'parquet': return new ParquetSink(await import('hyparquet-writer'), path, o.synthetic); // loaded only when asked for
  }
}

const csvRow = (r: KlineRow) => `${r.join(',')}\n`;
const csvSynthetic = (r: KlineRow, synthetic: boolean) => `${r.join(',')},${synthetic}\n`;
const ndjsonBody = (r: KlineRow) =>
  `{"openTime":${r[0]},"open":"${r[1]}","high":"${r[2]}","low":"${r[3]}","close":"${r[4]}","volume":"${r[5]}","closeTime":${r[6]},"quoteVolume":"${r[7]}","trades":${r[8]},"takerBuyBaseVolume":"${r[9]}","takerBuyQuoteVolume":"${r[10]}"`;
const ndjsonRow = (r: KlineRow) => `${ndjsonBody(r)}}\n`;
const ndjsonSynthetic = (r: KlineRow, synthetic: boolean) => `${ndjsonBody(r)},"synthetic":${synthetic}}\n`;

/** Text formats: lines gathered into ~1 MB chunks, written synchronously. */
class TextSink implements CandleSink {
  private readonly fd: number;
  private chunk: string[] = [];
  private size = 0;

  constructor(path: string, first: string, private readonly line: (r: KlineRow, synthetic: boolean) => string) {
    this.fd = openSync(path, 'w');
    if (first) writeSync(this.fd, first);
  }

  write(row: KlineRow, synthetic: boolean): void {
    const l = this.line(row, synthetic);
    this.chunk.push(l);
    this.size += l.length;
    if (this.size > 1 << 20) this.flush();
  }

  writeRaw(bytes: Uint8Array): void {
    this.flush();
    writeSync(this.fd, bytes);
  }

  private flush(): void {
    if (this.chunk.length === 0) return;
    writeSync(this.fd, this.chunk.join(''));
    this.chunk = [];
    this.size = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

const ROW_GROUP = 100_000;
const DOUBLES = [[1, 'open'], [2, 'high'], [3, 'low'], [4, 'close'], [5, 'volume'], [7, 'quote_volume'], [9, 'taker_buy_base_volume'], [10, 'taker_buy_quote_volume']] as const;

/**
 * Parquet: times as TIMESTAMP(MILLIS) int64, prices and volumes as doubles,
 * the trade count as int64; one row group per 100,000 rows.
 */
class ParquetSink implements CandleSink {
  private readonly writer: ParquetWriter;
  private n = 0;
  private readonly openTime = new BigInt64Array(ROW_GROUP);
  private readonly closeTime = new BigInt64Array(ROW_GROUP);
  private readonly trades = new BigInt64Array(ROW_GROUP);
  private readonly doubles = DOUBLES.map(() => new Float64Array(ROW_GROUP));
  private readonly synthetic: boolean[] = [];

  constructor(lib: typeof import('hyparquet-writer'), path: string, private readonly withSynthetic: boolean) {
    this.writer = new lib.ParquetWriter({ writer: lib.fileWriter(path), schema: lib.schemaFromColumnData({ columnData: this.columns(0) }), createdBy: 'candlekeep' });
  }

  private columns(n: number) {
    const cols: Array<{ name: string; data: BigInt64Array | Float64Array | boolean[]; type: 'TIMESTAMP' | 'DOUBLE' | 'INT64' | 'BOOLEAN'; nullable: false }> = [
      { name: 'open_time', data: this.openTime.subarray(0, n), type: 'TIMESTAMP', nullable: false },
      ...DOUBLES.slice(0, 5).map(([, name], i) => ({ name, data: this.doubles[i]!.subarray(0, n), type: 'DOUBLE' as const, nullable: false as const })),
      { name: 'close_time', data: this.closeTime.subarray(0, n), type: 'TIMESTAMP', nullable: false },
      { name: 'quote_volume', data: this.doubles[5]!.subarray(0, n), type: 'DOUBLE', nullable: false },
      { name: 'trades', data: this.trades.subarray(0, n), type: 'INT64', nullable: false },
      ...DOUBLES.slice(6).map(([, name], i) => ({ name, data: this.doubles[6 + i]!.subarray(0, n), type: 'DOUBLE' as const, nullable: false as const })),
    ];
    if (this.withSynthetic) cols.push({ name: 'synthetic', data: this.synthetic.slice(0, n), type: 'BOOLEAN', nullable: false });
    return cols;
  }

  write(r: KlineRow, synthetic: boolean): void {
    const i = this.n++;
    this.openTime[i] = BigInt(r[0]);
    this.closeTime[i] = BigInt(r[6]);
    this.trades[i] = BigInt(r[8]);
    for (let d = 0; d < DOUBLES.length; d++) this.doubles[d]![i] = Number(r[DOUBLES[d]![0]]);
    if (this.withSynthetic) this.synthetic[i] = synthetic;
    if (this.n === ROW_GROUP) this.flush();
  }

  private flush(): void {
    if (this.n === 0) return;
    void this.writer.write({ columnData: this.columns(this.n), rowGroupSize: this.n });
    this.n = 0;
  }

  close(): void {
    this.flush();
    void this.writer.finish(); // synchronous with fileWriter: the file is complete on return
  }
}
