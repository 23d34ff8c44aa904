/**
 * Draws bench:sync's JSON results as one SVG chart for the README: per result, records/s end to
 * end beside the two same-run COPY ceilings, and where the sync's time went by phase.
 *
 *   npm run bench:report -- [result.json ...] [--out docs/bench-sync.svg]
 *
 * Without files it draws the latest four in bench/results/. The SVG is written by hand: a few
 * rectangles and labels do not justify a charting library and its dependencies.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface Result {
  date: string;
  commit?: string;
  machine: { cores: number };
  options: { customers: number; invoices: number; latencyMs: number; mode: string };
  seconds: number;
  recordsPerSecond: number;
  ceilings: { product: { rowsPerSecond: number }; baseline: { rowsPerSecond: number } };
  phases: { total: Record<Phase, number> };
}
type Phase = 'fetch' | 'map' | 'write' | 'commit';
const phases: Phase[] = ['fetch', 'map', 'write', 'commit'];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string', default: 'docs/bench-sync.svg' } },
});

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
const files = positionals.length
  ? positionals
  : (await readdir(resultsDir).catch(() => []))
      .filter((f) => f.startsWith('sync-') && f.endsWith('.json'))
      .sort()
      .slice(-4)
      .map((f) => path.join(resultsDir, f));
if (files.length === 0) {
  process.stderr.write('bench:report: no results; run npm run bench:sync first or name the files\n');
  process.exit(2);
}
const results: Result[] = [];
for (const file of files) results.push(JSON.parse(await readFile(file, 'utf8')));

await writeFile(values.out, drawChart(results));
process.stdout.write(`${values.out}: ${results.length} result${results.length === 1 ? '' : 's'}\n`);

function drawChart(results: Result[]): string {
  const width = 820;
  const labelWidth = 250;
  const plotWidth = width - labelWidth - 140;
  const barHeight = 14;
  const colours = {
    endToEnd: '#2f6db5',
    product: '#e08a2c',
    baseline: '#9a9a9a',
    fetch: '#5b9bd5',
    map: '#70ad47',
    write: '#ed7d31',
    commit: '#a5a5a5',
  };
  const parts: string[] = [];
  let y = 28;
  const text = (x: number, yy: number, s: string, attrs = '') =>
    parts.push(`<text x="${x}" y="${yy}"${attrs}>${xml(s)}</text>`);
  const rect = (x: number, yy: number, w: number, h: number, fill: string) =>
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${yy}" width="${Math.max(w, 0.5).toFixed(1)}" height="${h}" fill="${fill}"/>`,
    );
  const legend = (items: [string, string][]) => {
    let x = labelWidth;
    for (const [name, colour] of items) {
      rect(x, y - 10, 12, 12, colour);
      text(x + 16, y, name);
      x += 28 + name.length * 6.3;
    }
    y += 20;
  };

  text(10, y, 'Records/s end to end and the same-run COPY ceilings (rows/s)', ' class="title"');
  y += 22;
  legend([
    ['end to end', colours.endToEnd],
    ['COPY ceiling, tables now', colours.product],
    ['COPY ceiling, baseline tables', colours.baseline],
  ]);
  const maxRate = Math.max(
    ...results.flatMap((r) => [
      r.recordsPerSecond,
      r.ceilings.product.rowsPerSecond,
      r.ceilings.baseline.rowsPerSecond,
    ]),
  );
  for (const r of results) {
    text(10, y + 12, label(r));
    text(10, y + 27, detail(r), ' class="small"');
    const bars: [number, string, string][] = [
      [
        r.recordsPerSecond,
        colours.endToEnd,
        `${Math.round(r.recordsPerSecond)} (${Math.round((100 * r.recordsPerSecond) / r.ceilings.product.rowsPerSecond)} % of now, ${Math.round((100 * r.recordsPerSecond) / r.ceilings.baseline.rowsPerSecond)} % of baseline)`,
      ],
      [
        r.ceilings.product.rowsPerSecond,
        colours.product,
        String(Math.round(r.ceilings.product.rowsPerSecond)),
      ],
      [
        r.ceilings.baseline.rowsPerSecond,
        colours.baseline,
        String(Math.round(r.ceilings.baseline.rowsPerSecond)),
      ],
    ];
    for (const [value, colour, caption] of bars) {
      const w = (plotWidth * value) / maxRate;
      rect(labelWidth, y, w, barHeight, colour);
      text(labelWidth + w + 4, y + barHeight - 3, caption, ' class="small"');
      y += barHeight + 2;
    }
    y += 14;
  }

  y += 16;
  text(
    10,
    y,
    "Where the sync's time went (seconds summed over streams; | marks the run's duration)",
    ' class="title"',
  );
  y += 22;
  legend(phases.map((p) => [p, colours[p]]));
  const sums = results.map((r) => phases.reduce((n, p) => n + r.phases.total[p], 0));
  // The run's duration is drawn as a tick: phases summed over streams can exceed it (streams in
  // parallel) or fall short of it (time outside the phases: scheduling, activity start and end).
  const maxSum = Math.max(...sums, ...results.map((r) => r.seconds));
  results.forEach((r, i) => {
    text(10, y + 12, label(r));
    let x = labelWidth;
    for (const p of phases) {
      const w = (plotWidth * r.phases.total[p]) / maxSum;
      rect(x, y, w, barHeight + 4, colours[p]);
      if (w > 36) text(x + 3, y + barHeight - 1, `${r.phases.total[p].toFixed(1)} s`, ' class="inside"');
      x += w;
    }
    const tick = labelWidth + (plotWidth * r.seconds) / maxSum;
    parts.push(
      `<line x1="${tick.toFixed(1)}" y1="${y - 3}" x2="${tick.toFixed(1)}" y2="${y + barHeight + 7}" stroke="#000" stroke-width="2"/>`,
    );
    text(
      Math.max(x, tick) + 5,
      y + barHeight,
      `${sums[i]!.toFixed(1)} s (run ${r.seconds.toFixed(1)} s)`,
      ' class="small"',
    );
    y += barHeight + 16;
  });

  const height = y + 6;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">
<style>.title{font-weight:600;font-size:14px}.small{font-size:11px;fill:#444}.inside{font-size:11px;fill:#fff}</style>
<rect width="100%" height="100%" fill="#fff"/>
${parts.join('\n')}
</svg>
`;
}

function label(r: Result): string {
  const k = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1000 ? `${n / 1000}k` : String(n));
  return `${k(r.options.invoices)} invoices, ${k(r.options.customers)} customers, ${r.options.latencyMs} ms`;
}

function detail(r: Result): string {
  return `${r.date.slice(0, 16).replace('T', ' ')} · ${r.commit?.slice(0, 7) ?? '?'}${r.commit?.endsWith('+changes') ? '+' : ''} · ${r.machine.cores} cores`;
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
