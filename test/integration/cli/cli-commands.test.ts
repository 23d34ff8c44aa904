import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTokenCommand } from '../../../src/cli/tokens.command.js';
import { ApiToken, ServiceTitanCredential, SyncRun } from '../../../src/db/entities/index.js';
import { startSandbox } from '../../../src/sandbox/index.js';
import { createScheduleService } from '../../../src/schedules/index.js';
import { scheduleId, syncWorkflowId } from '../../../src/workflows/definitions.js';
import { createCompanyWithCredential } from '../../support/fixtures.js';
import {
  connectTestOrm,
  connectTestTemporal,
  startTestWorker,
  testDatabaseUrl,
  testInstallationId,
  testKeys,
  testLogger,
  truncateAll,
} from '../../support/integration.js';

type Harness = {
  orm: MikroORM;
  temporal: Awaited<ReturnType<typeof connectTestTemporal>>;
  sandbox: Awaited<ReturnType<typeof startSandbox>>;
  worker: Awaited<ReturnType<typeof startTestWorker>>;
  env: NodeJS.ProcessEnv;
};

/** Runs `stsync` as a process; stdin is a pipe (not a terminal), fed `input` when given. */
function stsync(
  env: NodeJS.ProcessEnv,
  args: string[],
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Row counts of every table of the database. */
async function rowCounts(orm: MikroORM): Promise<Record<string, number>> {
  const conn = orm.em.fork().getConnection();
  const tables = await conn.execute<{ name: string }[]>(
    `select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const [row] = await conn.execute<{ n: string }[]>(`select count(*) as n from "${name}"`);
    counts[name] = Number(row!.n);
  }
  return counts;
}

async function workflowExists(h: Harness, credentialId: number): Promise<boolean> {
  try {
    await h.temporal.client.workflow.getHandle(syncWorkflowId(testInstallationId, credentialId)).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

describe('stsync: sync batches and dry runs, schedules, companies and credentials', () => {
  const h = {} as Harness;
  const queuePrefix = `cli-${randomUUID().slice(0, 8)}`;
  let dir: string;

  beforeAll(async () => {
    h.orm = await connectTestOrm();
    h.temporal = await connectTestTemporal();
    h.sandbox = await startSandbox({
      rateLimitPerSecond: 0,
      tenants: [
        { tenantId: 8_810_001, customers: 120, invoices: 150 },
        { tenantId: 8_810_002, customers: 30, invoices: 40 },
        { tenantId: 8_810_003, customers: 5, invoices: 5 },
        { tenantId: 8_810_004, customers: 5, invoices: 5 },
        { tenantId: 8_810_005, customers: 5, invoices: 5 },
        { tenantId: 8_810_006, customers: 5, invoices: 5 },
        { tenantId: 8_810_007, customers: 5, invoices: 5 },
      ],
    });
    h.worker = await startTestWorker(h.orm, {
      taskQueue: `${queuePrefix}-${testInstallationId}`,
      serviceTitan: { appKey: h.sandbox.appKey, url: h.sandbox.url },
    });
    h.env = {
      ...process.env,
      DATABASE_URL: await testDatabaseUrl(),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TASK_QUEUE: queuePrefix,
      ENCRYPTION_KEYS: `${testKeys[0].version}:${testKeys[0].key.toString('base64')}`,
      SERVICETITAN_APP_KEY: h.sandbox.appKey,
      SERVICETITAN_INTEGRATION_AUTH_URL: h.sandbox.url,
      SERVICETITAN_INTEGRATION_API_URL: h.sandbox.url,
      SERVICETITAN_PRODUCTION_AUTH_URL: h.sandbox.url,
      SERVICETITAN_PRODUCTION_API_URL: h.sandbox.url,
      SERVICETITAN_RATE_LIMIT: '10',
      LOG_LEVEL: 'warn',
    };
    await truncateAll(h.orm);
    dir = await mkdtemp(join(tmpdir(), 'stsync-cli-'));
  }, 120_000);
  afterAll(async () => {
    await h.worker?.stop();
    await h.sandbox?.close();
    await h.temporal?.close();
    await h.orm?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('when each command is asked for --help, then it prints its own usage and the common options', async () => {
    for (const command of [
      'sync',
      'credentials',
      'companies',
      'schedules',
      'tokens',
      'migrate',
      'flags',
      'import',
      'reconcile',
    ]) {
      const { code, stdout } = await stsync(h.env, [command, '--help']);
      expect(code).toBe(0);
      expect(stdout).toContain(`  ${command}`);
      expect(stdout).toContain('--json');
    }
    const all = await stsync(h.env, ['--help']);
    expect(all.stdout).toContain('credentials import <file.csv>');
    expect(all.stdout).toContain('Exit codes');
  }, 120_000);

  it('when `sync --dry-run` runs, then it prints credentials, streams, mode and estimates, and the database and Temporal are unchanged', async () => {
    const { credentialId, companyId } = await createCompanyWithCredential(h.orm, h.sandbox.tenants[0]!, {
      name: 'Dry Run Co',
    });
    const before = await rowCounts(h.orm);

    const human = await stsync(h.env, ['sync', String(credentialId), '--dry-run', '--mode', 'full']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('dry run: nothing is written, nothing is started');
    expect(human.stdout).toContain(`credential ${credentialId} (company ${companyId}`);
    expect(human.stdout).toMatch(/mode full/);
    expect(human.stdout).toMatch(/customers: 120 records, 1 pages/);
    expect(human.stdout).toMatch(/invoices: 150 records, 1 pages/);
    expect(human.stdout).toMatch(/total: \d+ records, 3 pages, ~1s at the rate limit/);

    const json = await stsync(h.env, ['sync', '--company', String(companyId), '--dry-run', '--json']);
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.stdout);
    expect(plan.dryRun).toBe(true);
    expect(plan.credentials).toHaveLength(1);
    expect(plan.credentials[0]).toMatchObject({ credentialId, mode: 'incremental', refused: null, pages: 3 });
    expect(plan.credentials[0].streams.map((s: { stream: string }) => s.stream)).toEqual([
      'customers',
      'customerContacts',
      'invoices',
    ]);
    expect(plan.credentials[0].streams[0].records).toBe(120);
    expect(plan.credentials[0].estimatedSeconds).toBe(1);

    expect(await rowCounts(h.orm)).toEqual(before);
    expect(await workflowExists(h, credentialId)).toBe(false);
  }, 180_000);

  it('when `sync --company <id> --wait` runs, then only that company’s credentials sync and each is reported', async () => {
    const a = await createCompanyWithCredential(h.orm, h.sandbox.tenants[1]!, { name: 'Batch A' });
    const b = await createCompanyWithCredential(h.orm, h.sandbox.tenants[2]!, { name: 'Batch B' });

    const { code, stdout, stderr } = await stsync(h.env, [
      'sync',
      '--company',
      String(a.companyId),
      '--mode',
      'full',
      '--wait',
      '--json',
    ]);
    expect(stderr).toMatch(/^run \d+ started/m);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.runs).toEqual([{ credentialId: a.credentialId, status: 'completed' }]);
    expect(stderr).toMatch(/^run \d+ completed$/m);
    const runs = await h.orm.em.fork().find(SyncRun, {}, { populate: ['credential'] });
    expect(runs.filter((r) => r.credential.id === b.credentialId)).toEqual([]);
    const runOfA = runs.find((r) => r.credential.id === a.credentialId);
    expect(runOfA).toMatchObject({ trigger: 'cli', status: 'completed' });
  }, 240_000);

  it('when `schedules reconcile --dry-run` runs, then it says what it would create and changes nothing', async () => {
    const { credentialId } = await createCompanyWithCredential(h.orm, h.sandbox.tenants[3]!, {
      name: 'Schedule Co',
    });
    const schedules = createScheduleService({
      orm: h.orm,
      temporal: h.temporal.client,
      taskQueue: h.worker.taskQueue,
      installationId: testInstallationId,
      logger: testLogger,
    });
    await schedules.put(credentialId, { frequency: 'daily' });
    await h.temporal.client.schedule.getHandle(scheduleId(testInstallationId, credentialId)).delete();
    try {
      const before = await rowCounts(h.orm);
      const { code, stdout } = await stsync(h.env, ['schedules', 'reconcile', '--dry-run']);
      expect(code).toBe(0);
      expect(stdout).toContain('dry run: schedules reconcile would leave 1 created');
      expect(stdout).toContain(`would create the schedule of credential ${credentialId}`);
      expect(await schedules.get(credentialId)).toMatchObject({ nextRunTimes: [] });
      await expect(
        h.temporal.client.schedule.getHandle(scheduleId(testInstallationId, credentialId)).describe(),
      ).rejects.toThrow();
      expect(await rowCounts(h.orm)).toEqual(before);

      const json = await stsync(h.env, ['schedules', 'reconcile', '--dry-run', '--json']);
      expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, created: [credentialId] });
    } finally {
      await schedules.remove(credentialId);
    }
  }, 180_000);

  it('when credentials are added with the secret on stdin, tested and disabled, then a non-terminal disable without --yes is refused', async () => {
    const tenant = h.sandbox.tenants[4]!;
    const company = await stsync(h.env, ['companies', 'add', '--name', 'Added Co', '--json']);
    expect(company.code).toBe(0);
    const { id: companyId } = JSON.parse(company.stdout);

    const added = await stsync(
      h.env,
      [
        'credentials',
        'add',
        '--company',
        String(companyId),
        '--environment',
        tenant.environment,
        '--tenant',
        String(tenant.tenantId),
        '--client-id',
        tenant.clientId,
        '--json',
      ],
      `${tenant.clientSecret}\n`,
    );
    expect(added.stderr).not.toContain(tenant.clientSecret);
    expect(added.code).toBe(0);
    const created = JSON.parse(added.stdout);
    expect(created).toMatchObject({ companyId, status: 'connected' });
    expect(added.stdout).not.toContain(tenant.clientSecret);

    const tested = await stsync(h.env, ['credentials', 'test', String(created.id)]);
    expect(tested.code).toBe(0);
    expect(tested.stdout).toContain(`credential ${created.id}: connected`);

    const listed = await stsync(h.env, ['credentials', 'list', '--company', String(companyId), '--json']);
    expect(JSON.parse(listed.stdout).map((c: { id: number }) => c.id)).toEqual([created.id]);

    const refused = await stsync(h.env, ['credentials', 'disable', String(created.id)]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('pass --yes');
    expect((await h.orm.em.fork().findOneOrFail(ServiceTitanCredential, created.id)).disabledAt).toBeNull();

    const disabled = await stsync(h.env, ['credentials', 'disable', String(created.id), '--yes']);
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toContain(`credential ${created.id} disabled`);
    expect(
      (await h.orm.em.fork().findOneOrFail(ServiceTitanCredential, created.id)).disabledAt,
    ).not.toBeNull();

    const bad = await stsync(h.env, ['credentials', 'test', 'abc']);
    expect(bad.code).toBe(2);
  }, 240_000);

  it('when `credentials import` reads a CSV with a bad line, then the good lines are added and tested, the bad one fails alone, and it says to delete the file', async () => {
    const [t1, t2] = [h.sandbox.tenants[5]!, h.sandbox.tenants[6]!];
    const file = join(dir, 'tenants.csv');
    await writeFile(
      file,
      [
        'company,environment,tenant_id,client_id,client_secret',
        `Import One,${t1.environment},${t1.tenantId},${t1.clientId},${t1.clientSecret}`,
        `Import Two,${t2.environment},${t2.tenantId},${t2.clientId},wrong-secret`,
        `Import Two,${t2.environment},${t2.tenantId},${t2.clientId},${t2.clientSecret}`,
        '',
      ].join('\n'),
    );
    const { code, stdout, stderr } = await stsync(h.env, ['credentials', 'import', file]);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      new RegExp(`^line 2: tenant ${t1.tenantId} → credential \\d+ \\(company \\d+\\): connected$`, 'm'),
    );
    expect(stdout).toMatch(/^line 3: failed: Not saved: /m);
    expect(stdout).toMatch(new RegExp(`^line 4: tenant ${t2.tenantId} → credential \\d+`, 'm'));
    expect(stderr).toContain('2 added, 1 failed.');
    expect(stderr).toContain(`${file} holds client secrets: delete it now.`);
    expect(stdout + stderr).not.toContain(t1.clientSecret);

    const jsonFile = join(dir, 'again.csv');
    await writeFile(jsonFile, 'company,environment,tenant_id,client_id,client_secret\nx,nowhere,1,a,b\n');
    const json = await stsync(h.env, ['credentials', 'import', jsonFile, '--json']);
    expect(json.code).toBe(1);
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([{ line: 2, ok: false, error: expect.stringContaining('environment') }]);
  }, 240_000);

  it('when a destructive command runs on a non-terminal without --yes, then it refuses with exit 2 and changes nothing; with --yes it runs', async () => {
    const token = await createTokenCommand(h.orm, { role: 'viewer', name: 'to revoke' });
    const before = await rowCounts(h.orm);
    const refused = await stsync(h.env, ['tokens', 'revoke', String(token.id)]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('pass --yes');
    const down = await stsync(h.env, ['migrate', 'down']);
    expect(down.code).toBe(2);
    expect(down.stderr).toContain('pass --yes');
    expect(await rowCounts(h.orm)).toEqual(before);

    const revoked = await stsync(h.env, ['tokens', 'revoke', String(token.id), '--yes', '--json']);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id: token.id });
    expect((await h.orm.em.fork().findOneOrFail(ApiToken, token.id)).revokedAt).not.toBeNull();

    const listed = await stsync(h.env, ['tokens', 'list', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: token.id, name: 'to revoke' })]),
    );
    const unknownOption = await stsync(h.env, ['sync', '--nope']);
    expect(unknownOption.code).toBe(2);
    const noTarget = await stsync(h.env, ['sync']);
    expect(noTarget.code).toBe(2);
    const noDryRun = await stsync(h.env, ['tokens', 'revoke', String(token.id), '--yes', '--dry-run']);
    expect(noDryRun.code).toBe(2);
    expect(noDryRun.stderr).toContain('has no --dry-run');
  }, 180_000);
});
