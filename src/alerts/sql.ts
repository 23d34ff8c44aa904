import type { EntityManager } from '@mikro-orm/postgresql';
import type { SqlExecutor } from '../notifications/events.js';

/** SQL bound to an entity manager's transaction: reads (`all`) and writes (`run`, row count). */
export interface TxSql extends SqlExecutor {
  all<T>(sql: string, params: unknown[]): Promise<T[]>;
  run(sql: string, params: unknown[]): Promise<number>;
}

export function txSql(em: EntityManager): TxSql {
  const connection = em.getConnection();
  const ctx = () => em.getTransactionContext();
  return {
    execute: (sql, params) => connection.execute(sql, params, 'run', ctx()),
    all: <T>(sql: string, params: unknown[]) => connection.execute<T[]>(sql, params, 'all', ctx()),
    run: async (sql, params) => {
      const result = await connection.execute<{ affectedRows?: number }>(sql, params, 'run', ctx());
      return result.affectedRows ?? 0;
    },
  };
}

/** The console page of a run or a credential, when the console's public URL is known. */
export function linkTo(publicUrl: string | undefined, path: string): { link?: string } {
  return publicUrl ? { link: `${publicUrl}${path}` } : {};
}
