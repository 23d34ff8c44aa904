import { createHash } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  type Client,
  type ScheduleDescription,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type ScheduleSpec,
} from '@temporalio/client';
import {
  type IServiceTitanCredential,
  type ISyncSchedule,
  ServiceTitanCredential,
  SyncSchedule,
} from '../db/entities/index.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { searchAttributesFor } from '../temporal/search-attributes.js';
import { scheduledSyncWorkflowId, scheduleId } from '../workflows/definitions.js';
import { scheduledSyncWorkflow } from '../workflows/index.js';
import type { ScheduledSyncInput } from '../workflows/scheduled-sync.workflow.js';
import { type ScheduleConfig, type ScheduleInput, scheduleInputSchema } from './schedule-input.js';

export {
  defaultSchedule,
  type ScheduleConfig,
  type ScheduleInput,
  scheduleInputSchema,
} from './schedule-input.js';

export class ScheduleValidationError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('invalid_schedule', message, details);
  }
}

export interface ScheduleView {
  credentialId: number;
  config: ScheduleConfig;
  timeZone: string;
  paused: boolean;
  /** Why it is paused, while it is: an operator, or the product after failed runs in a row. */
  pause: SchedulePause | null;
  nextRunTimes: string[];
}

export interface SchedulePause {
  by: 'auto' | 'manual';
  reason: string;
  at: string | null;
}

/** The pause a row records (rows paused before reasons were kept count as an operator's). */
export function pauseOf(row: ISyncSchedule | null | undefined): SchedulePause | null {
  if (!row?.paused) return null;
  return {
    by: row.pausedBy ?? 'manual',
    reason: row.pauseReason ?? 'Paused',
    at: row.pausedAt ? row.pausedAt.toISOString() : null,
  };
}

const days = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;

/** The Temporal spec a configuration means, in the company's time zone. */
export function specFor(config: ScheduleConfig, timeZone: string): ScheduleSpec {
  const jitter = `${config.jitterSeconds}s`;
  switch (config.frequency) {
    case 'weekly':
      return {
        calendars: [{ dayOfWeek: days[config.dayOfWeek]!, hour: config.hour, minute: config.minute }],
        timezone: timeZone,
        jitter,
      };
    case 'daily':
      return { calendars: [{ hour: config.hour, minute: config.minute }], timezone: timeZone, jitter };
    case 'monthly':
      return {
        calendars: [{ dayOfMonth: config.dayOfMonth, hour: config.hour, minute: config.minute }],
        timezone: timeZone,
        jitter,
      };
    case 'hourly':
      return {
        calendars: [{ hour: { start: 0, end: 23, step: config.everyHours }, minute: 0 }],
        timezone: timeZone,
        jitter,
      };
    case 'cron':
      return { cronExpressions: [config.cron.trim()], timezone: timeZone, jitter };
  }
}

function toConfig(row: ISyncSchedule): ScheduleConfig {
  const r = row as unknown as Record<string, unknown>;
  const raw: Record<string, unknown> = { frequency: r.frequency, jitterSeconds: r.jitterSeconds };
  if (r.frequency === 'weekly')
    Object.assign(raw, { dayOfWeek: r.dayOfWeek, hour: r.hour, minute: r.minute });
  if (r.frequency === 'daily') Object.assign(raw, { hour: r.hour, minute: r.minute });
  if (r.frequency === 'monthly')
    Object.assign(raw, { dayOfMonth: r.dayOfMonth, hour: r.hour, minute: r.minute });
  if (r.frequency === 'hourly') Object.assign(raw, { everyHours: r.everyHours });
  if (r.frequency === 'cron') Object.assign(raw, { cron: r.cron });
  return scheduleInputSchema.parse(raw);
}

function columnsOf(config: ScheduleConfig) {
  return {
    frequency: config.frequency,
    dayOfWeek: config.frequency === 'weekly' ? config.dayOfWeek : null,
    dayOfMonth: config.frequency === 'monthly' ? config.dayOfMonth : null,
    hour: 'hour' in config ? config.hour : 0,
    minute: 'minute' in config ? config.minute : 0,
    everyHours: config.frequency === 'hourly' ? config.everyHours : null,
    cron: config.frequency === 'cron' ? config.cron.trim() : null,
    jitterSeconds: config.jitterSeconds,
  };
}

/** What Temporal holds is compared through this, kept in the schedule action's memo. */
function fingerprint(config: ScheduleConfig, timeZone: string, taskQueue: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ config, timeZone, taskQueue }))
    .digest('hex')
    .slice(0, 16);
}

export interface ReconcileReport {
  created: number[];
  updated: number[];
  deleted: string[];
  unchanged: number[];
  failed: number[];
}

/**
 * Per-credential sync schedules. The database holds the configuration; Temporal Schedules
 * execute it (overlap SKIP, a day's catch-up window). Every change writes the database first,
 * then makes Temporal match; `reconcile` repairs any drift between the two.
 */
export function createScheduleService(deps: {
  orm: MikroORM;
  temporal: Client;
  taskQueue: string;
  /** This database's installation (src/db/installation.ts): its schedules, and no others. */
  installationId: string;
  logger: Logger;
}) {
  const { orm, temporal, taskQueue, installationId, logger } = deps;
  const idOf = (credentialId: number) => scheduleId(installationId, credentialId);

  async function load(credentialId: number) {
    const em = orm.em.fork();
    const credential = await em.findOne(ServiceTitanCredential, credentialId, { populate: ['company'] });
    if (!credential) throw new AppError('not_found', `Credential ${credentialId} does not exist.`);
    const row = await em.findOne(SyncSchedule, { credential: credentialId });
    return { em, credential, row };
  }

  async function describe(credentialId: number): Promise<ScheduleDescription | undefined> {
    try {
      return await temporal.schedule.getHandle(idOf(credentialId)).describe();
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return undefined;
      throw error;
    }
  }

  /** Creates or updates the Temporal schedule to match; returns what it did. */
  async function apply(
    credential: IServiceTitanCredential,
    config: ScheduleConfig,
    paused: boolean,
    dryRun = false,
  ): Promise<'created' | 'updated' | 'unchanged'> {
    const timeZone = credential.company.timeZone;
    const print = fingerprint(config, timeZone, taskQueue);
    const action = {
      type: 'startWorkflow' as const,
      workflowType: scheduledSyncWorkflow,
      args: [{ installationId, credentialId: credential.id }] as [ScheduledSyncInput],
      taskQueue,
      workflowId: scheduledSyncWorkflowId(installationId, credential.id),
      memo: { scheduleFingerprint: print },
      typedSearchAttributes: searchAttributesFor(credential, 'schedule'),
    };
    const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' };
    const existing = await describe(credential.id);
    if (!existing) {
      if (dryRun) return 'created';
      await temporal.schedule.create({
        scheduleId: idOf(credential.id),
        spec: specFor(config, timeZone),
        action,
        policies,
        state: { paused, note: paused ? 'paused' : 'active' },
      });
      return 'created';
    }
    const same =
      existing.action.type === 'startWorkflow' && existing.action.memo?.scheduleFingerprint === print;
    if (same && existing.state.paused === paused) return 'unchanged';
    if (dryRun) return 'updated';
    await temporal.schedule.getHandle(idOf(credential.id)).update((previous) => ({
      ...previous,
      spec: specFor(config, timeZone),
      action,
      policies,
      state: { ...previous.state, paused, note: paused ? 'paused' : 'active' },
    }));
    return 'updated';
  }

  async function view(
    credentialId: number,
    config: ScheduleConfig,
    timeZone: string,
    paused: boolean,
    pause: SchedulePause | null = null,
  ): Promise<ScheduleView> {
    const description = await describe(credentialId);
    return {
      credentialId,
      config,
      timeZone,
      paused,
      pause,
      nextRunTimes: paused
        ? []
        : (description?.info.nextActionTimes ?? []).slice(0, 5).map((d) => d.toISOString()),
    };
  }

  return {
    async get(credentialId: number): Promise<ScheduleView | null> {
      const { credential, row } = await load(credentialId);
      if (!row) return null;
      return view(credentialId, toConfig(row), credential.company.timeZone, row.paused, pauseOf(row));
    },

    /** Idempotent create-or-update. */
    async put(credentialId: number, input: ScheduleInput): Promise<ScheduleView> {
      const parsed = scheduleInputSchema.safeParse(input);
      if (!parsed.success) {
        throw new ScheduleValidationError(
          parsed.error.issues.map((i) => `${i.path.join('.') || 'schedule'}: ${i.message}`).join('; '),
          { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
        );
      }
      const { em, credential, row } = await load(credentialId);
      if (credential.disabledAt) throw new AppError('conflict', `Credential ${credentialId} is disabled.`);
      const config = parsed.data;
      const paused = row?.paused ?? false;
      // Temporal first: a schedule it refuses must not leave a row behind.
      await apply(credential, config, paused);
      if (row) em.assign(row, columnsOf(config));
      else em.create(SyncSchedule, { credential, ...columnsOf(config), paused });
      await em.flush();
      return view(credentialId, config, credential.company.timeZone, paused, pauseOf(row));
    },

    async remove(credentialId: number): Promise<void> {
      const { em, row } = await load(credentialId);
      if (row) {
        em.remove(row);
        await em.flush();
      }
      try {
        await temporal.schedule.getHandle(idOf(credentialId)).delete();
      } catch (error) {
        if (!(error instanceof ScheduleNotFoundError)) throw error;
      }
    },

    async pause(credentialId: number): Promise<ScheduleView> {
      return setPaused(credentialId, true);
    },

    async unpause(credentialId: number): Promise<ScheduleView> {
      return setPaused(credentialId, false);
    },

    /** After a company's time zone changed: its credentials' schedules follow the new zone. */
    async reapplyCompany(companyId: number): Promise<void> {
      const rows = await orm.em
        .fork()
        .find(
          SyncSchedule,
          { credential: { company: companyId } },
          { populate: ['credential', 'credential.company'] },
        );
      for (const row of rows) {
        if (!row.credential.disabledAt) await apply(row.credential, toConfig(row), row.paused);
      }
    },

    /**
     * Makes Temporal match the database: creates, updates, and deletes this installation's strays.
     * With `dryRun`, only reports what it would do (Temporal is read, never written).
     */
    async reconcile(options: { dryRun?: boolean } = {}): Promise<ReconcileReport> {
      const dryRun = options.dryRun ?? false;
      const em = orm.em.fork();
      const rows = await em.find(SyncSchedule, {}, { populate: ['credential', 'credential.company'] });
      const report: ReconcileReport = { created: [], updated: [], deleted: [], unchanged: [], failed: [] };
      const wanted = new Set<string>();
      for (const row of rows) {
        const credential = row.credential;
        if (credential.disabledAt) continue;
        wanted.add(idOf(credential.id));
        try {
          const outcome = await apply(credential, toConfig(row), row.paused, dryRun);
          report[outcome].push(credential.id);
        } catch (error) {
          // One bad row must not keep every later credential from being reconciled.
          logger.error({ err: error, credentialId: credential.id }, 'schedule could not be reconciled');
          report.failed.push(credential.id);
        }
      }
      // Strays: this installation's id prefix, on our task queue. Another installation sharing
      // the namespace (another database, or this one before it was reset) keeps its own.
      const prefix = idOf(0).replace(/0$/, '');
      for await (const summary of temporal.schedule.list()) {
        if (!summary.scheduleId.startsWith(prefix) || wanted.has(summary.scheduleId)) continue;
        const handle = temporal.schedule.getHandle(summary.scheduleId);
        try {
          const { action } = await handle.describe();
          if (action.type !== 'startWorkflow' || action.taskQueue !== taskQueue) continue;
          if (!dryRun) await handle.delete();
          report.deleted.push(summary.scheduleId);
        } catch (error) {
          // The list comes from the visibility store, which can still show a schedule just deleted.
          if (!(error instanceof ScheduleNotFoundError)) throw error;
        }
      }
      if (!dryRun) logger.info(report, 'schedules reconciled');
      return report;
    },
  };

  async function setPaused(credentialId: number, paused: boolean): Promise<ScheduleView> {
    const { em, credential, row } = await load(credentialId);
    if (!row) throw new AppError('not_found', `Credential ${credentialId} has no schedule.`);
    if (paused && !row.paused) {
      row.pausedBy = 'manual';
      row.pauseReason = 'Paused by an operator';
      row.pausedAt = new Date();
    } else if (!paused) {
      // A resume starts the failure count afresh: an auto-pause needs as many new failures again.
      if (row.paused) row.resumedAt = new Date();
      row.pausedBy = null;
      row.pauseReason = null;
      row.pausedAt = null;
    }
    row.paused = paused;
    await em.flush();
    const config = toConfig(row);
    await apply(credential, config, paused);
    return view(credentialId, config, credential.company.timeZone, paused, pauseOf(row));
  }
}

export type ScheduleService = ReturnType<typeof createScheduleService>;

/**
 * Pauses a credential's Temporal Schedule whose row the product has just paused (an auto-pause,
 * written with its reason in the run's transaction). Idempotent; a schedule Temporal does not hold
 * (not yet reconciled) is left to `reconcile`, which applies the row's paused flag.
 */
export async function pauseTemporalSchedule(
  temporal: Client,
  installationId: string,
  credentialId: number,
  note: string,
): Promise<'paused' | 'already' | 'missing'> {
  const handle = temporal.schedule.getHandle(scheduleId(installationId, credentialId));
  try {
    const { state } = await handle.describe();
    if (state.paused) return 'already';
    await handle.pause(note);
    return 'paused';
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return 'missing';
    throw error;
  }
}
