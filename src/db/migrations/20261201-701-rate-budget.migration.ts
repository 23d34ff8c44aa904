import { Migration } from '@mikro-orm/migrations';

/** Each tenant's ServiceTitan request budget, shared by every worker (src/servicetitan/rate-budget.store.ts). */
export class Migration20261201701RateBudget extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "servicetitan_rate_budgets" (
      "budget_key" varchar(96) not null,
      "next_at" timestamptz not null,
      "throttled_at" timestamptz null,
      "throttled_rate" double precision null,
      constraint "servicetitan_rate_budgets_pkey" primary key ("budget_key"));`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "servicetitan_rate_budgets";');
  }
}
