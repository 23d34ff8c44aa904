import type { FilterQuery, MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { SecretBox } from '../crypto/secret-box.js';
import {
  type IServiceTitanCredential,
  ServiceTitanCredential,
  SyncStreamState,
} from '../db/entities/index.js';
import { secretPurpose } from '../db/repositories/credential.repository.js';
import { allStreams } from '../db/repositories/sync-run.repository.js';
import { flagsOf, streamsAllowed } from '../flags/index.js';
import type { Logger } from '../logger.js';
import { createScheduleService } from '../schedules/index.js';
import { createServiceTitanClient, type ServiceTitanClientOptions } from '../servicetitan/index.js';
import { defaultListPageSize } from '../servicetitan/paginate.js';
import { startSync } from '../sync/start-sync.js';
import {
  type SyncMode,
  type SyncStreamName,
  syncProgressQuery,
  syncStreamNames,
} from '../workflows/definitions.js';
import { UsageError } from './support.js';

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
    throw new UsageError('give either --mode or --from/--to, not both');
  if (values.from || values.to) {
    const from = Date.parse(values.from ?? '');
    const to = Date.parse(values.to ?? '');
    if (Number.isNaN(from) || Number.isNaN(to) || from >= to) {
      throw new UsageError('--from and --to must both be dates (e.g. 2024-01-01) with --from before --to');
    }
    mode = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  } else if (values.mode === undefined || values.mode === 'incremental' || values.mode === 'full') {
    mode = values.mode ?? 'incremental';
  } else {
    throw new UsageError(`--mode must be incremental or full (or give --from/--to), not "${values.mode}"`);
  }
  if (!values.streams) return { mode };
  const streams = values.streams
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as SyncStreamName[];
  if (streams.length === 0)
    throw new UsageError(`--streams names none; known: ${syncStreamNames.join(', ')}`);
  const unknown = streams.filter((s) => !syncStreamNames.includes(s));
  if (unknown.length)
    throw new UsageError(`unknown stream(s) ${unknown.join(', ')}; known: ${syncStreamNames.join(', ')}`);
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
export async function reconcileCommand(
  deps: {
    orm: MikroORM;
    temporal: Client;
    taskQueue: string;
    installationId: string;
    logger: Logger;
  },
  options: { dryRun?: boolean } = {},
) {
  return createScheduleService(deps).reconcile(options);
}

export interface CredentialSelection {
  ids: number[];
  all?: boolean | undefined;
  companyId?: number | undefined;
  environment?: string | undefined;
  status?: string | undefined;
}

/** The credentials a `sync` names: ids, or a batch (`--all`, `--company`, `--environment`, `--status`). */
export async function selectCredentials(
  orm: MikroORM,
  selection: CredentialSelection,
): Promise<IServiceTitanCredential[]> {
  const batch =
    selection.all || selection.companyId !== undefined || selection.environment || selection.status;
  if (!selection.ids.length && !batch)
    throw new UsageError('sync needs credential ids, or --all, --company, --environment or --status.');
  const em = orm.em.fork();
  const where: Record<string, unknown> = {
    ...(selection.ids.length ? { id: { $in: selection.ids } } : {}),
    ...(selection.companyId !== undefined ? { company: selection.companyId } : {}),
    ...(selection.environment ? { environment: selection.environment } : {}),
    ...(selection.status ? { status: selection.status } : {}),
    // A batch leaves disabled credentials out; an id names one on purpose (and is refused by the start).
    ...(selection.ids.length ? {} : { disabledAt: null }),
  };
  const rows = await em.find(ServiceTitanCredential, where as FilterQuery<IServiceTitanCredential>, {
    populate: ['company'],
    orderBy: { id: 'asc' },
  });
  const missing = selection.ids.filter((id) => !rows.some((r) => r.id === id));
  if (missing.length) throw new UsageError(`no credential ${missing.join(', ')}`);
  return rows;
}

export interface DryRunStream {
  stream: SyncStreamName;
  /** The modifiedOn window counted: an incremental run counts from the stream's high-water mark. */
  since: string | null;
  until: string | null;
  records: number | null;
  pages: number | null;
}

export interface DryRunPlan {
  credentialId: number;
  companyId: number;
  environment: string;
  tenantId: string;
  mode: SyncMode;
  /** Why it would not start, when it would not. */
  refused: string | null;
  streams: DryRunStream[];
  records: number | null;
  pages: number | null;
  /** Seconds, at SERVICETITAN_RATE_LIMIT requests per second. */
  estimatedSeconds: number | null;
  error: string | null;
}

/**
 * What a sync would do, writing nothing and starting nothing: per credential its streams, mode
 * and, from one `includeTotal` request per stream, the records and pages to fetch and the time
 * that takes at the rate limit.
 */
export async function dryRunSync(
  deps: {
    orm: MikroORM;
    secrets: SecretBox | undefined;
    serviceTitan: ServiceTitanClientOptions | undefined;
  },
  credentials: IServiceTitanCredential[],
  options: { mode: SyncMode; streams?: SyncStreamName[] },
): Promise<DryRunPlan[]> {
  const em = deps.orm.em.fork();
  const client = deps.serviceTitan ? createServiceTitanClient(deps.serviceTitan) : undefined;
  const rate = deps.serviceTitan?.rateLimitPerSecond ?? 60;
  const plans: DryRunPlan[] = [];
  try {
    for (const credential of credentials) {
      const flags = await flagsOf(em).forCompany(credential.company.id);
      const streams = streamsAllowed(flags, options.streams?.length ? options.streams : allStreams);
      const refused = credential.disabledAt
        ? 'the credential is disabled'
        : !credential.company.syncEnabled
          ? "the company's sync is switched off"
          : flags['data-source'] === 'manual'
            ? 'the company uses the manual import path (flag data-source = manual)'
            : streams.length === 0
              ? 'every stream is switched off (flags stream.*)'
              : null;
      const plan: DryRunPlan = {
        credentialId: credential.id,
        companyId: credential.company.id,
        environment: credential.environment,
        tenantId: credential.tenantId,
        mode: options.mode,
        refused,
        streams: [],
        records: null,
        pages: null,
        estimatedSeconds: null,
        error: null,
      };
      plans.push(plan);
      const states = await em.find(SyncStreamState, { credential: credential.id });
      try {
        if (!client || !deps.secrets)
          throw new Error('no ServiceTitan app key or ENCRYPTION_KEYS: no estimates');
        const tenant = client.tenant({
          environment: credential.environment,
          tenantId: credential.tenantId,
          clientId: deps.secrets.decrypt(credential.clientIdEncrypted, secretPurpose.clientId),
          clientSecret: deps.secrets.decrypt(credential.clientSecretEncrypted, secretPurpose.clientSecret),
        });
        for (const stream of streams) {
          const mark = states.find((s) => s.stream === stream)?.highWaterMark;
          const window =
            typeof options.mode === 'object'
              ? { since: options.mode.from, until: options.mode.to }
              : { since: options.mode === 'incremental' && mark ? mark.toISOString() : null, until: null };
          const records = await tenant.countRecords(stream, {
            ...(window.since ? { modifiedOnOrAfter: window.since } : {}),
            ...(window.until ? { modifiedBefore: window.until } : {}),
          });
          const pages = records === null ? null : Math.max(1, Math.ceil(records / defaultListPageSize));
          plan.streams.push({ stream, ...window, records, pages });
        }
        if (plan.streams.every((s) => s.records !== null)) {
          plan.records = plan.streams.reduce((n, s) => n + s.records!, 0);
          plan.pages = plan.streams.reduce((n, s) => n + s.pages!, 0);
          plan.estimatedSeconds = Math.ceil(plan.pages / rate);
        }
      } catch (error) {
        plan.error = error instanceof Error ? error.message : String(error);
        for (const stream of streams)
          if (!plan.streams.some((s) => s.stream === stream))
            plan.streams.push({ stream, since: null, until: null, records: null, pages: null });
      }
    }
  } finally {
    client?.close();
  }
  return plans;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return 'unknown';
  if (seconds < 60) return `~${seconds}s`;
  if (seconds < 3600) return `~${Math.round(seconds / 60)}min`;
  return `~${(seconds / 3600).toFixed(1)}h`;
}

export function formatMode(mode: SyncMode): string {
  return typeof mode === 'object' ? `window ${mode.from} – ${mode.to}` : mode;
}

/** Human lines for a dry run. */
export function formatDryRun(plans: DryRunPlan[]): string[] {
  const lines = ['dry run: nothing is written, nothing is started'];
  for (const p of plans) {
    lines.push(
      `credential ${p.credentialId} (company ${p.companyId}, ${p.environment}, tenant ${p.tenantId}): mode ${formatMode(p.mode)}${p.refused ? ` — would not start: ${p.refused}` : ''}`,
    );
    for (const s of p.streams)
      lines.push(
        `  ${s.stream}: ${s.records ?? '?'} records, ${s.pages ?? '?'} pages${s.since ? ` (modified since ${s.since})` : ''}`,
      );
    lines.push(
      `  total: ${p.records ?? '?'} records, ${p.pages ?? '?'} pages, ${formatDuration(p.estimatedSeconds)} at the rate limit${p.error ? ` (${p.error})` : ''}`,
    );
  }
  return lines;
}
