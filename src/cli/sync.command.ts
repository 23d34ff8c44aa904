import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { Logger } from '../logger.js';
import { createScheduleService } from '../schedules/index.js';
import { startSync } from '../sync/start-sync.js';
import {
  type SyncMode,
  type SyncStreamName,
  syncProgressQuery,
  syncStreamNames,
} from '../workflows/definitions.js';

export interface SyncCommandOptions {
  credentialId: number;
  mode: SyncMode;
  streams?: SyncStreamName[];
  /** Wait for the run to end, printing progress. */
  wait: boolean;
}

/** Parses `--mode`, `--from/--to` and `--streams` into what a sync takes, or says what is wrong. */
export function parseSyncOptions(values: {
  mode?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  streams?: string | undefined;
}): { mode: SyncMode; streams?: SyncStreamName[] } {
  let mode: SyncMode;
  if ((values.from || values.to) && values.mode)
    throw new Error('give either --mode or --from/--to, not both');
  if (values.from || values.to) {
    const from = Date.parse(values.from ?? '');
    const to = Date.parse(values.to ?? '');
    if (Number.isNaN(from) || Number.isNaN(to) || from >= to) {
      throw new Error('--from and --to must both be dates (e.g. 2024-01-01) with --from before --to');
    }
    mode = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  } else if (values.mode === undefined || values.mode === 'incremental' || values.mode === 'full') {
    mode = values.mode ?? 'incremental';
  } else {
    throw new Error(`--mode must be incremental or full (or give --from/--to), not "${values.mode}"`);
  }
  if (!values.streams) return { mode };
  const streams = values.streams
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as SyncStreamName[];
  if (streams.length === 0) throw new Error(`--streams names none; known: ${syncStreamNames.join(', ')}`);
  const unknown = streams.filter((s) => !syncStreamNames.includes(s));
  if (unknown.length)
    throw new Error(`unknown stream(s) ${unknown.join(', ')}; known: ${syncStreamNames.join(', ')}`);
  return { mode, streams };
}

/** `stsync sync <credential>`: starts a run (trigger `cli`) and, with --wait, follows it to its end. */
export async function syncCommand(
  deps: {
    orm: MikroORM;
    temporal: Client;
    taskQueue: string;
    installationId: string;
    write: (line: string) => void;
  },
  options: SyncCommandOptions,
): Promise<string> {
  const started = await startSync(
    {
      em: deps.orm.em.fork(),
      temporal: deps.temporal,
      taskQueue: deps.taskQueue,
      installationId: deps.installationId,
    },
    {
      credentialId: options.credentialId,
      trigger: 'cli',
      mode: options.mode,
      ...(options.streams ? { streams: options.streams } : {}),
    },
  );
  deps.write(`run ${started.syncRunId} started (workflow ${started.workflowId})`);
  if (!options.wait) return 'started';
  const handle = deps.temporal.workflow.getHandle(started.workflowId);
  const result = handle.result();
  let done = false;
  void result.finally(() => {
    done = true;
  });
  while (!done) {
    await Promise.race([result.catch(() => {}), new Promise((r) => setTimeout(r, 2_000))]);
    if (done) break;
    const progress = await handle.query(syncProgressQuery).catch(() => undefined);
    if (progress) {
      const parts = Object.entries(progress.streams).map(
        ([name, s]) => `${name} ${s.state} ${s.fetched} fetched/${s.upserted} upserted/${s.skipped} skipped`,
      );
      deps.write(`  ${progress.paused ? '[paused] ' : ''}${parts.join(' · ')}`);
    }
  }
  const final = await result;
  deps.write(
    `run ${started.syncRunId} ${final.status}${final.warnings.length ? `: ${final.warnings.join('; ')}` : ''}`,
  );
  return final.status;
}

/** `stsync schedules reconcile`: makes Temporal's schedules match the database. */
export async function reconcileCommand(deps: {
  orm: MikroORM;
  temporal: Client;
  taskQueue: string;
  installationId: string;
  logger: Logger;
}) {
  return createScheduleService(deps).reconcile();
}
