import { Migration } from '@mikro-orm/migrations';

const syncedTables = ['members_stream', 'invoices_stream'] as const;

/**
 * Every synced row carries the ServiceTitan environment it came from, in its key: a company's
 * Integration and Production tenants have overlapping record ids, and keyed without it one
 * tenant's record overwrote the other's.
 *
 * Existing rows take the environment of the run that last wrote them (its values are that run's),
 * else of their company's only credential. What cannot be attributed (contacts of a company with
 * both environments, rows whose run was deleted) is dropped, and those companies' stream cursors
 * are reset, so the next sync re-reads both tenants in full and rebuilds exactly their rows.
 */
export class Migration20261130101RowEnvironment extends Migration {
  override async up(): Promise<void> {
    const soleEnvironment = (alias: string) => `(select min(c.environment) from servicetitan_credentials c
        where c.company_id = ${alias}.company_id having count(distinct c.environment) = 1)`;
    for (const table of syncedTables) {
      this.addSql(`alter table "${table}" add column "environment" text null;`);
      this.addSql(`update "${table}" t set "environment" = c.environment
        from servicetitan_sync_runs r join servicetitan_credentials c on c.id = r.credential_id
        where t.sync_run_id = r.id;`);
      this.addSql(
        `update "${table}" t set "environment" = ${soleEnvironment('t')} where t."environment" is null;`,
      );
      this.addSql(`update "${table}" t set "environment" = 'production' where t."environment" is null
        and not exists (select 1 from servicetitan_credentials c where c.company_id = t.company_id);`);
      this.addSql(`delete from "${table}" where "environment" is null;`);
    }
    this.addSql(`alter table "servicetitan_customer_contacts" add column "environment" text null;`);
    this.addSql(`update "servicetitan_customer_contacts" t set "environment" = coalesce(${soleEnvironment('t')},
        case when not exists (select 1 from servicetitan_credentials c where c.company_id = t.company_id)
        then 'production' end);`);
    this.addSql(`delete from "servicetitan_customer_contacts" where "environment" is null;`);
    this.addSql(`delete from sync_stream_state where credential_id in
      (select id from servicetitan_credentials where company_id in (select company_id from servicetitan_credentials
        group by company_id having count(distinct environment) > 1));`);

    for (const [table, key] of [
      ['members_stream', ['company_id', 'environment', 'software', 'external_id']],
      ['invoices_stream', ['company_id', 'environment', 'software', 'external_id']],
      ['servicetitan_customer_contacts', ['company_id', 'environment', 'external_id']],
    ] as const) {
      this.addSql(`alter table "${table}" alter column "environment" set not null,
        add constraint "${table}_environment_check" check ("environment" in ('integration', 'production')),
        drop constraint "${table}_source_unique",
        add constraint "${table}_source_unique" unique (${key.map((k) => `"${k}"`).join(', ')});`);
    }
  }

  override async down(): Promise<void> {
    // Back to one row per (company, external id): where both environments hold a record, the
    // Production one stays.
    for (const [table, key] of [
      ['members_stream', ['company_id', 'software', 'external_id']],
      ['invoices_stream', ['company_id', 'software', 'external_id']],
      ['servicetitan_customer_contacts', ['company_id', 'external_id']],
    ] as const) {
      const same = key.map((k) => `i."${k}" = p."${k}"`).join(' and ');
      this.addSql(`delete from "${table}" i where i.environment = 'integration'
        and exists (select 1 from "${table}" p where p.environment = 'production' and ${same});`);
      this.addSql(`alter table "${table}" drop constraint "${table}_source_unique",
        drop constraint "${table}_environment_check", drop column "environment",
        add constraint "${table}_source_unique" unique (${key.map((k) => `"${k}"`).join(', ')});`);
    }
  }
}
