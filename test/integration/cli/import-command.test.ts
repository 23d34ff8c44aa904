import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxApp } from '../../../src/sandbox/index.js';
import { createCompanyWithCredential } from '../../support/fixtures.js';
import { connectTestOrm, testDatabaseUrl } from '../../support/integration.js';

const run = promisify(execFile);
const TENANT = 4_814_001;

describe('stsync import', () => {
  let orm: MikroORM;
  let dir: string;
  let sandbox: ReturnType<typeof createSandboxApp>;
  beforeAll(async () => {
    orm = await connectTestOrm();
    dir = await mkdtemp(join(tmpdir(), 'stsync-import-'));
    sandbox = createSandboxApp({ tenants: [{ tenantId: TENANT, customers: 30, invoices: 40 }] });
  });
  afterAll(async () => {
    sandbox?.dispose();
    await orm?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const stsync = async (args: string[]) => {
    const env = { ...process.env, DATABASE_URL: await testDatabaseUrl(), LOG_LEVEL: 'warn' };
    return run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'import', ...args], { env }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );
  };
  const count = async (sql: string, params: unknown[]) =>
    Number((await orm.em.fork().getConnection().execute<{ n: string }[]>(sql, params))[0]!.n);

  it('when a report is imported with --dry-run and then for real, then the dry run writes nothing and the import writes every row', async () => {
    const { companyId } = await createCompanyWithCredential(orm, {
      tenantId: TENANT,
      clientId: 'cid',
      clientSecret: 'cs',
      environment: 'production',
    });
    const file = join(dir, 'invoices.csv');
    await writeFile(file, [...sandbox.reportExport(TENANT, 'invoices')].join(''));
    const runs = () =>
      count(
        `select count(*) as n from servicetitan_sync_runs r join servicetitan_credentials c on c.id = r.credential_id where c.company_id = ?`,
        [companyId],
      );
    const dry = await stsync(['--company', String(companyId), '--kind', 'invoices', '--dry-run', file]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      'invoices import of invoices.csv, dry run (nothing written): 40 rows, 0 written, 0 skipped',
    );
    expect(await runs()).toBe(0);
    // --json: the result alone on stdout, for scripts; progress stays on stderr.
    const json = await stsync([
      '--company',
      String(companyId),
      '--kind',
      'invoices',
      '--dry-run',
      '--json',
      file,
    ]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      file: 'invoices.csv',
      kind: 'invoices',
      status: 'dry_run',
      rows: 40,
      upserted: 0,
      skipped: 0,
      syncRunId: null,
    });
    expect(json.stderr).toContain('40 rows read');
    expect(await runs()).toBe(0);

    const real = await stsync(['--company', String(companyId), '--kind', 'invoices', file]);
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(/invoices import of invoices\.csv, run \d+: 40 rows, 40 written, 0 skipped/);
    expect(await runs()).toBe(1);
    expect(await count(`select count(*) as n from invoices_stream where company_id = ?`, [companyId])).toBe(
      40,
    );
  }, 120_000);

  it('when the report has a column nobody knows, then the command exits 2 with the reason, and a mapping file gets it through', async () => {
    const { companyId } = await createCompanyWithCredential(orm, {
      tenantId: TENANT + 1,
      clientId: 'cid2',
      clientSecret: 'cs2',
      environment: 'production',
    });
    const file = join(dir, 'odd.csv');
    await writeFile(file, 'Cust No,Customer Name,Shoe Size,Modified On\n5,Ann Lee,9,2026-02-01T10:00:00Z\n');
    const refused = await stsync(['--company', String(companyId), '--kind', 'customers', file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('unknown column "Cust No"; unknown column "Shoe Size"');
    expect(await count(`select count(*) as n from members_stream where company_id = ?`, [companyId])).toBe(0);

    const mapping = join(dir, 'mapping.json');
    await writeFile(mapping, JSON.stringify({ 'Cust No': 'id', 'Shoe Size': null }));
    const mapped = await stsync([
      '--company',
      String(companyId),
      '--kind',
      'customers',
      '--mapping',
      mapping,
      file,
    ]);
    expect(mapped.code).toBe(0);
    expect(await count(`select count(*) as n from members_stream where company_id = ?`, [companyId])).toBe(1);

    const noKind = await stsync(['--company', String(companyId), file]);
    expect(noKind.code).toBe(2);
    expect(noKind.stderr).toContain('import needs --kind customers|invoices.');
  }, 120_000);
});
