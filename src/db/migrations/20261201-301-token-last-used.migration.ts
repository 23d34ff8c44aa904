import { Migration } from '@mikro-orm/migrations';

/** When each API token last authenticated a request, for the console's token list. */
export class Migration20261201301TokenLastUsed extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table "api_tokens" add column "last_used_at" timestamptz null;');
  }

  override async down(): Promise<void> {
    this.addSql('alter table "api_tokens" drop column "last_used_at";');
  }
}
