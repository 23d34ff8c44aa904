/**
 * The `--latency` target of issue 13 measured in pairs: a full sync far from the server against
 * the same sync next to it, run one right after the other, in alternating order (far first, then
 * near first), each a whole `bench:sync` run of its own.
 *
 *   npm run bench:latency -- [--latency 300] [--pairs 3] [--customers 10000] [--invoices 40000]
 *                            [--json file]
 *
 * On a shared 2-core machine the same run's speed moves by a fifth from one minute to the next, so
 * one pair says little: each pair's ratio is printed, then their median, which is the figure to
 * quote. Each run's sandbox CPU is printed beside it, as a hint of the machine's speed at that
 * moment; it is no yardstick across the pair, since the far run makes ~20 % more requests (its
 * planning counts, and a page past the end of each of its windows).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { wholeNumber } from './options.js';

const { values } = parseArgs({
  options: {
    latency: { type: 'string', default: '300' },
    pairs: { type: 'string', default: '3' },
    customers: { type: 'string', default: '10000' },
    invoices: { type: 'string', default: '40000' },
    json: { type: 'string' },
  },
});
const latencyMs = wholeNumber('latency', values.latency, 1);
const pairs = wholeNumber('pairs', values.pairs, 1);
wholeNumber('customers', values.customers);
wholeNumber('invoices', values.invoices);
const out = (line: string) => process.stdout.write(`${line}\n`);

interface Run {
  latencyMs: number;
  status: string;
  recordsPerSecond: number;
  sandboxSeconds: number;
}

const syncBench = fileURLToPath(new URL('./sync.ts', import.meta.url));
const tmp = await mkdtemp(path.join(os.tmpdir(), 'stsync-latency-'));

/** One bench:sync run in a process of its own; its output goes to a log beside its figures. */
async function runOnce(latency: number, label: string): Promise<Run> {
  const json = path.join(tmp, `${label}.json`);
  const log = path.join(tmp, `${label}.log`);
  const args = [
    ...process.execArgv,
    syncBench,
    '--customers',
    values.customers,
    '--invoices',
    values.invoices,
    '--latency',
    String(latency),
    '--json',
    json,
  ];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', async (exit) => {
      await writeFile(log, Buffer.concat(chunks));
      resolve(exit);
    });
  });
  if (code !== 0) throw new Error(`bench:sync --latency ${latency} exited with ${code}; its output: ${log}`);
  const result = JSON.parse(await readFile(json, 'utf8')) as {
    status: string;
    recordsPerSecond: number;
    cpu: { sandboxSeconds: number };
  };
  return {
    latencyMs: latency,
    status: result.status,
    recordsPerSecond: result.recordsPerSecond,
    sandboxSeconds: result.cpu.sandboxSeconds,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const percent = (x: number) => `${Math.round(100 * x)} %`;
const rate = (r: Run) =>
  `${Math.round(r.recordsPerSecond)} records/s (sandbox ${r.sandboxSeconds.toFixed(1)} s of CPU)`;

out(
  `latency pairs: ${values.customers} customers, ${values.invoices} invoices; ${latencyMs} ms against none, ${pairs} pairs`,
);
const results: { far: Run; near: Run; ratio: number }[] = [];
try {
  for (let i = 0; i < pairs; i++) {
    const farFirst = i % 2 === 0;
    const first = await runOnce(farFirst ? latencyMs : 0, `pair${i + 1}-first`);
    const second = await runOnce(farFirst ? 0 : latencyMs, `pair${i + 1}-second`);
    const [far, near] = farFirst ? [first, second] : [second, first];
    if (far.status !== 'completed' || near.status !== 'completed')
      throw new Error(`a run did not complete (${far.status}, ${near.status}); logs in ${tmp}`);
    const ratio = far.recordsPerSecond / near.recordsPerSecond;
    results.push({ far, near, ratio });
    out(
      `  pair ${i + 1} (${farFirst ? 'far first' : 'near first'}): ${latencyMs} ms ${rate(far)}, none ${rate(near)}: ${percent(ratio)}`,
    );
  }
  out(
    `${percent(median(results.map((r) => r.ratio)))} of the zero-latency records/s at ${latencyMs} ms (median of ${pairs} pairs)`,
  );
  if (values.json)
    await writeFile(
      values.json,
      `${JSON.stringify({ version: 1, date: new Date().toISOString(), latencyMs, options: values, pairs: results }, null, 2)}\n`,
    );
  await rm(tmp, { recursive: true, force: true });
} catch (error) {
  // The runs' logs stay where the error names them.
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
