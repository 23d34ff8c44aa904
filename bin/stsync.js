#!/usr/bin/env node
// The CLI. From a checkout it runs the TypeScript sources through tsx (no build step, always the
// current code); in the production image, which has only the build (dist/), it runs that.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/index.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import('../dist/cli/index.js');
}
