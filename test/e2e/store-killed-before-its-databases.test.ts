// Regression: a daemon killed about 0.7 s after start, after
// candlekeep.lmdb existed but before its named databases did, left a store
// that `status`, `verify` and `export` failed on with CK_ERR_INTERNAL
// (TypeError ... getRange). kill -9 at any instant must leave a store every
// command reads: here it holds nothing yet, and each command says so.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tamper } from '../../storage/lmdb/tamper.js';
import { runCandlekeep, tempDir } from '../support/daemon-harness.js';

const KILLED_EARLY = {
  'after LMDB created its environment, before the databases': (root: string) => Tamper.bareEnvironment(root),
  'after the store file was created, before LMDB wrote to it': (root: string) => writeFileSync(join(root, 'candlekeep.lmdb'), ''),
};

describe('a store killed before its databases existed', () => {
  it.each(Object.keys(KILLED_EARLY))('killed %s: status, verify and export read it as holding nothing', async (when) => {
    const root = tempDir();
    await KILLED_EARLY[when as keyof typeof KILLED_EARLY](root);

    const status = await runCandlekeep(['status', '--data-root', root]);
    expect([status.code, status.stdout, status.stderr]).toEqual([0, `${root}: no streams stored yet\n`, '']);
    const json = await runCandlekeep(['status', '--data-root', root, '--json']);
    expect([json.code, JSON.parse(json.stdout)]).toEqual([0, []]);

    const verify = await runCandlekeep(['verify', '--data-root', root]);
    expect([verify.code, verify.stdout, verify.stderr]).toEqual([0, '0 streams, 0 slices, 0 rows checked: clean\n', '']);

    const exported = await runCandlekeep(['export', '--data-root', root, '--stream', 'binance:klines:BTCUSDT:1m', '--format', 'csv', '--out', join(root, 'btc.csv')]);
    expect(exported.code).toBe(2);
    expect(exported.stderr).toBe('candlekeep: no stored stream matches binance:klines:BTCUSDT:1m; stored: none [CK_ERR_STREAM_NOT_FOUND]\n');
  });
});
