import path from 'node:path';
import type { Config } from '../config.js';
import { startEmbeddedPostgres } from '../infra/embedded-postgres.js';
import { startTemporalDevServer } from '../infra/temporal-dev-server.js';
import type { Logger } from '../logger.js';
import { readRuntime } from './runtime-file.js';

export interface Infrastructure {
  databaseUrl: string;
  temporalAddress: string;
  temporalUiUrl: string | undefined;
  /** Stops only what this process started, newest first. */
  stop(): Promise<void>;
}

/**
 * The database and Temporal the configuration names, or embedded ones under DATA_DIR when it
 * names none: PostgreSQL from `embedded-postgres`, Temporal from `temporal server start-dev`
 * with a SQLite file and the Web UI.
 */
export async function resolveInfrastructure(
  config: Config,
  logger: Logger,
  options: { needTemporal?: boolean; shareRunning?: boolean } = {},
): Promise<Infrastructure> {
  // A CLI command next to a running `npm start` uses its database and Temporal: the embedded
  // database's directory can only be held by one server.
  const running = options.shareRunning && !config.database.url ? readRuntime(config.dataDir) : undefined;
  if (running) {
    return {
      databaseUrl: running.databaseUrl,
      temporalAddress: config.temporal.address ?? running.temporalAddress,
      temporalUiUrl: undefined,
      stop: async () => {},
    };
  }
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch((err) => logger.error({ err }, 'stop failed'));
    stops.length = 0;
  };
  try {
    let databaseUrl = config.database.url;
    if (!databaseUrl) {
      const db = await startEmbeddedPostgres({ dataDir: path.join(config.dataDir, 'postgres'), logger });
      stops.push(() => db.stop());
      databaseUrl = db.url;
    }
    let temporalAddress = config.temporal.address ?? '';
    let temporalUiUrl: string | undefined;
    if (!temporalAddress && options.needTemporal !== false) {
      const temporal = await startTemporalDevServer({
        dbFile: path.join(config.dataDir, 'temporal.sqlite'),
        namespace: config.temporal.namespace,
        port: 7233,
        uiPort: config.temporal.uiPort,
        cliPath: config.temporal.cliPath,
        logger,
      });
      stops.push(() => temporal.stop());
      temporalAddress = temporal.address;
      temporalUiUrl = temporal.uiUrl;
    }
    return { databaseUrl, temporalAddress, temporalUiUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
