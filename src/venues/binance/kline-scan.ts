// The hot path: validate a klines body straight from its bytes, without
// JSON.parse or any per-row object. The scanner is WebAssembly
// (kline-scan.wat, assembled into kline-scan-wasm.ts by `npm run wasm`): it
// reads exactly the compact form the exchange sends (no whitespace) and
// accepts what validateKlines accepts, computing the same facts, for the
// intervals of a fixed length; for anything else (1w, 1M, whitespace, an
// odd number, a bad row) it returns null and the caller falls back to
// JSON.parse + validateKlines, which decides and explains.
//
// A body it accepted is then packed, losslessly, to half its size (4 bits a
// character; kline-scan.wat says how, about 0.02 ms per 1000 rows); the
// fetcher stores the packed form (src/payload.ts, `CKP2`) and readers get
// the body back byte for byte (`unpackKlineBody`): half the bytes for LMDB
// to copy and for the kernel to write into new file pages, which cost more
// than the packing.
//
// Measured on 1000-row bodies (the body copied into the module's memory
// included): about 0.10-0.15 ms, against 0.26-0.45 ms for the JavaScript
// scanner it replaced and 0.9 ms for JSON.parse alone. Only with TurboFan's
// code: V8's baseline WebAssembly compiler (Liftoff) runs it slower than the
// JavaScript did, hence `prepareKlineScanner` below.
import { setFlagsFromString } from 'node:v8';
import { intervalMs } from '../../intervals.js';
import type { RowFacts, ValidationContext } from '../venue.js';
import { KLINE_SCAN_WASM } from './kline-scan-wasm.js';

/** Where the body goes in the module's memory (kline-scan.wat lays it out). */
const BODY = 65536;
const GAPS = 0;
const ANOMALIES = 32768;
const PAGE = 65536;

/** The few WebAssembly types used here (this project's TypeScript has no DOM library). */
interface Global {
  readonly value: number;
}
interface ScanExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  scan(len: number, sliceStart: number, sliceEnd: number, step: number, exchangeNow: number): number;
  pack(len: number, out: number): number;
  unpack(at: number, out: number): number;
  csv(at: number, len: number, out: number): number;
  rows: Global;
  firstOpen: Global;
  lastOpen: Global;
  lastClosedClose: Global;
  hasOpenCandle: Global;
  gaps: Global;
  anomalies: Global;
}
const wasmApi = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object, imports: object) => { exports: unknown } } }).WebAssembly;

interface Scanner {
  x: ScanExports;
  bytes: Uint8Array;
  f64: Float64Array;
}

/** One instance per thread (each thread has its own module memory). */
let scanner: Scanner | null = null;
/** This thread's compiled module, or the one the main thread handed it. */
let compiled: object | null = null;

/**
 * The scanner's module, compiled now with TurboFan if this thread has none.
 * V8 flags are process-wide, so Liftoff and lazy compilation are switched
 * off for this one compile and back on after it (and `--liftoff-only`,
 * which a worker thread sets for undici's parser, cleared). The daemon
 * calls this on the main thread before its worker threads start and hands
 * them the module (src/daemon.ts, workerData), so no thread compiles
 * WebAssembly while another has the flags switched.
 */
export function klineScanModule(): object {
  if (compiled) return compiled;
  const wasm = Buffer.from(KLINE_SCAN_WASM, 'base64');
  setFlagsFromString('--no-liftoff-only');
  setFlagsFromString('--no-liftoff');
  setFlagsFromString('--no-wasm-lazy-compilation');
  try {
    compiled = new wasmApi.Module(wasm);
  } finally {
    setFlagsFromString('--liftoff');
    setFlagsFromString('--wasm-lazy-compilation');
  }
  return compiled;
}

/** Uses a module compiled by another thread (a worker gets the main thread's: its TurboFan code, no compile). */
export function useKlineScanModule(module: object): void {
  compiled ??= module;
}

/** This thread's scanner instance, from its module (compiled on first use unless handed over). */
export function prepareKlineScanner(): void {
  if (scanner) return;
  const x = new wasmApi.Instance(klineScanModule(), {}).exports as ScanExports;
  scanner = { x, bytes: new Uint8Array(x.memory.buffer), f64: new Float64Array(x.memory.buffer) };
}

/** Where a packed form goes, or comes from: past a body of `len` bytes, its two 0 bytes and 16 more (SIMD reads 16 at a time), 8-aligned. */
const after = (len: number) => (BODY + len + 18 + 7) & ~7;

/** Room in the module's memory up to `need` bytes. */
function roomFor(s: Scanner, need: number): void {
  const have = s.x.memory.buffer.byteLength;
  if (need <= have) return;
  s.x.memory.grow(Math.ceil((need - have) / PAGE));
  s.bytes = new Uint8Array(s.x.memory.buffer);
  s.f64 = new Float64Array(s.x.memory.buffer);
}

/** Scans the body already at BODY; the facts, or null when the general path must decide. */
function scanAt(s: Scanner, len: number, ctx: ValidationContext): RowFacts | null {
  const { slice, interval, exchangeNow } = ctx;
  s.bytes[BODY + len] = 0;
  s.bytes[BODY + len + 1] = 0;
  const { x, f64 } = s;
  if (x.scan(len, slice.startMs, slice.endMs, intervalMs(interval), exchangeNow) !== 1) return null;
  const rows = x.rows.value;
  const closed = x.lastClosedClose.value;
  const gaps: Array<[number, number]> = [];
  for (let i = 0, n = x.gaps.value; i < n; i++) gaps.push([f64[GAPS / 8 + 2 * i]!, f64[GAPS / 8 + 2 * i + 1]!]);
  const anomalies: string[] = [];
  for (let i = 0, n = x.anomalies.value; i < n; i++) anomalies.push(`cut-short@${f64[ANOMALIES / 8 + i]!}`);
  return {
    rows,
    firstOpen: rows > 0 ? x.firstOpen.value : null,
    lastOpen: rows > 0 ? x.lastOpen.value : null,
    lastClosedClose: closed >= 0 ? closed : null,
    hasOpenCandle: x.hasOpenCandle.value === 1,
    gaps,
    anomalies,
  };
}

/** The scanner with room for a body of `len` bytes and its packed form. */
function scannerFor(len: number): Scanner {
  prepareKlineScanner();
  const s = scanner!;
  roomFor(s, after(len) + (len >> 1) + 16);
  return s;
}

/** Same facts as validateKlines for a compact, valid body of a fixed-length interval; null for anything else. */
export function scanKlines(b: Uint8Array, ctx: ValidationContext): RowFacts | null {
  if (ctx.interval === '1w' || ctx.interval === '1M') return null; // calendar intervals: the general path
  const s = scannerFor(b.length);
  s.bytes.set(b, BODY);
  return scanAt(s, b.length, ctx);
}

/**
 * The fetcher's pass over a response: the body's chunks go straight into the
 * scanner's memory; when it accepts the body, its facts and its packed form
 * (a view that the next call overwrites: copy it before). Null: not the
 * compact usual answer; the caller stores the body as received and lets
 * `validate` decide.
 */
export function scanAndPackKlines(chunks: readonly Uint8Array[], size: number, ctx: ValidationContext): { facts: RowFacts; packed: Uint8Array } | null {
  if (ctx.interval === '1w' || ctx.interval === '1M') return null;
  const s = scannerFor(size);
  let at = BODY;
  for (const c of chunks) {
    s.bytes.set(c, at);
    at += c.length;
  }
  const facts = scanAt(s, size, ctx);
  if (!facts) return null;
  const out = after(size);
  return { facts, packed: s.bytes.subarray(out, out + s.x.pack(size, out)) };
}

/** Unpacks into the module's memory: where the body is and its length; throws when `packed` is not a packed body. */
function unpackInPlace(packed: Uint8Array): { s: Scanner; at: number; len: number } {
  if (!packedLengthMatches(packed)) throw new Error('packed klines body is damaged');
  prepareKlineScanner();
  const s = scanner!;
  const at = after(packed.length);
  roomFor(s, at + 4 * packed.length + 32); // the body, then room for its CSV
  s.bytes.set(packed, BODY);
  return { s, at, len: s.x.unpack(BODY, at) };
}

/** A body packed by the scanner, back byte for byte (a new buffer); throws when `packed` is not one. */
export function unpackKlineBody(packed: Uint8Array): Buffer {
  const { s, at, len } = unpackInPlace(packed);
  return Buffer.from(s.bytes.subarray(at, at + len));
}

/** Whether `packed` is as long as the body length it starts with says (all a packed form can get wrong: every 4-bit code is a character). */
export function packedLengthMatches(packed: Uint8Array): boolean {
  if (packed.length < 4) return false;
  const len = packed[0]! | (packed[1]! << 8) | (packed[2]! << 16) | (packed[3]! << 24);
  return len >= 0 && packed.length === 4 + Math.ceil(len / 2);
}

/** The CSV lines of the body at `at` in the module's memory, copied out; null when it is not compact rows. */
function csvAt(s: Scanner, at: number, len: number): Buffer | null {
  const out = (at + len + 16 + 7) & ~7;
  roomFor(s, out + len);
  const n = s.x.csv(at, len, out);
  return n < 0 ? null : Buffer.from(s.bytes.subarray(out, out + n));
}

/**
 * A klines body's rows as CSV lines (`a,b,...\n`: the JSON rows without
 * their brackets and quotes, the Binance archive's form), for export; null
 * when the body is not compact rows (the caller parses it instead).
 */
export function klinesToCsv(p: { body: Uint8Array; packed?: Uint8Array }): Buffer | null {
  if (p.packed) {
    const { s, at, len } = unpackInPlace(p.packed); // the body never leaves the module's memory
    return csvAt(s, at, len);
  }
  prepareKlineScanner();
  const s = scanner!;
  roomFor(s, BODY + 2 * p.body.length + 32);
  s.bytes.set(p.body, BODY);
  return csvAt(s, BODY, p.body.length);
}
