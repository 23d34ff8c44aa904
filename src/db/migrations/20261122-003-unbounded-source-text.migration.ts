import { Migration } from '@mikro-orm/migrations';

/**
 * Free-text source fields become unbounded text: one over-long value (a zip, a reference number)
 * would otherwise fail its whole page on every retry and stall the stream for good.
 */
export class Migration20261122003UnboundedSourceText extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "members_stream"
      alter column "customer_type" type text, alter column "phone" type text, alter column "state" type text,
      alter column "zip" type text, alter column "country" type text;`);
    this.addSql(`alter table "invoices_stream"
      alter column "invoice_number" type text, alter column "job_number" type text;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "members_stream"
      alter column "customer_type" type varchar(32) using left("customer_type", 32),
      alter column "phone" type varchar(40) using left("phone", 40),
      alter column "state" type varchar(64) using left("state", 64),
      alter column "zip" type varchar(32) using left("zip", 32),
      alter column "country" type varchar(64) using left("country", 64);`);
    this.addSql(`alter table "invoices_stream"
      alter column "invoice_number" type varchar(64) using left("invoice_number", 64),
      alter column "job_number" type varchar(64) using left("job_number", 64);`);
  }
}
