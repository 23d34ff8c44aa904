import type { z } from 'zod';
import { requireUnrestricted } from '../../auth/index.js';
import { Company, type ICompany } from '../../db/entities/index.js';
import { AppError } from '../../errors.js';
import type { ScheduleService } from '../../schedules/index.js';
import type { RouteContext } from '../route.js';
import type {
  companyCreateSchema,
  companyDeletedView,
  companyListQuery,
  companyPatchSchema,
} from '../schemas.js';
import { companyFilter, visibleCompany } from './scope.js';

const unfinished = `('pending', 'running', 'paused')`;

/** Counted before the cascade removes them (runs take their skipped records along). */
const countsSql = `select
  (select count(*) from servicetitan_credentials where company_id = ?) as credentials,
  (select count(*) from servicetitan_sync_runs r join servicetitan_credentials c on c.id = r.credential_id
    where c.company_id = ?) as runs,
  (select count(*) from skipped_records k join servicetitan_sync_runs r on r.id = k.sync_run_id
    join servicetitan_credentials c on c.id = r.credential_id where c.company_id = ?) as skipped_records,
  (select count(*) from api_tokens where company_id = ?) as tokens`;

function toView(c: ICompany) {
  return {
    id: c.id,
    name: c.name,
    timeZone: c.timeZone,
    syncEnabled: c.syncEnabled,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

export function createCompanyService(deps: { schedules?: ScheduleService | undefined } = {}) {
  return {
    async create(ctx: RouteContext, input: z.output<typeof companyCreateSchema>) {
      requireUnrestricted(ctx.principal);
      const company = ctx.em.create(Company, input);
      await ctx.em.flush();
      ctx.audit.companyId = company.id;
      return toView(company);
    },
    async list(ctx: RouteContext, query: z.output<typeof companyListQuery>) {
      const companyId = companyFilter(ctx, undefined);
      const [rows, total] = await ctx.em.findAndCount(
        Company,
        companyId === undefined ? {} : { id: companyId ?? 0 },
        {
          orderBy: { id: 'asc' },
          limit: query.pageSize,
          offset: (query.page - 1) * query.pageSize,
        },
      );
      return { items: rows.map(toView), page: query.page, pageSize: query.pageSize, total };
    },
    async get(ctx: RouteContext, id: number) {
      return toView(await visibleCompany(ctx, id));
    },
    async update(ctx: RouteContext, id: number, patch: z.output<typeof companyPatchSchema>) {
      const company = await visibleCompany(ctx, id);
      const zoneBefore = company.timeZone;
      ctx.em.assign(company, Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)));
      await ctx.em.flush();
      // Schedules run in the company's time zone: Temporal must follow a change at once.
      if (company.timeZone !== zoneBefore) await deps.schedules?.reapplyCompany(company.id);
      return toView(company);
    },

    /**
     * Removes a company and everything of it: credentials, their Temporal schedules, runs and
     * skipped records, synced rows, outbox events and its tokens. The audit trail stays.
     */
    async remove(
      ctx: RouteContext,
      id: number,
      confirm: string | undefined,
    ): Promise<z.output<typeof companyDeletedView>> {
      requireUnrestricted(ctx.principal);
      const company = await visibleCompany(ctx, id);
      if (confirm !== company.name && confirm !== String(company.id)) {
        throw new AppError(
          'bad_request',
          confirm === undefined
            ? `Deleting company ${id} removes its credentials, schedules, runs and every synced row, and cannot be undone: repeat the request with ?confirm=<the company's name or id>.`
            : `confirm must be the company's exact name or its id (${id}).`,
        );
      }
      const running = async (em: typeof ctx.em) =>
        em.getConnection().execute<{ id: number; credential_id: number }[]>(
          `select r.id, r.credential_id from servicetitan_sync_runs r
               join servicetitan_credentials c on c.id = r.credential_id
              where c.company_id = ? and r.status in ${unfinished} limit 1`,
          [id],
          'all',
          em.getTransactionContext(),
        );
      const refuse = (run: { id: number; credential_id: number }) =>
        new AppError(
          'sync_in_progress',
          `Run ${run.id} of credential ${run.credential_id} is still running: cancel it (or let it finish), then delete the company.`,
          { syncRunId: run.id, credentialId: run.credential_id },
        );
      const early = (await running(ctx.em))[0];
      if (early) throw refuse(early);

      // Schedules first, so that none fires a run while the rows go. Should a sync start in
      // between (or the transaction fail), the company keeps its data without its schedules,
      // which were going anyway: repeating the request finishes the job.
      const scheduled = await ctx.em.getConnection().execute<{ credential_id: number }[]>(
        `select s.credential_id from sync_schedules s
             join servicetitan_credentials c on c.id = s.credential_id where c.company_id = ?`,
        [id],
      );
      for (const s of scheduled) await deps.schedules?.remove(s.credential_id);

      const deleted = await ctx.em.transactional(async (em) => {
        const conn = em.getConnection();
        const tx = em.getTransactionContext();
        // Locks the credentials: a sync starting now (its run row needs them) waits for us.
        await conn.execute(
          'select id from servicetitan_credentials where company_id = ? for update',
          [id],
          'all',
          tx,
        );
        const late = (await running(em))[0];
        if (late) throw refuse(late);
        const [c] = await conn.execute<Record<string, string>[]>(countsSql, [id, id, id, id], 'all', tx);
        const del = async (table: string) =>
          (
            await conn.execute<{ affectedRows: number }>(
              `delete from ${table} where company_id = ?`,
              [id],
              'run',
              tx,
            )
          ).affectedRows ?? 0;
        // The big tables by their company index, then the company: the rest cascades.
        const members = await del('members_stream');
        const invoices = await del('invoices_stream');
        const contacts = await del('servicetitan_customer_contacts');
        const outboxEvents = await del('outbox_events');
        await conn.execute('delete from companies where id = ?', [id], 'run', tx);
        return {
          credentials: Number(c?.credentials ?? 0),
          schedules: scheduled.length,
          runs: Number(c?.runs ?? 0),
          skippedRecords: Number(c?.skipped_records ?? 0),
          members,
          invoices,
          contacts,
          outboxEvents,
          tokens: Number(c?.tokens ?? 0),
        };
      });
      ctx.audit.details = { name: company.name, deleted };
      return { id, name: company.name, deleted };
    },
  };
}
