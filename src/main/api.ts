import { createApp } from '../api/app.js';
import { loadConfig } from '../config.js';
import { createOrm } from '../db/orm.js';
import { createLogger } from '../logger.js';
import { createTemporalClient } from '../temporal/client.js';
import { failStartup, onShutdownSignal } from './lifecycle.js';
import { listen } from './listen.js';
import { requireDeployment } from './require-deployment.js';

/** The admin API alone, against an existing PostgreSQL and Temporal. */
async function main() {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'stsync-api' });
  const { databaseUrl, temporalAddress } = requireDeployment(config, 'API');
  const orm = await createOrm({ url: databaseUrl, logger });
  const temporal = createTemporalClient({ address: temporalAddress, namespace: config.temporal.namespace });
  const server = await listen(
    createApp({ orm, temporal: temporal.client, logger }),
    config.api.port,
    config.api.host,
  );
  logger.info({ url: server.url }, 'API listening');
  onShutdownSignal(logger, async () => {
    await server.close();
    await temporal.close();
    await orm.close();
  });
}

await main().catch(failStartup);
