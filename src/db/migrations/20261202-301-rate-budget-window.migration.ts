import { Migration } from '@mikro-orm/migrations';

/**
 * A tenant's request budget keeps its latest slots and counts them in windows, as ServiceTitan
 * counts its limit, instead of spacing every request a 1/rate after the last: readers asking
 * together after their round trips go at once while the windows have room (only those that have
 * to wait are still spaced). `next_at` keeps only the hold of a 429's Retry-After.
 */
export class Migration20261202301RateBudgetWindow extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "servicetitan_rate_budgets" add column "recent" timestamptz[] not null default '{}';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql('alter table "servicetitan_rate_budgets" drop column "recent";');
  }
}
