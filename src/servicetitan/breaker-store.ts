import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../logger.js';
import type { BreakerTransition } from './circuit-breaker.js';

/**
 * Writes each breaker transition to `servicetitan_breakers`, one after the other (a close must
 * not overtake the open before it), so the API's dashboard can show what the workers see. A
 * failed write is logged: the breaker itself never waits for the database.
 */
export function createBreakerStore(deps: { orm: MikroORM; logger: Logger }) {
  let last: Promise<void> = Promise.resolve();
  const write = async (t: BreakerTransition) => {
    await deps.orm.em
      .fork()
      .getConnection()
      .execute(
        `insert into servicetitan_breakers (environment, state, failures, opened_at, retry_at, updated_at)
         values (?, ?, ?, case when ? = 'open' then now() end, ?, now())
         on conflict (environment) do update set state = excluded.state, failures = excluded.failures,
           opened_at = coalesce(excluded.opened_at, servicetitan_breakers.opened_at),
           retry_at = excluded.retry_at, updated_at = now()`,
        [t.environment, t.state, t.failures, t.state, t.retryAt],
      );
  };
  return {
    record(transition: BreakerTransition): void {
      last = last
        .then(() => write(transition))
        .catch((error: unknown) =>
          deps.logger.warn({ err: error, ...transition }, 'the circuit breaker state could not be stored'),
        );
    },
    /** Settles once every transition so far is written (tests, shutdown). */
    flushed: (): Promise<void> => last,
  };
}
