import { Migration } from '@mikro-orm/migrations';

/** The browser console's sessions and one-time sign-in codes (ids and codes stored hashed). */
export class Migration20261130601ConsoleSessions extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "console_sessions" (
      "id" serial primary key,
      "session_hash" varchar(64) not null constraint "console_sessions_session_hash_unique" unique,
      "token_id" int null constraint "console_sessions_token_id_foreign" references "api_tokens" ("id") on delete cascade,
      "bootstrap_token_hash" varchar(64) null,
      "created_at" timestamptz not null,
      "expires_at" timestamptz not null,
      "last_seen_at" timestamptz not null);`);
    this.addSql('create index "console_sessions_expires_at_index" on "console_sessions" ("expires_at");');
    this.addSql(`create table "sign_in_codes" (
      "id" serial primary key,
      "code_hash" varchar(64) not null constraint "sign_in_codes_code_hash_unique" unique,
      "token_id" int not null constraint "sign_in_codes_token_id_foreign" references "api_tokens" ("id") on delete cascade,
      "created_at" timestamptz not null,
      "expires_at" timestamptz not null,
      "used_at" timestamptz null);`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "sign_in_codes";');
    this.addSql('drop table if exists "console_sessions";');
  }
}
