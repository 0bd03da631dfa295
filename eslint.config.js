// typescript-eslint with type information; switch-exhaustiveness-check keeps
// every protocol handler honest when a message type is added.
import tseslint from 'typescript-eslint';

const LMDB = { name: 'lmdb', message: 'Only storage/lmdb/ imports lmdb: use openStorage (storage/open.ts) and the Storage port (storage/port.ts).' };
const LMDB_SUBPATH = { group: ['lmdb/*'], message: LMDB.message };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'eslint.config.js', '.scratch/**', '.ci/**'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A `default: assertNever(msg)` is what proves a protocol switch complete.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // DESIGN invariant 7: only storage/lmdb/ talks to LMDB; everything else
  // reaches storage through the port (storage/port.ts) from storage/open.ts.
  // test/unit/storage-boundary.test.ts checks the same, and dynamic imports.
  {
    files: ['**/*.ts'],
    ignores: ['storage/lmdb/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [LMDB], patterns: [LMDB_SUBPATH] }] },
  },
  {
    files: ['src/**/*.ts', 'actors/**/*.ts', 'storage/**/*.ts'],
    ignores: ['storage/lmdb/**', 'storage/open.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [LMDB], patterns: [LMDB_SUBPATH, { group: ['**/lmdb/*', './lmdb/*'], message: 'Only storage/open.ts reaches storage/lmdb/: use openStorage and the Storage port (storage/port.ts).' }] }] },
  },
  {
    // Tests read arbitrary exchange JSON back and poke at it.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
