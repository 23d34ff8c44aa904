import { createApp } from '../api/app.js';
import { loadConfig } from '../config.js';
import { createSecretBox } from '../crypto/secret-box.js';
import { readInstallationId } from '../db/installation.js';
import { closeOrm, createOrm } from '../db/orm.js';
import { createRateBudgetStore } from '../db/repositories/rate-budget.repository.js';
import { createLogger } from '../logger.js';
import { createMetrics, registerDatabaseMetrics } from '../metrics/index.js';
import { createScheduleService } from '../schedules/index.js';
import { createTemporalClient } from '../temporal/client.js';
import { installationTaskQueue } from '../workflows/definitions.js';
import { failStartup, onShutdownSignal } from './lifecycle.js';
import { listen } from './listen.js';
import { webhookPolicy } from './notifications.js';
import { requireDeployment } from './require-deployment.js';

/** The admin API alone, against an existing PostgreSQL and Temporal. */
async function main() {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'stsync-api', format: config.logFormat });
  const { databaseUrl, temporalAddress } = requireDeployment(config, 'API');
  const orm = await createOrm({ url: databaseUrl, logger });
  const installationId = await readInstallationId(orm);
  const taskQueue = installationTaskQueue(config.temporal.taskQueue, installationId);
  const temporal = createTemporalClient({ address: temporalAddress, namespace: config.temporal.namespace });
  const metrics = createMetrics();
  registerDatabaseMetrics(metrics, { orm, logger });
  // Connection tests spend the tenants' budget that the workers share.
  const rateBudget = config.serviceTitan.appKey ? createRateBudgetStore(orm) : undefined;
  const server = await listen(
    createApp({
      orm,
      temporal: temporal.client,
      logger,
      metrics,
      metricsToken: config.metrics.token,
      trustProxy: config.api.trustProxy,
      api: {
        ...(config.encryptionKeys?.length ? { secrets: createSecretBox(config.encryptionKeys) } : {}),
        ...(config.serviceTitan.appKey
          ? {
              serviceTitan: {
                appKey: config.serviceTitan.appKey,
                environments: config.serviceTitan,
                rateLimitPerSecond: config.serviceTitan.rateLimitPerSecond,
                rateBudget,
                logger,
              },
            }
          : {}),
        setup: {
          appKey: config.serviceTitan.appKey ? 'configured' : 'missing',
          environments: config.serviceTitan,
          encryption: config.encryptionKeys?.length
            ? { source: 'environment', versions: config.encryptionKeys.map((k) => k.version) }
            : undefined,
        },
        taskQueue,
        installationId,
        schedules: createScheduleService({
          orm,
          temporal: temporal.client,
          taskQueue,
          installationId,
          logger,
        }),
        adminToken: config.api.adminToken,
        sessionTtlHours: config.api.sessionTtlHours,
        importMaxBytes: config.api.importMaxBytes,
        webhooks: {
          policy: webhookPolicy(config),
          timeoutMs: config.notifications.webhookTimeoutMs,
          defaultEmailEvents: config.notifications.emailEvents,
          undeliveredAlertMinutes: config.notifications.undeliveredAlertMinutes,
        },
        publicUrl: config.publicUrl,
        ...(config.temporal.uiUrl
          ? { temporalUi: { url: config.temporal.uiUrl, namespace: config.temporal.namespace } }
          : {}),
      },
    }),
    config.api.port,
    config.api.host,
  );
  logger.info({ url: server.url, installationId }, 'API listening');
  onShutdownSignal(logger, async () => {
    await server.close();
    await temporal.close();
    await rateBudget?.close();
    await closeOrm(orm);
  });
}

await main().catch(failStartup);
