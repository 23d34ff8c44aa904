import type { MikroORM } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { createAuditLog } from '../audit/index.js';
import { createTokenService, type Principal } from '../auth/index.js';
import { apiRoles } from '../db/entities/index.js';

const cli: Principal = { tokenId: null, name: 'cli', role: 'admin', companyId: null };

export const tokenCreateArgs = z.strictObject({
  role: z.enum(apiRoles, { error: `--role must be one of ${apiRoles.join(', ')}` }),
  company: z
    .string()
    .regex(/^[1-9]\d{0,9}$/, '--company must be a company id')
    .transform(Number)
    .optional(),
  name: z.string().trim().min(1).max(200).optional(),
});

/** `stsync tokens create`: the plaintext token is returned once; only its hash is stored. */
export async function createTokenCommand(orm: MikroORM, args: z.input<typeof tokenCreateArgs>) {
  const result = tokenCreateArgs.safeParse(args);
  if (!result.success) throw new Error(result.error.issues.map((i) => i.message).join('; '));
  const parsed = result.data;
  const em = orm.em.fork();
  const created = await createTokenService({}).create(em, {
    role: parsed.role,
    name: parsed.name ?? `${parsed.role} token`,
    companyId: parsed.company ?? null,
  });
  await createAuditLog().record(em.fork(), {
    actor: cli,
    action: 'token.create',
    targetType: 'token',
    targetId: created.id,
    companyId: created.companyId,
    outcome: 'success',
    details: { role: created.role },
  });
  return created;
}

export async function listTokensCommand(orm: MikroORM) {
  return createTokenService({}).list(orm.em.fork());
}

export async function revokeTokenCommand(orm: MikroORM, id: number) {
  const em = orm.em.fork();
  const revoked = await createTokenService({}).revoke(em, id);
  await createAuditLog().record(em.fork(), {
    actor: cli,
    action: 'token.revoke',
    targetType: 'token',
    targetId: id,
    companyId: revoked.companyId,
    outcome: 'success',
  });
  return revoked;
}
