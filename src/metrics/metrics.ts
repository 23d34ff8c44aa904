import type { MikroORM } from '@mikro-orm/postgresql';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import type { BreakerState, ServiceTitanEnvironment, ServiceTitanObserver } from '../servicetitan/index.js';

/**
 * The process's metrics, in one registry made here and handed down through deps (no global
 * registry): the API serves it at /metrics, a worker on METRICS_PORT. Labels carry ids, names of
 * streams, endpoints as path templates, statuses and outcomes: never a secret, a token or a
 * record's value.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly recordsWritten: Counter<'stream' | 'environment'>;
  readonly recordsSkipped: Counter<'stream' | 'environment'>;
  /**
   * Where a sync's time goes, by stream and phase: `fetch` (waiting for the next page: request,
   * body and JSON parse, minus whatever overlapped with the previous page's write), `map`, `write`
   * (COPY and merge) and `commit` (run counts, cursor, commit).
   */
  readonly syncPhaseSeconds: Counter<'stream' | 'phase'>;
  /**
   * Where a full load's planning goes, by step: `token` (the access token), `probes` (each
   * stream's count and first export page, sent together) and `boundaries` (the counts that place
   * the windows' boundaries). Far from the server each is at least a round trip.
   */
  readonly fullLoadPlanSeconds: Counter<'step'>;
  readonly serviceTitanRequests: Counter<'environment' | 'endpoint' | 'status'>;
  readonly serviceTitanRequestDuration: Histogram<'environment' | 'endpoint' | 'status'>;
  readonly serviceTitanRateLimited: Counter<'environment' | 'endpoint'>;
  readonly serviceTitanBudgetWait: Counter<'environment' | 'endpoint'>;
  readonly serviceTitanRetries: Counter<'environment' | 'endpoint' | 'reason'>;
  readonly breakerState: Gauge<'environment'>;
  readonly breakerOpened: Counter<'environment'>;
  readonly syncRuns: Counter<'trigger' | 'status' | 'environment'>;
  readonly syncRunDuration: Histogram<'trigger' | 'status' | 'environment'>;
  /** For the webhook dispatcher: `outcome` = delivered | failed (will retry) | gave_up. */
  readonly webhookDeliveries: Counter<'outcome'>;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  /** Feeds the ServiceTitan client's requests, retries and breaker transitions into the metrics. */
  readonly serviceTitanObserver: ServiceTitanObserver;
  /** The exposition, in Prometheus text format. */
  text(): Promise<string>;
  readonly contentType: string;
}

/** The breaker gauge's values: ordered so that `> 0` means "not closed". */
export const breakerStateValue: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

const environments: ServiceTitanEnvironment[] = ['integration', 'production'];

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'stsync_' });

  const recordsWritten = new Counter({
    name: 'stsync_records_written_total',
    help: 'Records inserted or updated in PostgreSQL, by stream and ServiceTitan environment.',
    labelNames: ['stream', 'environment'] as const,
    registers,
  });
  const recordsSkipped = new Counter({
    name: 'stsync_records_skipped_total',
    help: 'Records not stored (invalid or unmappable; kept in skipped_records), by stream and environment.',
    labelNames: ['stream', 'environment'] as const,
    registers,
  });
  const syncPhaseSeconds = new Counter({
    name: 'stsync_sync_phase_seconds_total',
    help: 'Seconds a sync spent per stream and phase: fetch (waiting for a page), map, write (COPY and merge), commit.',
    labelNames: ['stream', 'phase'] as const,
    registers,
  });
  const fullLoadPlanSeconds = new Counter({
    name: 'stsync_full_load_plan_seconds_total',
    help: "Seconds full loads' planning spent per step: token, probes (counts and first pages), boundaries (counts placing the windows).",
    labelNames: ['step'] as const,
    registers,
  });
  const serviceTitanRequests = new Counter({
    name: 'stsync_servicetitan_requests_total',
    help: 'HTTP requests sent to the ServiceTitan API (each retry counts), by endpoint template and status (HTTP code, timeout or network).',
    labelNames: ['environment', 'endpoint', 'status'] as const,
    registers,
  });
  const serviceTitanRequestDuration = new Histogram({
    name: 'stsync_servicetitan_request_duration_seconds',
    help: 'Duration of ServiceTitan API requests, body included.',
    labelNames: ['environment', 'endpoint', 'status'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers,
  });
  const serviceTitanRateLimited = new Counter({
    name: 'stsync_servicetitan_rate_limited_total',
    help: 'ServiceTitan answers 429 (rate limited).',
    labelNames: ['environment', 'endpoint'] as const,
    registers,
  });
  const serviceTitanBudgetWait = new Counter({
    name: 'stsync_servicetitan_budget_wait_seconds_total',
    help: "Time ServiceTitan requests waited for a slot of their tenant's request budget (its reservation included).",
    labelNames: ['environment', 'endpoint'] as const,
    registers,
  });
  const serviceTitanRetries = new Counter({
    name: 'stsync_servicetitan_retries_total',
    help: 'ServiceTitan requests retried by the client, by reason (rate_limited, server_error, timeout, network, token_refresh, ...).',
    labelNames: ['environment', 'endpoint', 'reason'] as const,
    registers,
  });
  const breakerState = new Gauge({
    name: 'stsync_servicetitan_breaker_state',
    help: "This process's ServiceTitan circuit breaker per environment: 0 closed, 1 half-open (probing), 2 open (requests paused).",
    labelNames: ['environment'] as const,
    registers,
  });
  const breakerOpened = new Counter({
    name: 'stsync_servicetitan_breaker_opened_total',
    help: 'Times the ServiceTitan circuit breaker opened (or re-opened after a failed probe).',
    labelNames: ['environment'] as const,
    registers,
  });
  for (const environment of environments) {
    breakerState.set({ environment }, 0);
    breakerOpened.inc({ environment }, 0);
  }
  const syncRuns = new Counter({
    name: 'stsync_sync_runs_total',
    help: 'Sync runs finished, by trigger, final status and environment.',
    labelNames: ['trigger', 'status', 'environment'] as const,
    registers,
  });
  const syncRunDuration = new Histogram({
    name: 'stsync_sync_run_duration_seconds',
    help: 'Duration of finished sync runs, from start to finish.',
    labelNames: ['trigger', 'status', 'environment'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21_600, 86_400],
    registers,
  });
  const webhookDeliveries = new Counter({
    name: 'stsync_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome (delivered, failed, gave_up).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const httpRequestDuration = new Histogram({
    name: 'stsync_http_request_duration_seconds',
    help: 'Admin API and console requests, by method, Express route pattern (never the raw URL) and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  return {
    registry,
    recordsWritten,
    recordsSkipped,
    syncPhaseSeconds,
    fullLoadPlanSeconds,
    serviceTitanRequests,
    serviceTitanRequestDuration,
    serviceTitanRateLimited,
    serviceTitanBudgetWait,
    serviceTitanRetries,
    breakerState,
    breakerOpened,
    syncRuns,
    syncRunDuration,
    webhookDeliveries,
    httpRequestDuration,
    serviceTitanObserver: {
      request({ environment, endpoint, status, seconds }) {
        serviceTitanRequests.inc({ environment, endpoint, status });
        serviceTitanRequestDuration.observe({ environment, endpoint, status }, seconds);
        if (status === '429') serviceTitanRateLimited.inc({ environment, endpoint });
      },
      budgetWait({ environment, endpoint, seconds }) {
        serviceTitanBudgetWait.inc({ environment, endpoint }, seconds);
      },
      retry({ environment, endpoint, reason }) {
        serviceTitanRetries.inc({ environment, endpoint, reason });
      },
      breakerTransition({ environment, state }) {
        breakerState.set({ environment }, breakerStateValue[state]);
        if (state === 'open') breakerOpened.inc({ environment });
      },
    },
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

/**
 * Gauges read from PostgreSQL at scrape time, so they are right whichever worker did the work:
 * each credential's status and last success (labelled by id and environment only: no company
 * name, tenant or client id), and the outbox (recent events by type, the oldest undelivered).
 * Registered by the API's composition root; a failed query leaves the gauges empty and is logged.
 */
export function registerDatabaseMetrics(metrics: Metrics, deps: { orm: MikroORM; logger: Logger }): void {
  const registers = [metrics.registry];
  const query = async <T extends object>(sql: string): Promise<T[] | undefined> => {
    try {
      return await deps.orm.em.fork().getConnection().execute<T[]>(sql);
    } catch (error) {
      deps.logger.warn({ err: error }, 'metrics: the database could not be read');
      return undefined;
    }
  };
  new Gauge({
    name: 'stsync_credential_status',
    help: "Each ServiceTitan credential's status: 1 on the series of its current status (connected, invalid_credentials, awaiting_approval, unreachable, untested, ...).",
    labelNames: ['credential_id', 'environment', 'status'] as const,
    registers,
    async collect() {
      this.reset();
      const rows = await query<{ id: number; environment: string; status: string }>(
        `select id, environment, status from servicetitan_credentials`,
      );
      for (const r of rows ?? [])
        this.set({ credential_id: String(r.id), environment: r.environment, status: r.status }, 1);
    },
  });
  new Gauge({
    name: 'stsync_credential_last_success_timestamp_seconds',
    help: "When each credential's last successful run (completed or completed with warnings) finished, Unix seconds; absent when it never succeeded.",
    labelNames: ['credential_id', 'environment'] as const,
    registers,
    async collect() {
      this.reset();
      const rows = await query<{ id: number; environment: string; finished: string | number }>(
        `select c.id, c.environment, extract(epoch from max(r.finished_at)) as finished
         from servicetitan_credentials c join servicetitan_sync_runs r on r.credential_id = c.id
         where r.status in ('completed', 'completed_with_warnings') and c.disabled_at is null
         group by c.id, c.environment`,
      );
      for (const r of rows ?? [])
        this.set({ credential_id: String(r.id), environment: r.environment }, Number(r.finished));
    },
  });
  new Gauge({
    name: 'stsync_outbox_events_last_hour',
    help: 'Events written to the outbox in the past hour, by type (sync.failed, data_quality.anomaly, freshness.stale, ...).',
    labelNames: ['type'] as const,
    registers,
    async collect() {
      this.reset();
      const rows = await query<{ type: string; n: string | number }>(
        `select type, count(*) as n from outbox_events where created_at > now() - interval '1 hour' group by type`,
      );
      for (const r of rows ?? []) this.set({ type: r.type }, Number(r.n));
    },
  });
  new Gauge({
    name: 'stsync_outbox_oldest_undelivered_seconds',
    help: 'Age of the oldest outbox event not yet dispatched, by type; absent when none waits.',
    labelNames: ['type'] as const,
    registers,
    async collect() {
      this.reset();
      const rows = await query<{ type: string; age: string | number }>(
        `select type, extract(epoch from now() - min(created_at)) as age from outbox_events
         where dispatched_at is null group by type`,
      );
      for (const r of rows ?? []) this.set({ type: r.type }, Number(r.age));
    },
  });
}
