// The root pino logger: JSON lines with `pid` on every record. Worker-thread
// actors log through their port; their records arrive here with the
// stream's fields attached. Destinations: stdout (pretty only on a
// terminal), and with a log directory a file rotated by size and day, plus
// with `splitByStream` one file per stream. Files never get ANSI codes.
import { appendFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { StreamRef } from './slices.js';

export type { Logger };

export interface LogOptions {
  level: string;
  /** Directory for log files; none when null. */
  dir: string | null;
  splitByStream: boolean;
  /** Rotate a file past this size (default 50 MB). */
  maxFileBytes?: number;
}

export async function createDaemonLogger(o: LogOptions): Promise<Logger> {
  const stdout: pino.DestinationStream = process.stdout.isTTY
    ? (await import('pino-pretty')).default({ colorize: true, translateTime: 'SYS:standard', destination: 1, sync: false }) // loaded only for a terminal
    : pino.destination({ fd: 1, sync: false });
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: stdout }];
  if (o.dir) streams.push({ level: 'trace', stream: new LogFiles(o.dir, o.splitByStream, o.maxFileBytes ?? 50 * 1024 * 1024) });
  return pino({ level: o.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.multistream(streams));
}

export function streamFields(s: StreamRef): Record<string, string> {
  return { venue: s.venue, endpoint: s.endpoint, symbol: s.symbol, interval: s.interval };
}

/** `candlekeep.<day>.<n>.log`, and with splitting `streams/<venue>_<endpoint>_<SYMBOL>_<interval>.<day>.<n>.log`. */
class LogFiles implements pino.DestinationStream {
  private readonly main: RotatingFile;
  private readonly perStream = new Map<string, RotatingFile>();

  constructor(private readonly dir: string, private readonly split: boolean, private readonly maxBytes: number) {
    mkdirSync(dir, { recursive: true });
    this.main = new RotatingFile(dir, 'candlekeep', maxBytes);
  }

  write(line: string): void {
    this.main.write(line);
    if (!this.split) return;
    const stream = /"stream":"([^"]+)"/.exec(line)?.[1];
    if (!stream) return;
    let f = this.perStream.get(stream);
    if (!f) {
      mkdirSync(join(this.dir, 'streams'), { recursive: true });
      f = new RotatingFile(join(this.dir, 'streams'), stream.replace(/[^A-Za-z0-9._-]/g, '_'), this.maxBytes);
      this.perStream.set(stream, f);
    }
    f.write(line);
  }
}

/** Appends lines to `<base>.<YYYY-MM-DD>.<n>.log`, moving to n+1 past `maxBytes` and to a new file each UTC day. */
export class RotatingFile {
  private day = '';
  private index = 0;
  private size = 0;

  constructor(private readonly dir: string, private readonly base: string, private readonly maxBytes: number, private readonly now: () => number = Date.now) {}

  get path(): string {
    return join(this.dir, `${this.base}.${this.day}.${this.index}.log`);
  }

  write(line: string): void {
    const day = new Date(this.now()).toISOString().slice(0, 10);
    if (day !== this.day) this.open(day);
    if (this.size > 0 && this.size + line.length > this.maxBytes) {
      this.index++;
      this.size = 0;
    }
    appendFileSync(this.path, line); // opened per line: no descriptor held per stream
    this.size += Buffer.byteLength(line);
  }

  /** Continues today's highest-numbered file after a restart. */
  private open(day: string): void {
    this.day = day;
    const prefix = `${this.base}.${day}.`;
    const existing = readdirSync(this.dir).filter((f) => f.startsWith(prefix) && f.endsWith('.log')).map((f) => Number(f.slice(prefix.length, -4))).filter(Number.isInteger);
    this.index = existing.length ? Math.max(...existing) : 0;
    try {
      this.size = statSync(this.path).size;
    } catch {
      this.size = 0;
    }
  }
}
