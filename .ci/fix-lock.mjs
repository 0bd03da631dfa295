// The npm registry mirror on the build machines lacks some platform-only
// optional packages (other OSes' prebuilt binaries), so `npm install` writes
// a lock that `npm ci` rejects with "Missing: <name>@ from lock file".
// Usage: npm ci --dry-run 2>&1 | node .ci/fix-lock.mjs
// Adds a lock entry for each missing package, with the version its parent
// pins and os/cpu/libc read from the package name; npm skips them on this
// platform.
import { readFileSync, writeFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const missing = [...readFileSync(0, 'utf8').matchAll(/Missing: (@?[^@\s]+)@/g)].map((m) => m[1]);
let added = 0;
for (const name of new Set(missing)) {
  const parent = Object.values(lock.packages).find((p) => p.optionalDependencies?.[name]);
  if (!parent) {
    console.error(`no parent pins ${name}; left alone`);
    continue;
  }
  const version = parent.optionalDependencies[name].replace(/^[\^~=]/, '');
  const os = /darwin/.test(name) ? 'darwin' : /win32/.test(name) ? 'win32' : /freebsd/.test(name) ? 'freebsd' : /android/.test(name) ? 'android' : 'linux';
  const cpu = /arm64|aarch64/.test(name) ? 'arm64' : /arm/.test(name) ? 'arm' : /ia32/.test(name) ? 'ia32' : /ppc64/.test(name) ? 'ppc64' : /s390x/.test(name) ? 's390x' : /riscv64/.test(name) ? 'riscv64' : /loong64/.test(name) ? 'loong64' : 'x64';
  const entry = { version, cpu: [cpu], optional: true, os: [os] };
  if (os === 'linux') entry.libc = [/musl/.test(name) ? 'musl' : 'glibc'];
  lock.packages[`node_modules/${name}`] = entry;
  added++;
}
writeFileSync('package-lock.json', JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added} lock entries`);
