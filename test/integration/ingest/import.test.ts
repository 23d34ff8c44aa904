import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { importReport } from '../../../src/ingest/import/import-report.js';
import { testLogger } from '../../support/integration.js';
import { type ApiHarness, createCompany, createCredential, startApiHarness } from '../api/support/harness.js';
import { waitFor } from '../notifications/support.js';

const SYNCED = 4_812_001;
const OTHER = 4_812_002;
const SPARE = 4_812_003;
const BAD_ROWS = 4_812_004;
const DRY_RUN = 4_812_005;
const MANUAL = 4_812_006;

/**
 * Columns that must differ between an API sync and an import of the same records: the surrogate
 * id, the company (A and B), the run that wrote the row, when it was seen, and `raw` (the record
 * as received: the API's JSON, or the report row). Invoices' line items are not in a report export.
 */
const differing = {
  members_stream: ['id', 'company_id', 'sync_run_id', 'first_seen_at', 'last_synced_at', 'raw'],
  invoices_stream: [
    'id',
    'company_id',
    'sync_run_id',
    'first_seen_at',
    'last_synced_at',
    'raw',
    'items',
    'item_count',
  ],
} as const;

describe('report imports (the manual path)', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({
      worker: true,
      sandbox: {
        pageSizes: { customers: 100, contacts: 100, invoices: 100 },
        tenants: [
          { tenantId: SYNCED, customers: 250, invoices: 300, environment: 'production' },
          { tenantId: OTHER, customers: 5, invoices: 5, environment: 'production' },
          ...[SPARE, BAD_ROWS, DRY_RUN, MANUAL].map((tenantId) => ({
            tenantId,
            customers: 5,
            invoices: 5,
            environment: 'production' as const,
          })),
        ],
      },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  const sql = <T>(text: string, params: unknown[] = []) =>
    h.orm.em.getConnection().execute<T[]>(text, params);
  const csv = (tenant: number, kind: 'customers' | 'invoices', differences?: object) =>
    Readable.from(h.sandbox.reportExport(tenant, kind, differences));
  const deps = () => ({ orm: h.orm, logger: testLogger });

  async function companyWithCredential(tenant: number): Promise<{ companyId: number; credentialId: number }> {
    const companyId = await createCompany(h, `Import ${tenant} ${Math.random()}`);
    const created = await createCredential(h, companyId, tenant);
    expect(created.status).toBe(201);
    return { companyId, credentialId: created.body.id };
  }

  async function rowsOf(table: keyof typeof differing, companyId: number) {
    const columns = (
      await sql<{ column_name: string }>(
        `select column_name from information_schema.columns where table_schema = current_schema() and table_name = ? order by ordinal_position`,
        [table],
      )
    )
      .map((c) => c.column_name)
      .filter((c) => !(differing[table] as readonly string[]).includes(c));
    expect(columns.length).toBeGreaterThan(10);
    const list = columns.map((c) => `"${c}"`).join(', ');
    return sql<Record<string, unknown>>(
      `select ${list} from "${table}" where company_id = ? order by external_id::bigint`,
      [companyId],
    );
  }

  it('when a tenant is synced into company A and its report exports imported into company B, then both hold the same rows, column for column', async () => {
    const a = await companyWithCredential(SYNCED);
    const started = await h.call('post', `/api/credentials/${a.credentialId}/syncs`, {
      body: { mode: 'full' },
    });
    expect(started.status).toBe(202);
    await waitFor(
      'the sync to end',
      async () => (await h.call('get', `/api/syncs/${started.body.id}`)).body.status === 'completed',
      120_000,
    );
    const b = await companyWithCredential(OTHER);
    const customers = await importReport(deps(), {
      companyId: b.companyId,
      environment: 'production',
      kind: 'customers',
      source: csv(SYNCED, 'customers'),
      sourceName: 'customers.csv',
    });
    const invoices = await importReport(deps(), {
      companyId: b.companyId,
      environment: 'production',
      kind: 'invoices',
      source: csv(SYNCED, 'invoices'),
      sourceName: 'invoices.csv',
    });
    expect(customers).toMatchObject({ status: 'completed', rows: 250, skipped: 0 });
    expect(invoices).toMatchObject({ status: 'completed', rows: 300, skipped: 0 });

    for (const table of ['members_stream', 'invoices_stream'] as const) {
      const synced = await rowsOf(table, a.companyId);
      const imported = await rowsOf(table, b.companyId);
      expect(synced.length).toBeGreaterThan(0);
      expect(imported).toEqual(synced);
    }
    // Emails and phones were really compared: the sync derived some from contacts.
    const withEmail = await sql<{ n: string }>(
      `select count(*) as n from members_stream where company_id = ? and email is not null and phone is not null`,
      [b.companyId],
    );
    expect(Number(withEmail[0]!.n)).toBeGreaterThan(100);

    // The import is a run with its source recorded, and the sync's downstream event.
    const runs = await sql<{ id: number; trigger: string; source: string; status: string }>(
      `select id, trigger, source, status from servicetitan_sync_runs where id in (?, ?) order by id`,
      [customers.syncRunId, invoices.syncRunId],
    );
    expect(runs).toEqual([
      {
        id: customers.syncRunId,
        trigger: 'import',
        source: 'report:customers customers.csv',
        status: 'completed',
      },
      {
        id: invoices.syncRunId,
        trigger: 'import',
        source: 'report:invoices invoices.csv',
        status: 'completed',
      },
    ]);
    const events = await sql<{ payload: { syncRunId: number; companyId: number } }>(
      `select payload from outbox_events where type = 'company_data.updated' and (payload ->> 'syncRunId')::int in (?, ?)`,
      [customers.syncRunId, invoices.syncRunId],
    );
    expect(events).toHaveLength(2);
    expect(events.every((e) => e.payload.companyId === b.companyId)).toBe(true);
  }, 240_000);

  it('when a report has an unknown column or lacks a required one, then the import is refused with the reason and nothing is written', async () => {
    const c = await companyWithCredential(SPARE);
    const before = await sql<{ n: string }>(`select count(*) as n from servicetitan_sync_runs`);
    const attempt = (text: string) =>
      importReport(deps(), {
        companyId: c.companyId,
        environment: 'production',
        kind: 'customers',
        source: Readable.from([text]),
        sourceName: 'bad.csv',
      });
    await expect(
      attempt('Customer ID,Customer Name,Favourite Colour,Modified On\n1,A,red,2026-01-01T00:00:00Z\n'),
    ).rejects.toThrow(/unknown column "Favourite Colour"/);
    await expect(attempt('Customer ID,Customer Name\n1,A\n')).rejects.toThrow(
      /missing required column "Modified On"/,
    );
    const error = await attempt('Name\n').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('invalid_import');
    // A mapping file names the odd column (or ignores it) and the same report imports.
    const mapped = await importReport(deps(), {
      companyId: c.companyId,
      environment: 'production',
      kind: 'customers',
      source: Readable.from([
        'cust no,Customer Name,Favourite Colour,MODIFIED ON\n7,A,red,2026-01-01T00:00:00Z\n',
      ]),
      sourceName: 'mapped.csv',
      mapping: { 'cust no': 'id', 'Favourite Colour': null },
    });
    expect(mapped).toMatchObject({ rows: 1, upserted: 1, skipped: 0 });
    const after = await sql<{ n: string }>(`select count(*) as n from servicetitan_sync_runs`);
    expect(Number(after[0]!.n)).toBe(Number(before[0]!.n) + 1);
    const members = await sql<{ external_id: string }>(
      `select external_id from members_stream where company_id = ?`,
      [c.companyId],
    );
    expect(members).toEqual([{ external_id: '7' }]);
  }, 60_000);

  it('when rows are bad, then they become skipped records with their reasons, the good rows are imported and the run completes with warnings', async () => {
    const c = await companyWithCredential(BAD_ROWS);
    const result = await importReport(deps(), {
      companyId: c.companyId,
      environment: 'production',
      kind: 'invoices',
      source: Readable.from([
        'Invoice ID,Invoice #,Total,Active,Modified On\r\n',
        '11,A-11,10.50,Yes,2026-01-01T00:00:00Z\r\n',
        '12,A-12,ten dollars,Yes,2026-01-01T00:00:00Z\r\n',
        '13,A-13,1.00,maybe,2026-01-01T00:00:00Z\r\n',
        'x,A-14,1.00,Yes,2026-01-01T00:00:00Z\r\n',
        '15,A-15,1.00\r\n',
      ]),
      sourceName: 'invoices.csv',
    });
    expect(result).toMatchObject({ status: 'completed_with_warnings', rows: 5, upserted: 1, skipped: 4 });
    const skipped = await sql<{ external_id: string | null; reason: string; stream: string }>(
      `select external_id, reason, stream from skipped_records where sync_run_id = ? order by id`,
      [result.syncRunId],
    );
    expect(skipped).toEqual([
      { external_id: '12', reason: 'total is not a decimal number: "ten dollars"', stream: 'invoices' },
      { external_id: '13', reason: 'Active is not a yes/no value: "maybe"', stream: 'invoices' },
      { external_id: null, reason: 'id is missing or not an id: "x"', stream: 'invoices' },
      { external_id: '15', reason: 'the row has 3 fields, the header 5', stream: 'invoices' },
    ]);
    expect(result.skippedSample.map((s) => s.line)).toEqual([3, 4, 5, 6]);
    const rows = await sql<{ external_id: string; total: string }>(
      `select external_id, total::text from invoices_stream where company_id = ?`,
      [c.companyId],
    );
    expect(rows).toEqual([{ external_id: '11', total: '10.50' }]);
  }, 60_000);

  it('when an import is a dry run, then it reports counts and errors and writes nothing', async () => {
    const c = await companyWithCredential(DRY_RUN);
    const count = async () =>
      (
        await sql<{ n: string }>(
          `select (select count(*) from servicetitan_sync_runs) + (select count(*) from members_stream)
            + (select count(*) from skipped_records) + (select count(*) from outbox_events) as n`,
        )
      )[0]!.n;
    const before = await count();
    const result = await importReport(deps(), {
      companyId: c.companyId,
      environment: 'production',
      kind: 'customers',
      source: csv(SYNCED, 'customers', { names: {} }),
      sourceName: 'customers.csv',
      dryRun: true,
    });
    expect(result).toMatchObject({ status: 'dry_run', syncRunId: null, rows: 250, skipped: 0, upserted: 0 });
    expect(await count()).toBe(before);
  }, 60_000);

  it('when the data-source flag says manual, then imports are still allowed', async () => {
    const c = await companyWithCredential(MANUAL);
    const set = await h.call('put', `/api/flags/data-source`, {
      body: { value: 'manual', companyId: c.companyId },
    });
    expect(set.status).toBe(200);
    const result = await importReport(deps(), {
      companyId: c.companyId,
      environment: 'production',
      kind: 'invoices',
      source: csv(MANUAL, 'invoices'),
      sourceName: 'invoices.csv',
    });
    expect(result).toMatchObject({ status: 'completed', rows: 5, upserted: 5 });
  }, 60_000);
});
