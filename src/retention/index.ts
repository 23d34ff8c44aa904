import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../logger.js';

/** Days to keep each kind of old data; 0 keeps it forever (defaults and settings: src/config.ts). */
export interface RetentionPolicy {
  /** Skipped records keep their reason; only the raw payload (personal data) goes. */
  skippedRawDays: number;
  auditDays: number;
  /** Only events already dispatched; undelivered ones wait however old. */
  outboxDays: number;
  /** Finished runs (with their skipped records); never a running one nor a credential's latest. */
  runsDays: number;
}

export interface RetentionReport {
  skippedRawCleared: number;
  auditDeleted: number;
  outboxDeleted: number;
  /** Webhook and email deliveries settled (succeeded, failed, cancelled) longer ago than outboxDays. */
  deliveriesDeleted: number;
  runsDeleted: number;
}

/**
 * Statements that each touch at most one batch (`limit ?`): short transactions, so pruning a
 * year's backlog never holds locks that stall a sync's writes.
 */
const statements = {
  skippedRaw: `update skipped_records set raw = null where id in (
      select id from skipped_records
       where raw is not null and created_at < now() - make_interval(days => ?) limit ?)`,
  audit: `delete from audit_events where id in (
      select id from audit_events where at < now() - make_interval(days => ?) limit ?)`,
  outbox: `delete from outbox_events where id in (
      select id from outbox_events
       where dispatched_at is not null and dispatched_at < now() - make_interval(days => ?) limit ?)`,
  // Delivery history goes with the outbox's; a pending delivery stays however old.
  webhookDeliveries: `delete from webhook_deliveries where id in (
      select id from webhook_deliveries
       where status <> 'pending' and created_at < now() - make_interval(days => ?) limit ?)`,
  emailDeliveries: `delete from email_deliveries where id in (
      select id from email_deliveries
       where status <> 'pending' and created_at < now() - make_interval(days => ?) limit ?)`,
  // A credential's latest run, its latest non-skipped run and its latest success stay: the
  // dashboard's last run and data freshness read them, however old.
  runs: `delete from servicetitan_sync_runs where id in (
      select r.id from servicetitan_sync_runs r
       where r.created_at < now() - make_interval(days => ?)
         and r.status not in ('pending', 'running', 'paused')
         and r.id not in (
           select distinct on (k.credential_id) k.id from servicetitan_sync_runs k
            order by k.credential_id, k.created_at desc, k.id desc)
         and r.id not in (
           select distinct on (k.credential_id) k.id from servicetitan_sync_runs k where k.status <> 'skipped'
            order by k.credential_id, k.created_at desc, k.id desc)
         and r.id not in (
           select distinct on (k.credential_id) k.id from servicetitan_sync_runs k
            where k.status in ('completed', 'completed_with_warnings')
            order by k.credential_id, k.created_at desc, k.id desc)
       limit ?)`,
} as const;

/** Applies a retention policy to the database; the retention workflow's activity calls it daily. */
export function createRetention(deps: { orm: MikroORM; logger: Logger; batchSize?: number }) {
  const batch = deps.batchSize ?? 5_000;

  /** Repeats one batch statement until a batch comes back short; `onBatch` lets a caller heartbeat. */
  async function drain(sql: string, days: number, onBatch: () => void): Promise<number> {
    if (days <= 0) return 0;
    let total = 0;
    for (;;) {
      const result = await deps.orm.em
        .fork()
        .getConnection()
        .execute<{ affectedRows: number }>(sql, [days, batch], 'run');
      const n = result.affectedRows ?? 0;
      total += n;
      onBatch();
      if (n < batch) return total;
    }
  }

  return {
    async prune(policy: RetentionPolicy, onBatch: () => void = () => {}): Promise<RetentionReport> {
      const report: RetentionReport = {
        skippedRawCleared: await drain(statements.skippedRaw, policy.skippedRawDays, onBatch),
        auditDeleted: await drain(statements.audit, policy.auditDays, onBatch),
        outboxDeleted: await drain(statements.outbox, policy.outboxDays, onBatch),
        deliveriesDeleted:
          (await drain(statements.webhookDeliveries, policy.outboxDays, onBatch)) +
          (await drain(statements.emailDeliveries, policy.outboxDays, onBatch)),
        runsDeleted: await drain(statements.runs, policy.runsDays, onBatch),
      };
      deps.logger.info({ policy, ...report }, 'retention applied');
      return report;
    },
  };
}

export type Retention = ReturnType<typeof createRetention>;
