import { ensureFreshnessScheduleAtStart } from '../alerts/freshness-schedule.js';
import { ConfigError, loadConfig } from '../config.js';
import { readInstallationId } from '../db/installation.js';
import { closeOrm, createOrm } from '../db/orm.js';
import { createLogger } from '../logger.js';
import { ensureRetentionScheduleAtStart } from '../retention/schedule.js';
import { createTemporalClient } from '../temporal/client.js';
import { startWorker } from '../temporal/worker.js';
import { installationTaskQueue } from '../workflows/definitions.js';
import { createActivityDeps } from './activity-deps.js';
import { resolveEncryptionKeys } from './encryption-keys.js';
import { failStartup, onShutdownSignal } from './lifecycle.js';
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
  const activities = createActivityDeps({
    orm,
    logger,
    keys,
    serviceTitan: { appKey, environments: config.serviceTitan },
    alerts: config.alerts,
  });
  const worker = await startWorker({
    address: temporalAddress,
    namespace: config.temporal.namespace,
    taskQueue,
    logger,
    activities,
    connectTimeoutMs: config.temporal.connectTimeoutSeconds * 1000,
  });
  const release = async () => {
    activities.close();
    await closeOrm(orm);
  };
  onShutdownSignal(logger, async () => {
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
  logger.info({ taskQueue, installationId }, 'worker running');
  // Every worker makes the retention schedule match its policy (idempotent).
  const temporal = createTemporalClient({ address: temporalAddress, namespace: config.temporal.namespace });
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
  }).finally(() => temporal.close());
}

await main().catch(failStartup);
