import type { MikroORM } from '@mikro-orm/postgresql';
import { Installation } from './entities/index.js';

/**
 * This database's installation id (see the Installation entity). Read once at start by each
 * process and passed to whatever builds Temporal ids; never read inside workflow code.
 */
export async function readInstallationId(orm: MikroORM): Promise<string> {
  const row = await orm.em.fork().findOne(Installation, { singleton: true });
  if (!row) {
    throw new Error(
      'The database has no installation id (table "installation" is empty or missing): run `npx stsync migrate`.',
    );
  }
  return row.installationId;
}
