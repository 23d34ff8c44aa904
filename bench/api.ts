/**
 * p95 latency of the admin API's credential endpoints (create, get, list, patch) against a real
 * app on PostgreSQL: a scratch database next to DATABASE_URL's, migrated, dropped afterwards.
 * Requests go over HTTP one at a time with a stored admin token (so each is authenticated by a
 * database lookup, and each change writes its audit row).
 *
 *   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm run bench:api [-- --requests 300]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createApp } from '../src/api/app.js';
import { createTokenService } from '../src/auth/index.js';
import { createSecretBox } from '../src/crypto/secret-box.js';
import { Company } from '../src/db/entities/index.js';
import { migrateUp } from '../src/db/migrate.js';
import { createOrm } from '../src/db/orm.js';
import { createLogger } from '../src/logger.js';
import { listen } from '../src/main/listen.js';
import { createTemporalClient } from '../src/temporal/client.js';
import { wholeNumber } from './options.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '300' } } });
const n = wholeNumber('requests', values.requests, 1);
const adminUrl = process.env.DATABASE_URL;
if (!adminUrl)
  throw new Error('bench:api needs DATABASE_URL (a PostgreSQL server it may create a database on)');

const dbName = `stsync_bench_api_${randomBytes(3).toString('hex')}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`create database "${dbName}"`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;

const logger = createLogger({ level: 'silent' });
const orm = await createOrm({ url: url.toString() });
// Never connected: the credential endpoints do not touch Temporal.
const temporal = createTemporalClient({ address: '127.0.0.1:1', namespace: 'default' });
try {
  await migrateUp(orm);
  const secrets = createSecretBox([{ version: 'b1', key: randomBytes(32) }]);
  const server = await listen(
    createApp({
      orm,
      temporal: temporal.client,
      logger,
      api: { secrets, taskQueue: 'bench', installationId: 'bench' },
    }),
    0,
  );
  const em = orm.em.fork();
  const companies = Array.from({ length: n }, (_, i) => em.create(Company, { name: `Bench ${i}` }));
  await em.flush();
  const { token } = await createTokenService({}).create(orm.em.fork(), { role: 'admin', name: 'bench' });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  async function timed(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ ms: number; json: { id?: number } }> {
    const start = performance.now();
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers,
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as { id?: number };
    const ms = performance.now() - start;
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
    return { ms, json };
  }

  const samples: Record<string, number[]> = { create: [], get: [], list: [], patch: [] };
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const { ms, json } = await timed('POST', '/api/credentials', {
      companyId: companies[i]!.id,
      environment: 'integration',
      tenantId: String(5_000_000 + i),
      clientId: `cid.bench.${i}`,
      clientSecret: `cs.bench.${randomBytes(8).toString('hex')}`,
    });
    samples.create!.push(ms);
    ids.push(json.id!);
  }
  for (const id of ids) samples.get!.push((await timed('GET', `/api/credentials/${id}`)).ms);
  for (let i = 0; i < n; i++)
    samples.list!.push((await timed('GET', `/api/credentials?page=${1 + (i % 5)}&pageSize=50`)).ms);
  for (const id of ids)
    samples.patch!.push(
      (
        await timed('PATCH', `/api/credentials/${id}`, {
          clientSecret: `cs.rotated.${randomBytes(8).toString('hex')}`,
        })
      ).ms,
    );
  await server.close();

  const pct = (sorted: number[], p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  const rows = Object.entries(samples).map(([name, list]) => {
    const sorted = [...list].sort((a, b) => a - b);
    return {
      endpoint: name,
      requests: list.length,
      p50: pct(sorted, 50),
      p95: pct(sorted, 95),
      p99: pct(sorted, 99),
      max: sorted.at(-1)!,
    };
  });
  process.stdout.write(`credential endpoints, ${n} sequential requests each (ms)\n`);
  process.stdout.write('endpoint  requests      p50      p95      p99      max\n');
  for (const r of rows)
    process.stdout.write(
      `${r.endpoint.padEnd(8)}  ${String(r.requests).padStart(8)} ${[r.p50, r.p95, r.p99, r.max].map((v) => v.toFixed(1).padStart(8)).join(' ')}\n`,
    );
  const worst = Math.max(...rows.map((r) => r.p95));
  process.stdout.write(`worst p95 ${worst.toFixed(1)} ms (requirement < 2000 ms, aim < 50 ms)\n`);
  if (worst >= 2000) process.exitCode = 1;
} finally {
  await temporal.close();
  await orm.close();
  await admin.query(`drop database if exists "${dbName}" with (force)`);
  await admin.end();
}
