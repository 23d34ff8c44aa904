import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportDifferences } from '../../../src/sandbox/report-export.js';
import { testDatabaseUrl } from '../../support/integration.js';
import { type ApiHarness, createCompany, createCredential, startApiHarness } from '../api/support/harness.js';
import { waitFor } from '../notifications/support.js';

const run = promisify(execFile);
const SYNCED = 4_815_001;
const OTHER = 4_815_002;
const BOUNDARY = 'stsync-reconcile-boundary-51c2';

type Difference = {
  stream: string;
  kind: string;
  externalId: string | null;
  groupKey: string | null;
  field: string | null;
};
/** A difference as the test compares it: what it is about, not its values. */
const keyOf = (d: Difference) =>
  [d.stream, d.kind, d.externalId ?? '', d.groupKey ?? '', d.field ?? ''].join('|');

/**
 * Reconciliations against a tenant really synced through Temporal: the CLI (exit codes, files,
 * nothing written on bad input) and the API (upload, list, get, downloads, company scope).
 */
describe('reconciliation of report exports with the synced rows', () => {
  let h: ApiHarness;
  let dir: string;
  let credentialId: number;
  let companyId: number;
  let otherCompanyId: number;
  let otherCredentialId: number;

  beforeAll(async () => {
    h = await startApiHarness({
      worker: true,
      sandbox: {
        pageSizes: { customers: 50, contacts: 50, invoices: 50 },
        tenants: [
          { tenantId: SYNCED, customers: 120, invoices: 160, environment: 'production' },
          { tenantId: OTHER, customers: 3, invoices: 3, environment: 'production' },
        ],
      },
    });
    dir = await mkdtemp(join(tmpdir(), 'stsync-reconcile-'));
    companyId = await createCompany(h, 'Reconciled Heating');
    const created = await createCredential(h, companyId, SYNCED);
    expect(created.status).toBe(201);
    credentialId = created.body.id;
    otherCompanyId = await createCompany(h, 'Other Plumbing');
    otherCredentialId = (await createCredential(h, otherCompanyId, OTHER)).body.id;
    const started = await h.call('post', `/api/credentials/${credentialId}/syncs`, {
      body: { mode: 'full' },
    });
    expect(started.status).toBe(202);
    await waitFor(
      'the sync to complete',
      async () => (await h.call('get', `/api/syncs/${started.body.id}`)).body.status === 'completed',
      120_000,
    );
  }, 180_000);
  afterAll(async () => {
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const sql = <T>(text: string, params: unknown[] = []) =>
    h.orm.em.fork().getConnection().execute<T[]>(text, params);
  const reconciliations = async () =>
    Number((await sql<{ n: string }>('select count(*) as n from reconciliations'))[0]!.n);
  const exportOf = (kind: 'customers' | 'invoices', differences?: ReportDifferences) =>
    [...h.sandbox.reportExport(SYNCED, kind, differences)].join('');
  const rowsOf = (csv: string) => parse(csv, { columns: true }) as Record<string, string>[];
  const file = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };
  const stsync = async (args: string[]) => {
    const env = { ...process.env, DATABASE_URL: await testDatabaseUrl(), LOG_LEVEL: 'warn' };
    return run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'reconcile', ...args], { env }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );
  };

  /** Differences of every class, and the set a reconciliation must report for them. */
  function injected() {
    const customers = rowsOf(exportOf('customers'));
    const invoices = rowsOf(exportOf('invoices'));
    const c = customers.map((r) => r['Customer ID']!);
    const activeCustomer = customers.find((r, i) => i > 5 && r.Active === 'Yes')!['Customer ID']!;
    // Invoices inside the report's first..last invoice date: leaving one out keeps the period.
    const dates = invoices.map((r) => r['Invoice Date']!).sort();
    const [first, last] = [dates[0]!, dates.at(-1)!];
    const inside = invoices.filter((r) => r['Invoice Date']! > first && r['Invoice Date']! < last);
    const [gone, repriced, redated] = [inside[0]!, inside[1]!, inside[2]!];
    const newDate = inside.find((r) => r['Invoice Date'] !== redated['Invoice Date'])!['Invoice Date']!;
    const extraInvoice = 90_000_001;
    const customerDifferences: ReportDifferences = {
      missing: [Number(c[0])],
      extra: [99_000_001],
      names: { [Number(c[1])]: 'Someone Else Entirely' },
      active: { [Number(activeCustomer)]: false },
      dates: { [Number(c[3])]: '2001-02-03T04:05:06Z' },
      amounts: { [Number(c[4])]: '12345.67' },
    };
    const invoiceDifferences: ReportDifferences = {
      missing: [Number(gone['Invoice ID'])],
      extra: [extraInvoice],
      amounts: { [Number(repriced['Invoice ID'])]: (Number(repriced.Total) + 0.01).toFixed(2) },
      dates: { [Number(redated['Invoice ID'])]: newDate },
    };
    const expected = new Set<string>([
      keyOf({
        stream: 'customers',
        kind: 'missing_in_report',
        externalId: c[0]!,
        groupKey: null,
        field: null,
      }),
      keyOf({
        stream: 'customers',
        kind: 'missing_in_store',
        externalId: '99000001',
        groupKey: null,
        field: null,
      }),
      keyOf({
        stream: 'customers',
        kind: 'field_mismatch',
        externalId: c[1]!,
        groupKey: null,
        field: 'name',
      }),
      keyOf({
        stream: 'customers',
        kind: 'field_mismatch',
        externalId: activeCustomer,
        groupKey: null,
        field: 'active',
      }),
      keyOf({
        stream: 'customers',
        kind: 'field_mismatch',
        externalId: c[3]!,
        groupKey: null,
        field: 'createdOn',
      }),
      keyOf({
        stream: 'customers',
        kind: 'field_mismatch',
        externalId: c[4]!,
        groupKey: null,
        field: 'balance',
      }),
      keyOf({
        stream: 'invoices',
        kind: 'missing_in_report',
        externalId: gone['Invoice ID']!,
        groupKey: null,
        field: null,
      }),
      keyOf({
        stream: 'invoices',
        kind: 'missing_in_store',
        externalId: String(extraInvoice),
        groupKey: null,
        field: null,
      }),
      keyOf({
        stream: 'invoices',
        kind: 'field_mismatch',
        externalId: repriced['Invoice ID']!,
        groupKey: null,
        field: 'total',
      }),
      keyOf({
        stream: 'invoices',
        kind: 'field_mismatch',
        externalId: redated['Invoice ID']!,
        groupKey: null,
        field: 'invoiceDate',
      }),
    ]);
    // Totals per day and business unit, worked out here from the two exports' rows.
    const changed = rowsOf(exportOf('invoices', invoiceDifferences));
    for (const [kind, column] of [
      ['day_totals', 'Invoice Date'],
      ['business_unit_totals', 'Business Unit'],
    ] as const) {
      const totals = (rows: Record<string, string>[]) => {
        const by = new Map<string, { count: number; cents: number }>();
        for (const r of rows) {
          const key = r[column] || (kind === 'day_totals' ? '(no date)' : '(no business unit)');
          const t = by.get(key) ?? { count: 0, cents: 0 };
          t.count++;
          t.cents += Math.round(Number(r.Total) * 100);
          by.set(key, t);
        }
        return by;
      };
      const stored = totals(invoices);
      const report = totals(changed);
      for (const key of new Set([...stored.keys(), ...report.keys()])) {
        const s = stored.get(key) ?? { count: 0, cents: 0 };
        const r = report.get(key) ?? { count: 0, cents: 0 };
        if (s.count !== r.count)
          expected.add(keyOf({ stream: 'invoices', kind, externalId: null, groupKey: key, field: 'count' }));
        if (s.cents !== r.cents)
          expected.add(keyOf({ stream: 'invoices', kind, externalId: null, groupKey: key, field: 'total' }));
      }
    }
    return { customerDifferences, invoiceDifferences, expected, repriced };
  }

  describe('stsync reconcile', () => {
    it('when the clean exports are reconciled, then 0 differences are reported, the files hold none and it exits 0', async () => {
      const customers = await file('customers.csv', exportOf('customers'));
      const invoices = await file('invoices.csv', exportOf('invoices'));
      const out = join(dir, 'clean');
      const result = await stsync([
        '--credential',
        String(credentialId),
        '--customers',
        customers,
        '--invoices',
        invoices,
        '--out',
        out,
      ]);
      expect(result.stderr).not.toContain('stsync:');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(
        new RegExp(
          `^reconciliation \\d+ of credential ${credentialId} \\(company ${companyId}, production\\): matched, 0 differences`,
        ),
      );
      expect(result.stdout).toContain('customers (customers.csv): 120 report rows, 120 stored rows');
      expect(result.stdout).toMatch(
        /invoices \(invoices\.csv, invoice dates \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d\): 160 report rows, 160 stored rows/,
      );
      const [id] = (await readdir(out))
        .map((f) => /^reconciliation-(\d+)\.csv$/.exec(f)?.[1])
        .filter(Boolean);
      expect(await readFile(join(out, `reconciliation-${id}.csv`), 'utf8')).toBe(
        'stream,kind,external_id,group_key,field,report_value,stored_value,line\r\n',
      );
      const json = JSON.parse(await readFile(join(out, `reconciliation-${id}.json`), 'utf8'));
      expect(json.differences).toEqual([]);
      expect(json.summary).toMatchObject({ id: Number(id), status: 'matched', differences: 0 });
      expect(json.summary.streams.invoices.reportTotal).toBe(json.summary.streams.invoices.storedTotal);
      const [row] = await sql<{ status: string; started_by: string }>(
        'select status, started_by from reconciliations where id = ?',
        [Number(id)],
      );
      expect(row).toEqual({ status: 'matched', started_by: 'cli' });
    }, 120_000);

    it('when the exports carry injected differences, then exactly those are reported, in the files and the table, and it exits 1', async () => {
      const { customerDifferences, invoiceDifferences, expected, repriced } = injected();
      const customers = await file('customers-changed.csv', exportOf('customers', customerDifferences));
      const invoices = await file('invoices-changed.csv', exportOf('invoices', invoiceDifferences));
      const out = join(dir, 'changed');
      const result = await stsync([
        '--credential',
        String(credentialId),
        '--customers',
        customers,
        '--invoices',
        invoices,
        '--out',
        out,
        '--json',
      ]);
      expect(result.code).toBe(1);
      const summary = JSON.parse(result.stdout);
      expect(summary).toMatchObject({ status: 'differs', differences: expected.size });
      expect(summary.streams.customers.differences).toEqual({
        missing_in_report: 1,
        missing_in_store: 1,
        field_mismatch: 4,
      });
      expect(summary.streams.customers.fieldMismatches).toEqual({
        name: 1,
        active: 1,
        createdOn: 1,
        balance: 1,
      });
      const json = JSON.parse(await readFile(summary.files.json, 'utf8'));
      const found = (json.differences as Difference[]).map(keyOf);
      expect(new Set(found)).toEqual(expected);
      expect(found).toHaveLength(expected.size);
      const csv = rowsOf(await readFile(summary.files.csv, 'utf8'));
      expect(csv).toHaveLength(expected.size);
      // Amounts to the cent, with both values shown.
      expect(csv.find((d) => d.kind === 'field_mismatch' && d.field === 'total')).toMatchObject({
        external_id: repriced['Invoice ID'],
        report_value: (Number(repriced.Total) + 0.01).toFixed(2),
        stored_value: Number(repriced.Total).toFixed(2),
      });
      const stored = await sql<{ n: string }>(
        'select count(*) as n from reconciliation_differences where reconciliation_id = ?',
        [summary.id],
      );
      expect(Number(stored[0]!.n)).toBe(expected.size);
    }, 120_000);

    it('when an invoice report covers some days, then only stored invoices of those days are expected in it', async () => {
      const text = exportOf('invoices');
      const [header] = text.split('\r\n');
      const rows = rowsOf(text);
      const dates = rows.map((r) => r['Invoice Date']!).sort();
      const day = dates[Math.floor(dates.length / 2)]!;
      const ofDay = text
        .split('\r\n')
        .slice(1)
        .filter((line) => line.split(',')[2] === day);
      expect(ofDay.length).toBe(rows.filter((r) => r['Invoice Date'] === day).length);
      const report = await file('invoices-one-day.csv', `${header}\r\n${ofDay.join('\r\n')}\r\n`);
      const base = [
        '--credential',
        String(credentialId),
        '--invoices',
        report,
        '--out',
        join(dir, 'days'),
        '--json',
      ];

      const inferred = await stsync(base);
      expect(inferred.code).toBe(0);
      expect(JSON.parse(inferred.stdout).streams.invoices).toMatchObject({
        period: { from: day, to: day },
        reportRows: ofDay.length,
        storedRows: ofDay.length,
      });
      const given = await stsync([...base, '--from', dates[0]!, '--to', dates.at(-1)!]);
      expect(given.code).toBe(1);
      const summary = JSON.parse(given.stdout).streams.invoices;
      expect(summary).toMatchObject({ period: { from: dates[0], to: dates.at(-1) }, storedRows: 160 });
      expect(summary.differences.missing_in_report).toBe(160 - ofDay.length);
    }, 120_000);

    it('when a report has no Modified On, then it is compared on the columns it has', async () => {
      const first = rowsOf(exportOf('customers'))[2]!['Customer ID']!;
      // Modified On is the last column of the sandbox's customer report.
      const lines = exportOf('customers', { names: { [Number(first)]: 'Not The Name' } })
        .split('\r\n')
        .map((line) => (line ? line.slice(0, line.lastIndexOf(',')) : line));
      expect(lines[0]!.endsWith('Created On')).toBe(true);
      const report = await file('customers-no-modified.csv', lines.join('\r\n'));
      const result = await stsync([
        '--credential',
        String(credentialId),
        '--customers',
        report,
        '--out',
        join(dir, 'no-modified'),
        '--json',
      ]);
      expect(result.code).toBe(1);
      const summary = JSON.parse(result.stdout).streams.customers;
      expect(summary.fields).not.toContain('modifiedOn');
      expect(summary.fields).toContain('createdOn');
      expect(summary.differences).toEqual({ field_mismatch: 1 });
      expect(summary.fieldMismatches).toEqual({ name: 1 });
    }, 120_000);

    it('when the input is bad, then it exits 2 with the reason and writes nothing', async () => {
      const before = await reconciliations();
      const out = join(dir, 'refused');
      const invoices = await file('invoices-ok.csv', exportOf('invoices'));
      const noId = await file(
        'customers-no-id.csv',
        'Customer Name,Modified On\r\nAnn Lee,2026-01-01T00:00:00Z\r\n',
      );
      const cases: [string[], string][] = [
        [
          ['--credential', '999999', '--invoices', invoices, '--out', out],
          'Credential 999999 does not exist.',
        ],
        [
          ['--credential', String(credentialId), '--invoices', join(dir, 'nowhere.csv'), '--out', out],
          'cannot read',
        ],
        [
          ['--credential', String(credentialId), '--invoices', invoices, '--customers', noId, '--out', out],
          'missing required column "Customer ID"',
        ],
        [['--credential', String(credentialId), '--out', out], 'reconcile needs a report'],
        [['--invoices', invoices], 'reconcile needs --credential <id>'],
        [
          ['--credential', String(credentialId), '--invoices', invoices, '--from', '2026-01-01'],
          '--from and --to go together',
        ],
      ];
      for (const [args, reason] of cases) {
        const result = await stsync(args);
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stderr).toContain(reason);
        expect(result.stdout).toBe('');
      }
      expect(await reconciliations()).toBe(before);
      expect(await readdir(out).catch(() => [])).toEqual([]);
    }, 120_000);
  });

  describe('the API', () => {
    async function* multipart(parts: { name: string; filename: string; text: string }[]) {
      for (const p of parts)
        yield `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: text/csv\r\n\r\n${p.text}\r\n`;
      yield `--${BOUNDARY}--\r\n`;
    }
    const upload = async (
      id: number,
      parts: { name: string; filename: string; text: string }[],
      token?: string,
    ) => {
      let body = '';
      for await (const chunk of multipart(parts)) body += chunk;
      return h.call('post', `/api/credentials/${id}/reconciliations`, {
        raw: body,
        contentType: `multipart/form-data; boundary=${BOUNDARY}`,
        ...(token ? { token } : {}),
      });
    };

    it('when reports are uploaded, then the reconciliation is answered, listed, read and its differences downloaded as CSV and JSON; a company token sees only its own', async () => {
      const clean = await upload(credentialId, [
        { name: 'customers', filename: 'customers.csv', text: exportOf('customers') },
        { name: 'invoices', filename: 'invoices.csv', text: exportOf('invoices') },
      ]);
      expect(clean.status).toBe(201);
      expect(clean.body).toMatchObject({ credentialId, companyId, status: 'matched', differences: 0 });

      const names = rowsOf(exportOf('customers'))
        .slice(0, 2)
        .map((r) => Number(r['Customer ID']));
      // The sandbox's download takes the differences in its query.
      const download = await fetch(
        `${h.sandbox.url}/sandbox/reports/${SYNCED}/customers.csv?names=${names[0]}:Renamed%20Person,${names[1]}:Another%20Name`,
      );
      const text = await download.text();
      expect(text).toBe(
        exportOf('customers', { names: { [names[0]!]: 'Renamed Person', [names[1]!]: 'Another Name' } }),
      );
      const changed = await upload(credentialId, [{ name: 'customers', filename: 'changed.csv', text }]);
      expect(changed.status).toBe(201);
      expect(changed.body).toMatchObject({ status: 'differs', differences: 2, startedBy: 'ADMIN_TOKEN' });
      expect(changed.body.streams.invoices).toBeUndefined();

      const list = await h.call('get', `/api/credentials/${credentialId}/reconciliations`);
      expect(list.status).toBe(200);
      expect(list.body.items.slice(0, 2).map((r: { id: number }) => r.id)).toEqual([
        changed.body.id,
        clean.body.id,
      ]);
      const got = await h.call('get', `/api/reconciliations/${changed.body.id}`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(changed.body);

      const csv = await h.call('get', `/api/reconciliations/${changed.body.id}/differences.csv`);
      expect(csv.status).toBe(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      expect(rowsOf(csv.text).map((d) => [d.external_id, d.field, d.report_value])).toEqual([
        [String(names[0]), 'name', 'Renamed Person'],
        [String(names[1]), 'name', 'Another Name'],
      ]);
      const json = await h.call('get', `/api/reconciliations/${changed.body.id}/differences.json`);
      expect(json.status).toBe(200);
      expect(json.body.map((d: Difference) => [d.kind, d.externalId, d.field])).toEqual([
        ['field_mismatch', String(names[0]), 'name'],
        ['field_mismatch', String(names[1]), 'name'],
      ]);
      const audit = await sql<{ outcome: string; company_id: number; target_id: string }>(
        `select outcome, company_id, target_id from audit_events where action = 'reconciliation.create' and target_id = ?`,
        [String(changed.body.id)],
      );
      expect(audit).toEqual([
        { outcome: 'success', company_id: companyId, target_id: String(changed.body.id) },
      ]);

      // A token limited to another company sees none of it; one limited to this company does.
      const outsider = await h.token('operator', otherCompanyId);
      for (const path of [
        `/api/credentials/${credentialId}/reconciliations`,
        `/api/reconciliations/${changed.body.id}`,
        `/api/reconciliations/${changed.body.id}/differences.csv`,
      ])
        expect((await h.call('get', path, { token: outsider })).status, path).toBe(404);
      const refused = await upload(
        credentialId,
        [{ name: 'customers', filename: 'c.csv', text: exportOf('customers') }],
        outsider,
      );
      expect(refused.status).toBe(404);
      const ownOther = await upload(
        otherCredentialId,
        [{ name: 'customers', filename: 'c.csv', text: exportOf('customers') }],
        outsider,
      );
      // Its own credential has none of the synced tenant's rows: every report row is missing.
      expect(ownOther.status).toBe(201);
      expect(ownOther.body.streams.customers.differences).toEqual({ missing_in_store: 120 });
      const insider = await h.token('operator', companyId);
      expect(
        (await h.call('get', `/api/reconciliations/${changed.body.id}`, { token: insider })).status,
      ).toBe(200);
      const viewer = await h.token('viewer', companyId);
      expect((await h.call('get', `/api/reconciliations/${changed.body.id}`, { token: viewer })).status).toBe(
        200,
      );
      expect(
        (await h.call('get', `/api/reconciliations/${changed.body.id}/differences.csv`, { token: viewer }))
          .status,
      ).toBe(403);
      h.assertNoLeaks();
    }, 120_000);

    it('when an upload is refused (a missing column, an unknown part, no file), then it is answered 4xx and nothing is written', async () => {
      const before = await reconciliations();
      const missing = await upload(credentialId, [
        { name: 'invoices', filename: 'invoices.csv', text: exportOf('invoices') },
        {
          name: 'customers',
          filename: 'odd.csv',
          text: 'Customer Name,Modified On\r\nAnn,2026-01-01T00:00:00Z\r\n',
        },
      ]);
      expect(missing.status).toBe(422);
      expect(missing.body.message).toContain('missing required column "Customer ID"');
      const unknown = await upload(credentialId, [{ name: 'payments', filename: 'p.csv', text: 'a,b\r\n' }]);
      expect(unknown.status).toBe(400);
      const none = await upload(credentialId, []);
      expect(none.status).toBe(400);
      const halfPeriod = await h.call(
        'post',
        `/api/credentials/${credentialId}/reconciliations?from=2026-01-01`,
        {
          raw: `--${BOUNDARY}--\r\n`,
          contentType: `multipart/form-data; boundary=${BOUNDARY}`,
        },
      );
      expect(halfPeriod.status).toBe(400);
      expect(halfPeriod.body.error).toBe('validation_failed');
      expect(await reconciliations()).toBe(before);
    }, 60_000);
  });
});
