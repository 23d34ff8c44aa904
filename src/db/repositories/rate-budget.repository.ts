import type { MikroORM } from '@mikro-orm/postgresql';
import pg, { type Pool, type PoolConfig } from 'pg';
import type { RateBudgetLimits, RateBudgetStore } from '../../servicetitan/rate-budget.js';

// The rate in force: the full rate, or since a 429 the throttled rate climbing back linearly to
// the full rate over the recovery time. On the database's clock, so the clocks of the machines
// sharing the budget never matter. `p` holds the statement's parameters.
const currentRate = `case
  when b.throttled_at is null or clock_timestamp() - b.throttled_at >= make_interval(secs => p.recovery_ms / 1000.0)
    then p.max_rate
  else b.throttled_rate + (p.max_rate - b.throttled_rate)
    * extract(epoch from clock_timestamp() - b.throttled_at) * 1000.0 / p.recovery_ms
end`;
const params = `p as (select $1::text as budget_key, $2::float8 as max_rate, $3::float8 as min_rate,
  $4::float8 as recovery_ms, $5::float8 as retry_after_ms, $6::int as max_burst)`;

/**
 * The slot: no earlier than now, nor than a 429's hold (`next_at`), nor than the last slot, and
 * within two windows counted as ServiceTitan counts its limit: at most `rate` requests (rounded up)
 * in any second (54 of the 60 allowed: a margin for requests sent late), and at most `burst` in
 * any `burst / rate` seconds (60 in 1.11 s: a request late by up to 0.11 s still lands in a second
 * of its own). So readers asking together after their round trips go at once while the windows
 * have room. A request that has to wait is spaced a 1/rate after the last slot, as every request
 * was before: a budget in full use sends evenly, not in bunches that a stalled process could send
 * late together into the next second. After a 429 both windows shrink with the rate. `recent`
 * keeps the latest slots, oldest first. One row lock, one statement.
 */
const reserveSql = `with ${params}, cur as (
  select b.budget_key, b.next_at, b.recent, clock_timestamp() as now,
         greatest(p.max_burst, ceil(p.max_rate)::int) as kept,
         greatest(${currentRate}, p.min_rate) as rate,
         greatest(1, floor(p.max_burst * greatest(${currentRate}, p.min_rate) / p.max_rate + 1e-9))::int as burst
    from servicetitan_rate_budgets b join p using (budget_key) for update of b
), w as (
  select cur.*, greatest(1, ceil(cur.rate - 1e-9))::int as per_second, cardinality(cur.recent) as n from cur
), e as (
  select w.*, greatest(w.next_at, w.now, w.recent[w.n],
    case when w.n >= w.per_second
      then w.recent[w.n - w.per_second + 1] + make_interval(secs => greatest(1.0, 1.0 / w.rate)) end,
    case when w.n >= w.burst
      then w.recent[w.n - w.burst + 1] + make_interval(secs => w.burst / w.rate) end) as earliest
    from w
), s as (
  select e.*, case when e.earliest > e.now
    then greatest(e.earliest, e.recent[e.n] + make_interval(secs => 1.0 / e.rate)) else e.earliest end as slot
    from e
)
update servicetitan_rate_budgets b
   set recent = s.recent[greatest(1, s.n - s.kept + 2):] || s.slot
  from s where b.budget_key = s.budget_key
returning greatest(0, extract(epoch from s.slot - clock_timestamp()) * 1000)::float8 as wait_ms,
          s.rate::float8 as rate, s.slot as slot_at`;

/** Halves the rate at most once a second, and holds every process for the Retry-After. */
const throttleSql = `with ${params}
update servicetitan_rate_budgets b set
  throttled_rate = case when b.throttled_at is null or clock_timestamp() - b.throttled_at >= interval '1 second'
    then greatest(p.min_rate, ${currentRate} / 2) else b.throttled_rate end,
  throttled_at = case when b.throttled_at is null or clock_timestamp() - b.throttled_at >= interval '1 second'
    then clock_timestamp() else b.throttled_at end,
  next_at = greatest(b.next_at, clock_timestamp() + make_interval(secs => p.retry_after_ms / 1000.0))
from p where b.budget_key = p.budget_key`;

const values = (key: string, limits: RateBudgetLimits, retryAfterMs = 0) => [
  key,
  limits.ratePerSecond,
  limits.minRatePerSecond,
  limits.recoveryMs,
  retryAfterMs,
  Math.max(1, Math.floor(limits.burst ?? 1)),
];

/**
 * Connections of the reservations' own, at most this many a process. On the ORM's pool a
 * reservation queued behind the pages' transactions: at 300 ms a page, with 14 windows writing,
 * it waited 73 ms on average for one of the 10 connections and ran in 1–2 ms.
 */
const reservationConnections = 3;

/**
 * Tenants' ServiceTitan request budgets in PostgreSQL, shared by every process of the installation.
 *
 * Every API request reserves a slot, so its statements are prepared once a connection (named):
 * parsing and planning the reservation cost PostgreSQL ~0.66 ms of its ~1.1 ms each time
 * (pgbench, simple against prepared), a default bench run makes ~640 of them. They run on a small
 * pool of their own, made on first use with the ORM's connection settings; an idle connection
 * ends after `idleMs` (5 s) and keeps no process alive. `close()` ends the pool: its creator's to call, as
 * clients come and go (the API makes one a connection test) while the store serves them all.
 */
export function createRateBudgetStore(
  orm: MikroORM,
  { idleMs = 5_000 }: { idleMs?: number } = {},
): RateBudgetStore & { close(): Promise<void> } {
  let own: Pool | undefined;
  let closed = false;
  const pool = async (): Promise<Pool> => {
    if (own) return own;
    if (closed) throw new Error('the rate budget store is closed');
    const shared = (await orm.em.getConnection().getNativeClient()) as unknown as Pool & {
      options: PoolConfig;
    };
    if (own) return own;
    if (closed) throw new Error('the rate budget store is closed');
    own = new pg.Pool({
      ...shared.options,
      // pg-pool keeps the password out of its options' enumerable keys (out of stack traces).
      password: shared.options.password,
      max: reservationConnections,
      idleTimeoutMillis: idleMs,
      allowExitOnIdle: true,
    });
    // A connection the server dropped (a restart) must not take the process down: the statement
    // in flight rejects on its own, and the pool has already let the connection go.
    own.on('connect', (client) => client.on('error', () => {}));
    own.on('error', () => {});
    return own;
  };
  const execute = async <T>(name: string, text: string, values: unknown[]): Promise<T> =>
    (await (await pool()).query({ name, text, values })).rows as T;
  const known = new Set<string>();

  async function ensure(key: string): Promise<void> {
    if (known.has(key)) return;
    await execute(
      'stsync_rate_budget_ensure',
      `insert into servicetitan_rate_budgets (budget_key, next_at) values ($1, clock_timestamp())
       on conflict (budget_key) do nothing`,
      [key],
    );
    known.add(key);
  }

  return {
    async reserve(key: string, limits: RateBudgetLimits) {
      await ensure(key);
      const rows = await execute<{ wait_ms: number; rate: number; slot_at: Date }[]>(
        'stsync_rate_budget_reserve',
        reserveSql,
        values(key, limits),
      );
      const row = rows[0];
      if (!row) {
        // The row went away (a truncated table): make it again and reserve once more.
        known.delete(key);
        return this.reserve(key, limits);
      }
      return { waitMs: Number(row.wait_ms), rate: Number(row.rate), slotAt: new Date(row.slot_at) };
    },
    async throttled(key: string, retryAfterMs: number, limits: RateBudgetLimits) {
      await ensure(key);
      await execute('stsync_rate_budget_throttle', throttleSql, values(key, limits, retryAfterMs));
    },
    async close() {
      closed = true;
      const ending = own;
      own = undefined;
      await ending?.end();
    },
  };
}
