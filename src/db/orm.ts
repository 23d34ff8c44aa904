import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../logger.js';
import { entities } from './entities/index.js';
import { migrations } from './migrations/index.js';

export function ormConfig(options: { url: string; logger?: Logger; debug?: boolean }) {
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
  });
}

export async function createOrm(options: { url: string; logger?: Logger }): Promise<MikroORM> {
  return MikroORM.init(ormConfig(options));
}

export type { MikroORM };
