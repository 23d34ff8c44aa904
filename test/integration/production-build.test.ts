import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/infra/free-port.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { testDatabaseUrl, testKeys, uniqueId } from '../support/integration.js';

// `npm run build` and the two production roots it makes: the API and a worker run as plain
// JavaScript (no tsx, no TypeScript loader at all) with the workflow bundle made at build time,
// and together they run a sync end to end.
const root = path.resolve(import.meta.dirname, '../..');
const ADMIN_TOKEN = 'production-build-admin-token-0123456789';

interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function spawnBuilt(entry: string, env: Record<string, string>): Spawned {
  // No --import: a single .ts module on the way would fail the start.
  const child = spawn(process.execPath, [entry], { cwd: root, env: { ...process.env, ...env } });
  let out = '';
  child.stdout?.on('data', (c) => {
    out += c;
  });
  child.stderr?.on('data', (c) => {
    out += c;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let sandbox: Sandbox;
const started: Spawned[] = [];

beforeAll(async () => {
  const built = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  expect(built.status, 'npm run build').toBe(0);
  sandbox = await startSandbox({
    port: 0,
    pageSizes: { customers: 100, contacts: 100, invoices: 100 },
    tenants: [{ tenantId: 1_000_001, customers: 150, invoices: 250 }],
  });
});

afterAll(async () => {
  for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  await sandbox?.close();
});

describe('the production build', () => {
  it('when npm run build has run, then dist holds JavaScript only and the prebuilt workflow bundle', () => {
    const bundle = readFileSync(path.join(root, 'dist', 'workflow-bundle.js'), 'utf8');
    expect(bundle).toContain('syncTenantWorkflow');
    const listing = spawnSync('find', ['dist', '-name', '*.ts', '-not', '-name', '*.d.ts'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(listing.stdout.trim()).toBe('');
  });

  it('when the built API and worker run against PostgreSQL and Temporal, then they answer, run a sync to completion, and stop with 0 on SIGTERM', async () => {
    const port = await freePort();
    const env = {
      DATABASE_URL: await testDatabaseUrl(),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TASK_QUEUE: uniqueId('built'),
      SERVICETITAN_APP_KEY: sandbox.appKey,
      SERVICETITAN_INTEGRATION_AUTH_URL: sandbox.url,
      SERVICETITAN_INTEGRATION_API_URL: sandbox.url,
      SERVICETITAN_PRODUCTION_AUTH_URL: sandbox.url,
      SERVICETITAN_PRODUCTION_API_URL: sandbox.url,
      ENCRYPTION_KEYS: testKeys.map((k) => `${k.version}:${k.key.toString('base64')}`).join(','),
      ADMIN_TOKEN,
      PORT: String(port),
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      NODE_ENV: 'production',
    };
    const worker = spawnBuilt('dist/main/worker.js', env);
    const api = spawnBuilt('dist/main/api.js', env);
    started.push(worker, api);

    const base = `http://127.0.0.1:${port}`;
    await until('the API to be ready', async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined));
    await until('the worker to poll', async () =>
      /worker running/.test(worker.output()) ? true : undefined,
    );

    const call = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`${base}${url}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const company = await call('POST', '/api/companies', { name: 'Built Heating', timeZone: 'UTC' });
    expect(company.status).toBe(201);
    const tenant = sandbox.tenants[0]!;
    const credential = await call('POST', '/api/credentials', {
      companyId: company.body.id,
      environment: 'integration',
      tenantId: String(tenant.tenantId),
      clientId: tenant.clientId,
      clientSecret: tenant.clientSecret,
    });
    expect(credential.status).toBe(201);
    const run = await call('POST', `/api/credentials/${credential.body.id}/syncs`, { mode: 'full' });
    expect(run.status).toBe(202);
    const finished = await until('the sync to finish', async () => {
      const r = await call('GET', `/api/syncs/${run.body.id}`);
      return ['pending', 'running'].includes(String(r.body.status)) ? undefined : r.body;
    });
    expect(finished.status).toBe('completed');
    expect((finished.totals as { upserted: number }).upserted).toBeGreaterThanOrEqual(150 + 250);

    // The console the API serves is the built one.
    const index = await fetch(`${base}/`, { headers: { accept: 'text/html' } });
    expect(await index.text()).toMatch(/<div id="root">/);

    api.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
    expect(await worker.exited).toBe(0);
    expect(worker.output()).not.toContain(tenant.clientSecret);
    expect(api.output()).not.toContain(tenant.clientSecret);
  });
});
