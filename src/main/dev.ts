import { ensureFreshnessScheduleAtStart } from '../alerts/freshness-schedule.js';
import { createApp } from '../api/app.js';
import { createSignInCode } from '../auth/index.js';
import { loadConfig } from '../config.js';
import { createSecretBox } from '../crypto/secret-box.js';
import { readInstallationId } from '../db/installation.js';
import { migrateUp } from '../db/migrate.js';
import { closeOrm, createOrm } from '../db/orm.js';
import { createRateBudgetStore } from '../db/repositories/rate-budget.repository.js';
import { freePort } from '../infra/free-port.js';
import { createLogger } from '../logger.js';
import { createMetrics, registerDatabaseMetrics, startMetricsServer } from '../metrics/index.js';
import { ensureRetentionScheduleAtStart } from '../retention/schedule.js';
import { sandboxDirectory } from '../sandbox/index.js';
import { createScheduleService } from '../schedules/index.js';
import { createTemporalClient } from '../temporal/client.js';
import { installTemporalRuntime, startWorker } from '../temporal/worker.js';
import { installationTaskQueue, syncWorkflowId } from '../workflows/definitions.js';
import { createActivityDeps } from './activity-deps.js';
import { ensureDemoTenant, startDemoSandbox } from './demo.js';
import { resolveEncryptionKeys } from './encryption-keys.js';
import { resolveInfrastructure } from './infrastructure.js';
import { failStartup, onShutdownSignal } from './lifecycle.js';
import { listen } from './listen.js';
import { notificationActivityDeps, startDispatcher, webhookPolicy } from './notifications.js';
import { writeRuntime } from './runtime-file.js';

/**
 * Everything in one process tree: PostgreSQL and Temporal (embedded unless configured), the
 * ServiceTitan sandbox with a demo tenant (unless an app key is configured), the worker and the
 * API. Stops it all, newest first, on Ctrl-C.
 */
async function main() {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  // Stopped newest first: the API, then the worker (it drains against a live Temporal and
  // database), and Temporal and PostgreSQL last. They run in process groups of their own, so
  // the terminal's Ctrl-C reaches this process alone (src/infra/process-group.ts).
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  const onStop = (name: string, stop: () => Promise<void>) => stops.push({ name, stop });
  const shutdown = async () => {
    for (const { name, stop } of stops.reverse()) {
      const started = Date.now();
      await stop().catch((err) => logger.error({ err, component: name }, 'stop failed'));
      logger.debug({ component: name, ms: Date.now() - started }, 'stopped');
    }
  };
  onShutdownSignal(logger, shutdown);
  try {
    // The SDK's runtime (and its Prometheus exporter) first: nothing may have made a native
    // Temporal connection before it (the SDK download of the dev server would).
    const temporalMetricsPort = config.metrics.temporalPort ?? (await freePort());
    const temporalMetricsUrl = `http://127.0.0.1:${temporalMetricsPort}/metrics`;
    installTemporalRuntime(logger, `127.0.0.1:${temporalMetricsPort}`);
    const keys = await resolveEncryptionKeys(config, logger);
    const infra = await resolveInfrastructure(config, logger);
    onStop('infrastructure', () => infra.stop());

    const sandbox = config.serviceTitan.appKey
      ? undefined
      : await startDemoSandbox(config.sandboxPort, config.sandboxLatencyMs);
    if (sandbox) onStop('sandbox', () => sandbox.close());
    const serviceTitan = sandbox
      ? {
          appKey: sandbox.appKey,
          environments: {
            integration: { authUrl: sandbox.url, apiUrl: sandbox.url },
            production: { authUrl: sandbox.url, apiUrl: sandbox.url },
          },
          rateLimitPerSecond: config.serviceTitan.rateLimitPerSecond,
        }
      : {
          appKey: config.serviceTitan.appKey!,
          environments: config.serviceTitan,
          rateLimitPerSecond: config.serviceTitan.rateLimitPerSecond,
        };

    const orm = await createOrm({ url: infra.databaseUrl, logger });
    onStop('orm', () => closeOrm(orm));
    const applied = await migrateUp(orm);
    if (applied.length) logger.info({ applied }, 'migrations applied');
    const installationId = await readInstallationId(orm);
    const taskQueue = installationTaskQueue(config.temporal.taskQueue, installationId);

    const temporal = createTemporalClient({
      address: infra.temporalAddress,
      namespace: config.temporal.namespace,
    });
    onStop('temporal client', () => temporal.close());

    // One registry for the process: the API's /metrics and the worker's port show the same.
    const metrics = createMetrics();
    registerDatabaseMetrics(metrics, { orm, logger });
    const activities = createActivityDeps({
      orm,
      logger,
      keys,
      serviceTitan: { ...serviceTitan, breaker: config.breaker },
      metrics,
      notifications: notificationActivityDeps(config, true),
      alerts: config.alerts,
    });
    onStop('activities', async () => {
      activities.close();
      await activities.breakersFlushed();
    });
    const metricsServer = await startMetricsServer({
      metrics,
      port: config.metrics.port ?? 0,
      host: '127.0.0.1',
      token: config.metrics.token,
      logger,
    });
    onStop('metrics', () => metricsServer.close());
    const worker = await startWorker({
      address: infra.temporalAddress,
      namespace: config.temporal.namespace,
      taskQueue,
      logger,
      activities,
      shutdownGraceMs: config.temporal.shutdownGraceSeconds * 1000,
    });
    onStop('worker', async () => {
      activities.drain();
      await worker.stop();
    });
    const dispatcher = startDispatcher(config, {
      orm,
      databaseUrl: infra.databaseUrl,
      temporal: temporal.client,
      taskQueue,
      installationId,
      logger,
    });
    onStop('dispatcher', () => dispatcher.stop());
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

    const secrets = createSecretBox(keys);
    const schedules = createScheduleService({
      orm,
      temporal: temporal.client,
      taskQueue,
      installationId,
      logger,
    });
    // Connection tests spend the tenants' budget that the worker shares.
    const apiBudget = createRateBudgetStore(orm);
    onStop('request budget', () => apiBudget.close());
    const server = await listen(
      createApp({
        orm,
        temporal: temporal.client,
        logger,
        metrics,
        metricsToken: config.metrics.token,
        trustProxy: config.api.trustProxy,
        api: {
          secrets,
          serviceTitan: { ...serviceTitan, rateBudget: apiBudget, logger },
          setup: {
            appKey: sandbox ? 'sandbox' : 'configured',
            environments: serviceTitan.environments,
            encryption: {
              source: config.encryptionKeys?.length ? 'environment' : 'local-file',
              versions: keys.map((k) => k.version),
            },
          },
          taskQueue,
          installationId,
          schedules,
          adminToken: config.api.adminToken,
          sessionTtlHours: config.api.sessionTtlHours,
          importMaxBytes: config.api.importMaxBytes,
          webhooks: {
            policy: webhookPolicy(config, true),
            timeoutMs: config.notifications.webhookTimeoutMs,
            defaultEmailEvents: config.notifications.emailEvents,
            undeliveredAlertMinutes: config.notifications.undeliveredAlertMinutes,
          },
          publicUrl: config.publicUrl,
          temporalUi: infra.temporalUiUrl
            ? { url: infra.temporalUiUrl, namespace: config.temporal.namespace }
            : undefined,
          sandbox: sandbox ? sandboxDirectory(sandbox) : undefined,
        },
      }),
      config.api.port,
      config.api.host,
    );
    onStop('api', () => server.close());

    const demo = sandbox
      ? await ensureDemoTenant({
          orm,
          secrets,
          sandbox,
          temporal: temporal.client,
          taskQueue,
          installationId,
          schedules,
          logger,
        })
      : undefined;

    const removeRuntime = await writeRuntime(config.dataDir, {
      pid: process.pid,
      databaseUrl: infra.databaseUrl,
      temporalAddress: infra.temporalAddress,
    });
    onStop('runtime file', removeRuntime);

    // One click from the terminal to the console: a single-use code, valid 10 minutes, that
    // signs the browser in as the admin token kept for these links (made on first start).
    const signIn = await createSignInCode(orm, { role: 'admin', ttlSeconds: 600 });

    const ui = infra.temporalUiUrl;
    const lines = [
      '',
      'servicetitan-sync is running',
      `  Console         ${server.url}/signin?code=${signIn.code}  (sign-in link: works once, for 10 minutes)`,
      `  API             ${server.url}  (readiness: ${server.url}/readyz)`,
      `  Temporal        ${infra.temporalAddress}  namespace ${config.temporal.namespace}, task queue ${taskQueue}`,
      ...(ui ? [`  Temporal Web UI ${ui}`] : []),
      `  Metrics         ${server.url}/metrics, worker ${metricsServer.url}, Temporal SDK ${temporalMetricsUrl}`,
      `  PostgreSQL      ${config.database.url ? 'DATABASE_URL' : `${redactPassword(infra.databaseUrl)}  (embedded, data in ${config.dataDir}/postgres)`}`,
      ...(sandbox
        ? [`  Sandbox         ${sandbox.url}  (ServiceTitan simulator; app key ${sandbox.appKey})`]
        : []),
      ...(demo?.syncRunId
        ? [
            `  Demo sync       run ${demo.syncRunId} of credential ${demo.credentialId} is running` +
              (ui
                ? `: ${ui}/namespaces/${config.temporal.namespace}/workflows/${syncWorkflowId(installationId, demo.credentialId)}`
                : ''),
          ]
        : []),
      ...(config.api.adminToken
        ? []
        : [
            `  API token       npx stsync tokens create --role admin   (then: curl -H "Authorization: Bearer <token>" ${server.url}/api/dashboard)`,
          ]),
      '  Ctrl-C stops everything.',
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (error) {
    await shutdown();
    failStartup(error);
  }
}

function redactPassword(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

await main();
