import type { MikroORM } from '@mikro-orm/postgresql';
import type { RouteContext } from '../api/route.js';
import { createFlagService } from '../api/services/flags.service.js';
import { createAuditLog } from '../audit/index.js';
import type { Principal } from '../auth/index.js';
import type { Logger } from '../logger.js';

const cli: Principal = { tokenId: null, name: 'cli', role: 'admin', companyId: null };

/** `true`/`false` are booleans on the command line; anything else is a string value. */
export function parseFlagValue(raw: string): boolean | string {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  return raw;
}

/**
 * `stsync flags list|set|unset`: the same checks and audit trail as /api/flags, as the CLI
 * principal.
 */
export async function flagsCommand(
  deps: { orm: MikroORM; logger: Logger },
  input: {
    sub: string;
    key?: string | undefined;
    value?: string | undefined;
    companyId?: number | undefined;
  },
) {
  const em = deps.orm.em.fork();
  const ctx: RouteContext = {
    principal: cli,
    em,
    requestId: 'cli',
    ip: 'cli',
    signal: new AbortController().signal,
    log: deps.logger,
    audit: {},
  };
  const flags = createFlagService();
  if (input.sub === 'list') return flags.list(ctx, input.companyId);
  if (!input.key) throw new Error(`flags ${input.sub} needs a flag name.`);
  const action = input.sub === 'set' ? 'flag.set' : 'flag.unset';
  let result: Awaited<ReturnType<typeof flags.list>>;
  if (input.sub === 'set') {
    if (input.value === undefined)
      throw new Error('flags set needs a value: stsync flags set <name> <value>.');
    result = await flags.set(ctx, input.key, {
      value: parseFlagValue(input.value),
      companyId: input.companyId,
    });
  } else result = await flags.unset(ctx, input.key, input.companyId);
  await createAuditLog().record(deps.orm.em.fork(), {
    actor: cli,
    action,
    targetType: 'flag',
    targetId: input.key,
    companyId: input.companyId ?? null,
    outcome: 'success',
    details: ctx.audit.details ?? {},
  });
  return result;
}

/** One line per flag: name, what runs see now, and where it comes from. */
export function formatFlags(result: Awaited<ReturnType<typeof flagsCommand>>): string {
  const width = Math.max(...result.flags.map((f) => f.key.length));
  return result.flags
    .map((f) => {
      const source = f.company !== null ? 'company' : f.global !== null ? 'global' : 'default';
      return `${f.key.padEnd(width)}  ${String(f.effective).padEnd(6)}  (${source})  ${f.description}`;
    })
    .join('\n');
}
