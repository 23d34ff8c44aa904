import type { MikroORM } from '@mikro-orm/postgresql';

/** Applies every pending migration; returns the names applied. */
export async function migrateUp(orm: MikroORM): Promise<string[]> {
  const applied = await orm.migrator.up();
  return applied.map((m) => m.name);
}

/** Reverts migrations: one step by default, or all of them with `{ to: 0 }`. */
export async function migrateDown(orm: MikroORM, options: { to?: 0 } = {}): Promise<string[]> {
  const reverted = options.to === 0 ? await orm.migrator.down({ to: 0 }) : await orm.migrator.down();
  return reverted.map((m) => m.name);
}
