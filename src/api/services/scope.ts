import { assertVisible } from '../../auth/index.js';
import {
  Company,
  type ICompany,
  type IServiceTitanCredential,
  ServiceTitanCredential,
} from '../../db/entities/index.js';
import { AppError } from '../../errors.js';
import type { RouteContext } from '../route.js';

/** A credential the caller may see (404 otherwise); notes its company for the audit row. */
export async function visibleCredential(ctx: RouteContext, id: number): Promise<IServiceTitanCredential> {
  const credential = await ctx.em.findOne(ServiceTitanCredential, id, { populate: ['company'] });
  if (!credential) throw new AppError('not_found', `Credential ${id} does not exist.`);
  assertVisible(ctx.principal, credential.company.id, `Credential ${id}`);
  ctx.audit.companyId = credential.company.id;
  return credential;
}

export async function visibleCompany(ctx: RouteContext, id: number): Promise<ICompany> {
  assertVisible(ctx.principal, id, `Company ${id}`);
  const company = await ctx.em.findOne(Company, id);
  if (!company) throw new AppError('not_found', `Company ${id} does not exist.`);
  ctx.audit.companyId = company.id;
  return company;
}

/** The company filter a list must apply: the token's company wins over the query's. */
export function companyFilter(ctx: RouteContext, requested: number | undefined): number | undefined | null {
  const own = ctx.principal.companyId;
  if (own === null) return requested;
  if (requested !== undefined && requested !== own) return null; // nothing visible
  return own;
}

export const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
