// DESIGN invariant 7: only storage/ imports lmdb, and the rest of
// candlekeep reaches storage through the port. Stricter here: only
// storage/lmdb/ imports lmdb, only storage/open.ts (the factory) reaches
// into storage/lmdb/ from outside it, and only tests use its Tamper
// (deliberate damage). Static, side-effect, re-export, dynamic and require
// forms all count; eslint.config.js says the same for static imports.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCANNED = ['src', 'actors', 'storage', 'test'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs|cjs)$/.test(e.name) ? [path] : [];
  });
}

/** Every module specifier `text` imports, however it is written. */
function specifiers(text: string): string[] {
  const forms = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g, // import x from 'm', export { x } from 'm'
    /\bimport\s*['"]([^'"]+)['"]/g, // import 'm'
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g, // import('m')
    /\brequire\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g, // require('m')
  ];
  return forms.flatMap((re) => [...text.matchAll(re)].map((m) => m[1]!));
}

/** A module path relative to the repository (`storage/lmdb/keys`), or the package name. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  return relative(ROOT, resolve(dirname(file), spec)).replace(/\.(js|ts)$/, '');
}

const SELF = fileURLToPath(import.meta.url); // its examples below are not imports
const edges = SCANNED.flatMap((d) => sourceFiles(join(ROOT, d))).filter((f) => f !== SELF).flatMap((file) => {
  const from = relative(ROOT, file);
  return specifiers(readFileSync(file, 'utf8')).map((spec) => ({ from, to: target(file, spec) }));
});

const isLmdb = (to: string) => to === 'lmdb' || to.startsWith('lmdb/');
const inLmdbStore = (path: string) => path.startsWith('storage/lmdb/');

describe('storage boundary', () => {
  it('sees every form of import (the scan cannot pass by seeing nothing)', () => {
    expect(specifiers(`import { open } from 'lmdb';\nimport 'lmdb';\nexport * from "lmdb";\nconst m = await import('lmdb');\nconst r = require("lmdb");`)).toEqual(['lmdb', 'lmdb', 'lmdb', 'lmdb', 'lmdb']);
    expect(edges.some((e) => e.from === 'storage/lmdb/environment.ts' && e.to === 'lmdb')).toBe(true);
    expect(edges.some((e) => e.from === 'storage/open.ts' && e.to === 'storage/lmdb/lmdb-storage')).toBe(true);
  });

  it('only storage/lmdb/ imports lmdb', () => {
    expect(edges.filter((e) => isLmdb(e.to) && !inLmdbStore(e.from))).toEqual([]);
  });

  it('only storage/open.ts reaches into storage/lmdb/, and only tests use its Tamper', () => {
    const reaching = edges.filter((e) => inLmdbStore(e.to) && !inLmdbStore(e.from));
    const allowed = (e: { from: string; to: string }) => e.from === 'storage/open.ts' || (e.from.startsWith('test/') && e.to === 'storage/lmdb/tamper');
    expect(reaching.filter((e) => !allowed(e))).toEqual([]);
    expect(edges.filter((e) => e.to === 'storage/lmdb/tamper' && !e.from.startsWith('test/'))).toEqual([]);
  });
});
