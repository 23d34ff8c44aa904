import { loadConfig } from '../config.js';
import { createOrm } from '../db/orm.js';
import { createLogger } from '../logger.js';
import { startWorker } from '../temporal/worker.js';
import { failStartup, onShutdownSignal } from './lifecycle.js';
import { requireDeployment } from './require-deployment.js';

/** A Temporal worker on the task queue; scale by running more of these. */
async function main() {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'stsync-worker' });
  const { databaseUrl, temporalAddress } = requireDeployment(config, 'worker');
  const orm = await createOrm({ url: databaseUrl, logger });
  const worker = await startWorker({
    address: temporalAddress,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    orm,
    logger,
  });
  logger.info({ taskQueue: config.temporal.taskQueue }, 'worker running');
  onShutdownSignal(logger, async () => {
    await worker.stop();
    await orm.close();
  });
}

await main().catch(failStartup);
