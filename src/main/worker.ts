import { ensureFreshnessScheduleAtStart } from '../alerts/freshness-schedule.js';
import { ConfigError, loadConfig } from '../config.js';
import { readInstallationId } from '../db/installation.js';
import { closeOrm, createOrm } from '../db/orm.js';
import { createLogger } from '../logger.js';
import { createMetrics, startMetricsServer } from '../metrics/index.js';
import { ensureRetentionScheduleAtStart } from '../retention/schedule.js';
import { createTemporalClient } from '../temporal/client.js';
import { startWorker } from '../temporal/worker.js';
import { installationTaskQueue } from '../workflows/definitions.js';
import { createActivityDeps } from './activity-deps.js';
import { resolveEncryptionKeys } from './encryption-keys.js';
import { failStartup, onShutdownSignal } from './lifecycle.js';
import { notificationActivityDeps, startDispatcher } from './notifications.js';
import { requireDeployment } from './require-deployment.js';

/** A Temporal worker on the task queue; scale by running more of these. */
async function main() {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'stsync-worker', format: config.logFormat });
  const { databaseUrl, temporalAddress } = requireDeployment(config, 'worker');
  const appKey = config.serviceTitan.appKey;
  if (!appKey)
    throw new ConfigError('The worker needs SERVICETITAN_APP_KEY (the ServiceTitan application key).');
  const keys = await resolveEncryptionKeys(config, logger);
  const orm = await createOrm({ url: databaseUrl, logger });
  const installationId = await readInstallationId(orm);
  const taskQueue = installationTaskQueue(config.temporal.taskQueue, installationId);
  const metrics = createMetrics();
  const activities = createActivityDeps({
    orm,
    logger,
    keys,
    metrics,
    serviceTitan: {
      appKey,
      environments: config.serviceTitan,
      rateLimitPerSecond: config.serviceTitan.rateLimitPerSecond,
      breaker: config.breaker,
    },
    notifications: notificationActivityDeps(config),
    alerts: config.alerts,
  });
  const metricsServer =
    config.metrics.port === undefined
      ? undefined
      : await startMetricsServer({
          metrics,
          port: config.metrics.port,
          host: config.api.host,
          token: config.metrics.token,
          logger,
        });
  const worker = await startWorker({
    ...(config.metrics.temporalPort
      ? { temporalMetricsAddress: hostPort(config.api.host, config.metrics.temporalPort) }
      : {}),
    address: temporalAddress,
    namespace: config.temporal.namespace,
    taskQueue,
    logger,
    activities,
    connectTimeoutMs: config.temporal.connectTimeoutSeconds * 1000,
    shutdownGraceMs: config.temporal.shutdownGraceSeconds * 1000,
  });
  const temporal = createTemporalClient({ address: temporalAddress, namespace: config.temporal.namespace });
  const dispatcher = startDispatcher(config, {
    orm,
    databaseUrl,
    temporal: temporal.client,
    taskQueue,
    installationId,
    logger,
  });
  const release = async () => {
    await dispatcher.stop();
    await temporal.close();
    await metricsServer?.close();
    activities.close();
    await activities.breakersFlushed();
    await closeOrm(orm);
  };
  onShutdownSignal(logger, async () => {
    // Drain: no new tasks, and the chunks in hand end after their page commits, so their runs
    // carry on on the other workers; whatever still runs after the grace time is cancelled.
    activities.drain();
    await worker.stop();
    await release();
  });
  // A worker that stopped polling on its own does no more work: exit non-zero, so that the
  // supervisor (systemd, Kubernetes, docker) starts a new one, rather than idle for ever.
  worker.done.catch(async (error) => {
    logger.fatal({ err: error }, 'the worker failed and stops; exiting so that it is restarted');
    await release().catch(() => {});
    process.exit(1);
  });
  logger.info(
    {
      taskQueue,
      installationId,
      metrics: metricsServer?.url,
      temporalMetrics: config.metrics.temporalPort
        ? `http://${hostPort(config.api.host, config.metrics.temporalPort)}/metrics`
        : undefined,
    },
    'worker running',
  );
  // Every worker makes the retention schedule match its policy (idempotent).
  await ensureRetentionScheduleAtStart({
    temporal: temporal.client,
    taskQueue,
    installationId,
    policy: config.retention,
    logger,
  });
  await ensureFreshnessScheduleAtStart({
    temporal: temporal.client,
    taskQueue,
    installationId,
    policy: { graceMinutes: config.alerts.freshnessGraceMinutes, publicUrl: config.alerts.publicUrl },
    everyMinutes: config.alerts.freshnessCheckMinutes,
    logger,
  });
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

await main().catch(failStartup);
