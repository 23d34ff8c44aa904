#!/usr/bin/env node
// The production build: the web console (console/dist), the service compiled to JavaScript
// (src → dist, TypeScript's own compiler) and the Temporal workflow bundle (dist/workflow-bundle.js),
// made once here so that a worker starts without webpack. `npm run api`/`npm run worker` run it
// first: when nothing changed since the last build it costs a hash of the sources.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const stampFile = path.join(dist, '.inputs-hash');

function run(args, what) {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`${what} failed; see above.`);
    process.exit(result.status ?? 1);
  }
}

run([path.join(root, 'scripts', 'build-console.mjs')], 'The web console build');

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else if (entry.name.endsWith('.ts')) yield full;
  }
}

const hash = createHash('sha256');
// The lockfile too: a new Temporal SDK is a new workflow bundle.
for (const file of [
  ...files(path.join(root, 'src')),
  path.join(root, 'tsconfig.json'),
  path.join(root, 'tsconfig.build.json'),
  path.join(root, 'package-lock.json'),
]) {
  hash.update(path.relative(root, file));
  hash.update('\0');
  hash.update(readFileSync(file));
  hash.update('\0');
}
const inputs = hash.digest('hex');
if (!process.argv.includes('--force') && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === inputs)
  process.exit(0);

console.warn('Building the service (dist/)…');
// Nothing of an earlier build may linger: a deleted source must not live on as JavaScript.
rmSync(dist, { recursive: true, force: true });
run([path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], 'Compiling');

// The bundle of the compiled workflows, with the SDK's own bundler: the same code a worker
// started from the sources would bundle at start-up.
const { bundleWorkflowCode } = await import('@temporalio/worker');
const noop = () => {};
const { code } = await bundleWorkflowCode({
  workflowsPath: path.join(dist, 'workflows', 'index.js'),
  logger: { log: noop, trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error },
});
writeFileSync(path.join(dist, 'workflow-bundle.js'), code);
writeFileSync(stampFile, inputs);
console.warn(`Built ${path.relative(process.cwd(), dist) || 'dist'} (${pathToFileURL(dist).pathname}).`);
