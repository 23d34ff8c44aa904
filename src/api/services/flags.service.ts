import { Company, FeatureFlag } from '../../db/entities/index.js';
import { AppError } from '../../errors.js';
import {
  checkFlagValue,
  companyScope,
  type FlagKey,
  type FlagValue,
  flagDefinitions,
  flagKeys,
  globalScope,
  isFlagKey,
} from '../../flags/index.js';
import type { RouteContext } from '../route.js';
import { visibleCompany } from './scope.js';

export interface FlagView {
  key: FlagKey;
  type: 'boolean' | 'string';
  values: string[] | null;
  default: FlagValue;
  description: string;
  /** The value every company has unless it has its own; null = the default. */
  global: FlagValue | null;
  /** The asked company's own value, when a company was asked; null = none (it follows the global). */
  company: FlagValue | null;
  /** What a run of the asked company (or any company, without one) would see now. */
  effective: FlagValue;
}

function keyOf(key: string): FlagKey {
  if (!isFlagKey(key))
    throw new AppError('not_found', `There is no flag "${key}". Flags: ${flagKeys.join(', ')}.`);
  return key;
}

/** Company-scoped tokens see and set only their company's values; the global ones are the installation's. */
async function scopeOf(ctx: RouteContext, companyId: number | null | undefined) {
  if (companyId === undefined || companyId === null) {
    if (ctx.principal.companyId !== null)
      throw new AppError(
        'forbidden',
        "A company-scoped token may only set its own company's flags: pass companyId.",
      );
    return { scope: globalScope, company: null };
  }
  const company = await visibleCompany(ctx, companyId);
  return { scope: companyScope(companyId), company };
}

export function createFlagService() {
  async function list(ctx: RouteContext, companyId?: number): Promise<{ flags: FlagView[] }> {
    const own = ctx.principal.companyId;
    const asked = companyId ?? (own === null ? undefined : own);
    if (asked !== undefined) await visibleCompany(ctx, asked);
    const scopes = asked === undefined ? [globalScope] : [globalScope, companyScope(asked)];
    const rows = await ctx.em.find(FeatureFlag, { scope: { $in: scopes } });
    const stored = (key: string, scope: string) =>
      (rows.find((r) => r.key === key && r.scope === scope)?.value as FlagValue | undefined) ?? null;
    return {
      flags: flagKeys.map((key) => {
        const def = flagDefinitions[key];
        const global = stored(key, globalScope);
        const company = asked === undefined ? null : stored(key, companyScope(asked));
        return {
          key,
          type: def.type,
          values: 'values' in def ? [...def.values] : null,
          default: def.default,
          description: def.description,
          global,
          company,
          effective: company ?? global ?? def.default,
        };
      }),
    };
  }

  async function set(
    ctx: RouteContext,
    key: string,
    body: { value: unknown; companyId?: number | null | undefined },
  ): Promise<{ flags: FlagView[] }> {
    const flag = keyOf(key);
    const value = checkFlagValue(flag, body.value);
    const { scope, company } = await scopeOf(ctx, body.companyId);
    const row = await ctx.em.findOne(FeatureFlag, { key: flag, scope });
    const by = ctx.principal.name;
    const before = row?.value ?? null;
    if (row) {
      row.value = value;
      row.updatedBy = by;
    } else
      ctx.em.create(FeatureFlag, {
        key: flag,
        scope,
        company: company ? ctx.em.getReference(Company, company.id) : null,
        value,
        updatedBy: by,
      });
    await ctx.em.flush();
    ctx.audit.targetId = flag;
    ctx.audit.details = { scope, from: before, to: value };
    return list(ctx, company?.id);
  }

  async function unset(ctx: RouteContext, key: string, companyId?: number): Promise<{ flags: FlagView[] }> {
    const flag = keyOf(key);
    const { scope, company } = await scopeOf(ctx, companyId);
    const row = await ctx.em.findOne(FeatureFlag, { key: flag, scope });
    ctx.audit.targetId = flag;
    ctx.audit.details = { scope, from: row?.value ?? null, to: null };
    if (row) await ctx.em.remove(row).flush();
    return list(ctx, company?.id);
  }

  return { list, set, unset };
}
