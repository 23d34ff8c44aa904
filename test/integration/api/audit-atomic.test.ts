import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { truncateAll } from '../../support/integration.js';
import { type ApiHarness, createCompany, createCredential, startApiHarness } from './support/harness.js';

/**
 * The audit write is made to fail by a rule of this file's own database that rejects the
 * success row of one action (the attempt's "failed" row is still accepted).
 */
describe('a change and its audit row commit together', () => {
  let h: ApiHarness;
  const rejectSuccessOf = (action: string) =>
    h.orm.em
      .getConnection()
      .execute(
        `alter table audit_events add constraint audit_reject_test check (not (action = '${action}' and outcome = 'success'))`,
      );
  const auditRows = (action: string) =>
    h.orm.em
      .fork()
      .getConnection()
      .execute<{ outcome: string }[]>('select outcome from audit_events where action = ? order by id', [
        action,
      ]);

  beforeAll(async () => {
    h = await startApiHarness();
  });
  afterEach(async () => {
    await h.orm.em
      .getConnection()
      .execute('alter table audit_events drop constraint if exists audit_reject_test');
    await truncateAll(h.orm);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('when the audit row of a new company cannot be written, then no company is created and the answer says nothing changed', async () => {
    await truncateAll(h.orm);
    await rejectSuccessOf('company.create');
    const res = await h.call('post', '/api/companies', {
      body: { name: 'Never Stored Inc', timeZone: 'UTC' },
    });
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('audit_unavailable');
    expect(res.body.message).toContain('Nothing was changed');
    expect(await h.count('companies')).toBe(0);
    expect((await auditRows('company.create')).map((r) => r.outcome)).toEqual(['failed']);
  });

  it('when the audit row of a credential change cannot be written, then the secret is not rotated', async () => {
    await truncateAll(h.orm);
    const companyId = await createCompany(h);
    const created = await createCredential(h, companyId, 1_000_001);
    expect(created.status).toBe(201);
    const before = await h.orm.em
      .fork()
      .getConnection()
      .execute<{ secret: string; message: string | null }[]>(
        'select client_secret_encrypted as secret, status_message as message from servicetitan_credentials',
      );
    await rejectSuccessOf('credential.rotate');

    const res = await h.call('patch', `/api/credentials/${created.body.id}`, {
      body: { clientSecret: 'cs1.rotated-but-never-stored' },
    });
    expect(res.status).toBe(503);
    const after = await h.orm.em
      .fork()
      .getConnection()
      .execute<{ secret: string; message: string | null }[]>(
        'select client_secret_encrypted as secret, status_message as message from servicetitan_credentials',
      );
    expect(after).toEqual(before);
    expect(after[0]?.message ?? '').not.toContain('The secret was changed');
  });

  it('when the audit row of a schedule change cannot be written, then the applied change is answered and the gap logged', async () => {
    await truncateAll(h.orm);
    const companyId = await createCompany(h);
    const created = await createCredential(h, companyId, 1_000_001);
    await rejectSuccessOf('schedule.put');
    const res = await h.call('put', `/api/credentials/${created.body.id}/schedule`, {
      body: { frequency: 'daily' },
    });
    expect(res.status).toBe(200);
    expect(await h.count('sync_schedules')).toBe(1);
    expect(h.logs.some((l) => l.includes('audit write failed after a change that cannot be undone'))).toBe(
      true,
    );
    await h.call('delete', `/api/credentials/${created.body.id}/schedule`);
  });
});
