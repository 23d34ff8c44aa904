import type { z } from 'zod';
import { requireUnrestricted } from '../../auth/index.js';
import { Company, type ICompany } from '../../db/entities/index.js';
import type { ScheduleService } from '../../schedules/index.js';
import type { RouteContext } from '../route.js';
import type { companyCreateSchema, companyListQuery, companyPatchSchema } from '../schemas.js';
import { companyFilter, visibleCompany } from './scope.js';

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
  };
}
