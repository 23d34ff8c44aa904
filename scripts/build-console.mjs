#!/usr/bin/env node
// Builds the web console (console/ → console/dist) when its sources changed since the last build:
// `npm start`, `npm run api` and CI run it first, and a build that is up to date costs a hash of a
// few files, not a Vite run. The hash of the inputs is kept in console/dist/.inputs-hash.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const consoleDir = path.join(root, 'console');
const dist = path.join(consoleDir, 'dist');
const stampFile = path.join(dist, '.inputs-hash');

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'dist' && entry.name !== 'node_modules') yield* files(full);
    } else yield full;
  }
}

const hash = createHash('sha256');
// The lockfile too: a new Vite or React version is a new build.
for (const file of [...files(consoleDir), path.join(root, 'package-lock.json')]) {
  hash.update(path.relative(root, file));
  hash.update('\0');
  hash.update(readFileSync(file));
  hash.update('\0');
}
const inputs = hash.digest('hex');

const force = process.argv.includes('--force');
if (!force && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === inputs) process.exit(0);

console.warn('Building the web console (console/dist)…');
const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
const result = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
  cwd: consoleDir,
  stdio: 'inherit',
});
if (result.status !== 0) {
  console.error('The web console did not build; see above.');
  process.exit(result.status ?? 1);
}
writeFileSync(stampFile, inputs);
