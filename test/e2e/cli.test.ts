// The command line users touch first: help, version, bad flags and bad
// configs, each with its exit code, and nothing written for a bad config.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCandlekeep, tempDir, writeConfig } from '../support/daemon-harness.js';

const stream = { venue: 'binance', endpoint: 'klines', symbols: ['BTCUSDT'], intervals: ['1m'], start: '2024-01-01' };

describe('cli', () => {
  it('--help and --version exit 0', async () => {
    const help = await runCandlekeep(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['run', 'backfill', 'status', 'verify', 'rebuild-manifest', 'export', '--config', '--data-root']) expect(help.stdout).toContain(c);
    const sub = await runCandlekeep(['backfill', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('usage: candlekeep backfill');
    const v = await runCandlekeep(['--version']);
    expect([v.code, v.stdout.trim()]).toEqual([0, '0.1.0']);
  });

  it('an unknown flag or subcommand is one line and exit 2', async () => {
    const flag = await runCandlekeep(['--frobnicate']);
    expect(flag.code).toBe(2);
    expect(flag.stderr.trim().split('\n')).toEqual(["candlekeep: Unknown option '--frobnicate' (see `candlekeep run --help`) [CK_ERR_USAGE]"]);
    const sub = await runCandlekeep(['backfil']);
    expect(sub.code).toBe(2);
    expect(sub.stderr.trim()).toBe('candlekeep: unknown subcommand "backfil" (did you mean "backfill"?); use one of run, backfill, status, verify, rebuild-manifest, export [CK_ERR_USAGE]');
  });

  it('a misspelt key prints one line naming it, exits 2 and writes nothing', async () => {
    const dir = tempDir();
    const cfg = writeConfig(dir, { streams: [{ ...stream, intervls: ['1m'] }] });
    const r = await runCandlekeep(['--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['candlekeep: streams[0]: unknown key "intervls" (did you mean "intervals"?) [CK_ERR_CONFIG_INVALID]']);
    expect(r.stdout).toBe('');
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('a config that is not JSON, or missing, exits 2', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.json'), '{ "streams": [ }');
    const bad = await runCandlekeep(['--config', join(dir, 'bad.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.json: not valid JSON .*\[CK_ERR_CONFIG_INVALID\]/);
    const missing = await runCandlekeep(['backfill', '--config', join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json: cannot read the config file \(ENOENT\) \[CK_ERR_CONFIG_NOT_FOUND\]/);
    const none = await runCandlekeep(['backfill']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--config <file> is required');
  });

  it('data-out commands: a data root with no store, an unknown stream, a missing flag are user mistakes (exit 2)', async () => {
    const empty = tempDir();
    const none = await runCandlekeep(['status', '--data-root', empty]);
    expect(none.code).toBe(2);
    expect(none.stderr.trim()).toBe(`candlekeep: ${empty} holds no candlekeep data (candlekeep.lmdb is missing); pass --config or --data-root [CK_ERR_NO_DATA]`);
    const noFormat = await runCandlekeep(['export', '--data-root', empty, '--stream', 'binance:klines:BTCUSDT:1m', '--out', join(empty, 'x.csv')]);
    expect(noFormat.code).toBe(2);
    expect(noFormat.stderr).toContain('export needs --format <csv|ndjson|parquet|json-tree> [CK_ERR_USAGE]');
    const badFormat = await runCandlekeep(['export', '--data-root', empty, '--stream', 'x', '--format', 'xlsx', '--out', 'y']);
    expect(badFormat.stderr).toContain('--format xlsx: use one of csv, ndjson, parquet, json-tree [CK_ERR_USAGE]');
  });
});
