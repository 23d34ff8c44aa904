import type { MikroORM } from '@mikro-orm/postgresql';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../../src/activities/index.js';
import { Company } from '../../../src/db/entities/index.js';
import { DatabaseError, redactQuoted, toSafeDatabaseError } from '../../../src/db/errors.js';
import type { ServiceTitanClient } from '../../../src/servicetitan/index.js';
import { createCompanyWithCredential } from '../../support/fixtures.js';
import { connectTestOrm, testSecrets, truncateAll } from '../../support/integration.js';

/** A value a record could hold (a customer's name and phone): it must appear nowhere. */
const VALUE = 'Jane Q. Customer +1-555-0100';

describe('database errors never leak values', () => {
  let orm: MikroORM;
  let logs: string[];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void logs.push(line) });

  beforeAll(async () => {
    orm = await connectTestOrm();
  });
  beforeEach(async () => {
    logs = [];
    await truncateAll(orm);
  });
  afterAll(async () => {
    await orm?.close();
  });

  const expectNoValue = (...texts: unknown[]) => {
    for (const text of [...texts, ...logs])
      expect(typeof text === 'string' ? text : String(JSON.stringify(text))).not.toContain('Jane');
  };

  it('when PostgreSQL quotes the value it cannot parse (22P02), then a coded error without it and a redacted log', async () => {
    const raw = await orm.em
      .getConnection()
      .execute('select ?::numeric as n', [VALUE])
      .catch((e: unknown) => e);
    expect(String((raw as Error).message)).toContain(VALUE); // the premise: the raw error quotes it

    const safe = toSafeDatabaseError(raw, logger);
    expect(safe).toBeInstanceOf(DatabaseError);
    expect(safe).toMatchObject({ code: 'database_invalid_value', sqlState: '22P02', retryable: false });
    expectNoValue((safe as Error).message, (safe as DatabaseError).details);
    expect(logs.join('\n')).toContain('invalid input syntax for type numeric: \\"[redacted]\\"');
  });

  it('when a flush breaks a unique key (MikroORM exception, detail "Key (name)=(…)"), then database_conflict naming the constraint only', async () => {
    await orm.em
      .getConnection()
      .execute('create unique index companies_name_unique_test on companies (name)');
    try {
      const em = orm.em.fork();
      em.create(Company, { name: VALUE, timeZone: 'UTC' });
      await em.flush();
      const again = orm.em.fork();
      again.create(Company, { name: VALUE, timeZone: 'UTC' });
      const raw = await again.flush().catch((e: unknown) => e);
      expect(JSON.stringify((raw as { detail?: string }).detail)).toContain(VALUE);

      const safe = toSafeDatabaseError(raw, logger) as DatabaseError;
      expect(safe).toMatchObject({ code: 'database_conflict', sqlState: '23505' });
      expect(safe.message).toContain('companies_name_unique_test');
      expectNoValue(safe.message, safe.details);
      expect(logs.join('\n')).toContain('Key (name)=([redacted]) already exists.');
    } finally {
      await orm.em.getConnection().execute('drop index if exists companies_name_unique_test');
    }
  });

  it('when an activity hits such an error, then its Temporal failure holds the code, not the value, and is not retried', async () => {
    const { credentialId } = await createCompanyWithCredential(orm, {
      tenantId: 7,
      clientId: 'cid',
      clientSecret: 'cs',
    });
    const activities = createActivities({
      orm,
      logger,
      secrets: testSecrets,
      serviceTitan: {} as ServiceTitanClient,
    });
    const env = new MockActivityEnvironment();
    const created = (await env.run(activities.createScheduledSyncRun, credentialId)) as {
      syncRunId: number;
    } | null;
    expect(created).not.toBeNull();
    // The test database's own rule, so that PostgreSQL answers "Failing row contains (… value …)".
    await orm.em
      .getConnection()
      .execute(
        `alter table servicetitan_sync_runs add constraint sync_runs_error_test check (error is null or error not like '%Jane%')`,
      );
    try {
      const failure = await env
        .run(activities.markSyncRunSkipped, created!.syncRunId, `skipped because of ${VALUE}`)
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: 'database_invalid_value', nonRetryable: true });
      expect((failure as Error).message).toContain('sync_runs_error_test');
      expectNoValue(
        (failure as Error).message,
        (failure as ApplicationFailure).details,
        (failure as Error).cause,
      );
      expect(logs.join('\n')).toContain('Failing row contains ([redacted]).');
    } finally {
      await orm.em
        .getConnection()
        .execute('alter table servicetitan_sync_runs drop constraint sync_runs_error_test');
    }
  });

  it('redaction keeps the schema names and cuts from the first other quote to the last, even unbalanced', () => {
    expect(redactQuoted('duplicate key value violates unique constraint "t_pkey"', ['t_pkey'])).toBe(
      'duplicate key value violates unique constraint "t_pkey"',
    );
    expect(redactQuoted('invalid input syntax for type numeric: "a"b"', ['numeric'])).toBe(
      'invalid input syntax for type numeric: "[redacted]"',
    );
    expect(redactQuoted('value "x" of relation "t"', ['t'])).toBe('value "[redacted]" of relation "t"');
    expect(redactQuoted('an unterminated "quote', [])).toBe('an unterminated "[redacted]');
  });
});
