import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { Router } from 'express';

export type ReadinessCheck = () => Promise<void>;

/** What `/readyz` checks, and the Setup page (GET /api/setup) with it. */
export type Readiness = {
  postgres: ReadinessCheck;
  temporal: ReadinessCheck;
};

export function createReadinessChecks(deps: { orm: MikroORM; temporal: Client }): Readiness {
  return {
    postgres: async () => {
      await deps.orm.em.getConnection().execute('select 1');
    },
    temporal: async () => {
      // A deadline of the probe's own: without it the SDK keeps retrying a server that is down
      // long after the probe answered, and a retry can outlive the connection it was made on.
      const { connection } = deps.temporal;
      await connection.withDeadline(Date.now() + 3_000, () => connection.workflowService.getSystemInfo({}));
    },
  };
}

/**
 * Runs a check with a deadline so a hung dependency cannot hang the probe: undefined when it
 * answered, else the error's text.
 */
export async function probe(check: ReadinessCheck, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/healthz`: the process is alive. `/readyz`: every dependency really answers; 503 names the
 * ones that do not (their error text stays in the logs: it may carry addresses).
 */
export function createHealthRoutes(
  checks: Record<string, ReadinessCheck>,
  options: { timeoutMs?: number } = {},
) {
  const router = Router();
  const timeoutMs = options.timeoutMs ?? 3_000;

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (req, res) => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => probe(checks[name]!, timeoutMs)));
    const failing = names.filter((_, i) => results[i] !== undefined);
    for (const name of failing)
      req.log?.warn({ dependency: name, reason: results[names.indexOf(name)] }, 'not ready');
    const dependencies = Object.fromEntries(
      names.map((name, i) => [name, results[i] === undefined ? 'ok' : 'unavailable']),
    );
    if (failing.length === 0) {
      res.json({ status: 'ready', dependencies });
    } else {
      res.status(503).json({
        status: 'not_ready',
        error: 'not_ready',
        message: `Not ready: ${failing.join(', ')} unavailable`,
        dependencies,
      });
    }
  });

  return router;
}
