#!/usr/bin/env node
// Prints line coverage per folder of src/ (src/<folder>: lines %) from Vitest's
// coverage/coverage-summary.json (the json-summary reporter). Informational: never fails a build
// on a low figure, only when there is no summary to read.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const file = process.argv[2] ?? 'coverage/coverage-summary.json';
let summary;
try {
  summary = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.error(`No coverage summary at ${file} (${error.message}); run npm run test:coverage first.`);
  process.exit(1);
}

const root = path.resolve('src');
const folders = new Map();
for (const [name, entry] of Object.entries(summary)) {
  if (name === 'total') continue;
  const relative = path.relative(root, path.resolve(name));
  if (relative.startsWith('..')) continue;
  const parts = relative.split(path.sep);
  const folder = parts.length > 1 ? `src/${parts[0]}` : 'src';
  const sum = folders.get(folder) ?? { covered: 0, total: 0, files: 0 };
  sum.covered += entry.lines.covered;
  sum.total += entry.lines.total;
  sum.files += 1;
  folders.set(folder, sum);
}

const lines = [];
const print = (line) => lines.push(line);
const pct = (covered, total) => (total === 0 ? '100.0' : ((100 * covered) / total).toFixed(1));
const width = Math.max(...[...folders.keys()].map((k) => k.length), 'total'.length);
print(`\nLine coverage per folder (${file})`);
for (const [folder, s] of [...folders].sort(([a], [b]) => a.localeCompare(b))) {
  print(
    `  ${folder.padEnd(width)}  ${pct(s.covered, s.total).padStart(5)} %  (${s.covered}/${s.total} lines, ${s.files} files)`,
  );
}
const t = summary.total.lines;
print(
  `  ${'total'.padEnd(width)}  ${pct(t.covered, t.total).padStart(5)} %  (${t.covered}/${t.total} lines)`,
);
process.stdout.write(`${lines.join('\n')}\n`);
