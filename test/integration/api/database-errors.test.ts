import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { truncateAll } from '../../support/integration.js';
import { type ApiHarness, startApiHarness } from './support/harness.js';

/** A company name a client would not want in our logs: the database quotes it in its error. */
const NAME = 'Jane Q. Customer Plumbing';

describe('a database error in a request', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness();
    await truncateAll(h.orm);
    // This file's own database: a rule whose violation PostgreSQL reports as "Key (name)=(…)".
    await h.orm.em
      .getConnection()
      .execute('create unique index companies_name_unique_test on companies (name)');
  });
  afterAll(async () => {
    await h?.orm.em.getConnection().execute('drop index if exists companies_name_unique_test');
    await h?.close();
  });

  it('when PostgreSQL refuses a change quoting its value, then a coded answer and log lines without the value', async () => {
    const first = await h.call('post', '/api/companies', {
      body: { name: NAME, timeZone: 'UTC' },
      exempt: true, // this answer echoes the name on purpose
    });
    expect(first.status).toBe(201);
    h.watched.add(NAME);

    const res = await h.call('post', '/api/companies', { body: { name: NAME, timeZone: 'UTC' } });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      error: 'database_conflict',
      details: { sqlState: '23505', table: 'companies', constraint: 'companies_name_unique_test' },
    });
    expect(h.logs.some((l) => l.includes('Key (name)=([redacted]) already exists.'))).toBe(true);
    h.assertNoLeaks();
  });
});
