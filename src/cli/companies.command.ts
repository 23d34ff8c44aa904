import type { MikroORM } from '@mikro-orm/postgresql';
import { companyCreateSchema } from '../api/schemas.js';
import { createCompanyService } from '../api/services/companies.service.js';
import type { Logger } from '../logger.js';
import { auditCli, cliContext, type Output, UsageError } from './support.js';

/** `stsync companies list|add`: the API's company service, as the `cli` principal. */
export async function companiesCommand(
  deps: { orm: MikroORM; logger: Logger; out: Output },
  input: { sub: string | undefined; name?: string | undefined; timeZone?: string | undefined },
): Promise<number> {
  const { orm, logger, out } = deps;
  const service = createCompanyService();
  const ctx = cliContext(orm, logger);
  if (input.sub === 'list' || input.sub === undefined) {
    const items = [];
    for (let page = 1; ; page++) {
      const result = await service.list(ctx, { page, pageSize: 200 });
      items.push(...result.items);
      if (items.length >= result.total || result.items.length === 0) break;
    }
    out.data(items);
    if (!out.json)
      for (const c of items)
        out.line(`${c.id}\t${c.name}\t${c.timeZone}\tsync ${c.syncEnabled ? 'enabled' : 'disabled'}`);
    if (!items.length) out.note('no companies');
    return 0;
  }
  if (input.sub !== 'add') throw new UsageError(`Unknown companies command "${input.sub}".`);
  const parsed = companyCreateSchema.safeParse({ name: input.name, timeZone: input.timeZone ?? 'UTC' });
  if (!parsed.success)
    throw new UsageError(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  const created = await service.create(ctx, parsed.data);
  await auditCli(orm, ctx, {
    action: 'company.create',
    targetType: 'company',
    targetId: created.id,
    companyId: created.id,
  });
  out.data(created);
  out.line(`company ${created.id} "${created.name}" added (${created.timeZone})`);
  return 0;
}
