import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../logger.js';
import { entities } from './entities/index.js';
import { migrations } from './migrations/index.js';

export interface OrmOptions {
  url: string;
  logger?: Logger;
  debug?: boolean;
  /** Names this process's sessions in pg_stat_activity. */
  applicationName?: string;
}

export function ormConfig(options: OrmOptions) {
  return defineConfig({
    clientUrl: options.url,
    entities,
    extensions: [Migrator],
    migrations: {
      tableName: 'mikro_orm_migrations',
      migrationsList: migrations,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      // Applied migrations are returned to the caller, which reports them through its logger.
      silent: true,
    },
    // Entities are defined with defineEntity: nothing to discover from TypeScript metadata.
    discovery: { warnWhenNoEntities: true },
    debug: options.debug ?? false,
    logger: options.logger ? (message) => options.logger?.debug({ orm: true }, message) : undefined,
    pool: { min: 0, max: 10 },
    // No call may hang on a connection the server dropped: the client gives up on it, the
    // activity fails and Temporal retries it.
    driverOptions: {
      connectionTimeoutMillis: 10_000,
      query_timeout: 120_000,
      ...(options.applicationName ? { application_name: options.applicationName } : {}),
    },
  });
}

export async function createOrm(options: OrmOptions): Promise<MikroORM> {
  return MikroORM.init(ormConfig(options));
}

export type { MikroORM };

/**
 * Closes the ORM, giving up after `timeoutMs`: a connection the server dropped in the middle of a
 * transaction has been seen to keep the pool from ending, and shutdown must not hang on it.
 */
export async function closeOrm(orm: MikroORM, timeoutMs = 5_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    orm.close(),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}
