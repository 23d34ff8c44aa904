import { readFile } from 'node:fs/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { credentialCreateSchema, credentialListQuery } from '../api/schemas.js';
import { createCompanyService } from '../api/services/companies.service.js';
import { createCredentialService } from '../api/services/credentials.service.js';
import type { loadConfig } from '../config.js';
import { createSecretBox } from '../crypto/secret-box.js';
import { Company } from '../db/entities/index.js';
import { createRateBudgetStore } from '../db/repositories/rate-budget.repository.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { resolveEncryptionKeys } from '../main/encryption-keys.js';
import { createScheduleService } from '../schedules/index.js';
import type { RateBudgetStore } from '../servicetitan/rate-budget.js';
import { auditCli, cliContext, confirm, type Output, parseId, readSecret, UsageError } from './support.js';

export interface CredentialsDeps {
  orm: MikroORM;
  logger: Logger;
  config: ReturnType<typeof loadConfig>;
  temporal: Client;
  taskQueue: string;
  installationId: string;
  out: Output;
}

export interface CredentialsArgs {
  sub: string | undefined;
  args: string[];
  company?: string | undefined;
  environment?: string | undefined;
  status?: string | undefined;
  tenant?: string | undefined;
  clientId?: string | undefined;
  skipTest?: boolean | undefined;
  yes?: boolean | undefined;
}

async function serviceOf(deps: CredentialsDeps, rateBudget: RateBudgetStore | undefined) {
  const { config, logger } = deps;
  const keys = config.encryptionKeys?.length ? await resolveEncryptionKeys(config, logger) : undefined;
  return createCredentialService({
    secrets: keys?.length ? createSecretBox(keys) : undefined,
    serviceTitan:
      config.serviceTitan.appKey && rateBudget
        ? {
            appKey: config.serviceTitan.appKey,
            environments: config.serviceTitan,
            rateLimitPerSecond: config.serviceTitan.rateLimitPerSecond,
            rateBudget,
            logger,
          }
        : undefined,
    schedules: createScheduleService(deps),
    temporal: deps.temporal.workflow,
  });
}

type Credentials = Awaited<ReturnType<typeof serviceOf>>;

function formatCredential(c: Awaited<ReturnType<Credentials['get']>>): string {
  return `${c.id}\tcompany ${c.companyId}\t${c.environment}\ttenant ${c.tenantId}\t${c.clientIdMasked}\t${c.status}${c.statusMessage ? ` (${c.statusMessage})` : ''}`;
}

/** `stsync credentials list|add|test|disable|import`: the API's credential service, as the `cli` principal. */
export async function credentialsCommand(deps: CredentialsDeps, input: CredentialsArgs): Promise<number> {
  // Connection tests spend the tenant's budget in PostgreSQL; its connections end with the command.
  const rateBudget = deps.config.serviceTitan.appKey ? createRateBudgetStore(deps.orm) : undefined;
  try {
    return await credentialsSubcommand(deps, input, await serviceOf(deps, rateBudget));
  } finally {
    await rateBudget?.close();
  }
}

async function credentialsSubcommand(
  deps: CredentialsDeps,
  input: CredentialsArgs,
  service: Credentials,
): Promise<number> {
  const { orm, logger, out } = deps;
  const ctx = cliContext(orm, logger);
  switch (input.sub) {
    case 'list': {
      const query = credentialListQuery.safeParse({
        companyId: input.company,
        environment: input.environment,
        status: input.status,
        pageSize: '200',
      });
      if (!query.success) throw new UsageError(query.error.issues.map((i) => i.message).join('; '));
      const items = [];
      for (let page = 1; ; page++) {
        const result = await service.list(ctx, { ...query.data, page });
        items.push(...result.items);
        if (items.length >= result.total || result.items.length === 0) break;
      }
      out.data(items);
      if (!out.json) for (const c of items) out.line(formatCredential(c));
      if (!items.length) out.note('no credentials');
      return 0;
    }
    case 'add': {
      const fields = {
        companyId: input.company ? parseId(input.company, '--company') : undefined,
        environment: input.environment ?? 'production',
        tenantId: input.tenant,
        clientId: input.clientId,
      };
      if (!fields.companyId || !fields.tenantId || !fields.clientId)
        throw new UsageError('credentials add needs --company, --tenant and --client-id.');
      const clientSecret = await readSecret('Client secret: ');
      const parsed = credentialCreateSchema.safeParse({ ...fields, clientSecret, test: !input.skipTest });
      if (!parsed.success)
        throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const created = await service.create(ctx, parsed.data);
      await auditCli(orm, ctx, {
        action: 'credential.create',
        targetType: 'credential',
        targetId: created.id,
        companyId: created.companyId,
      });
      out.data(created);
      out.line(`credential ${created.id} added: ${formatCredential(created)}`);
      return 0;
    }
    case 'test': {
      const id = parseId(input.args[0], 'credentials test <id>');
      const result = await service.test(ctx, id);
      await auditCli(orm, ctx, { action: 'credential.test', targetType: 'credential', targetId: id });
      out.data({ credentialId: id, ...result });
      out.line(`credential ${id}: ${result.status}${result.message ? ` (${result.message})` : ''}`);
      return result.status === 'connected' ? 0 : 1;
    }
    case 'disable': {
      const id = parseId(input.args[0], 'credentials disable <id>');
      await service.get(ctx, id);
      await confirm(
        `Disable credential ${id}? Its schedule goes, a run in progress is cancelled; synced data is kept.`,
        input.yes ?? false,
      );
      const disabled = await service.disable(ctx, id);
      await auditCli(orm, ctx, {
        action: 'credential.disable',
        targetType: 'credential',
        targetId: id,
        companyId: disabled.companyId,
      });
      out.data(disabled);
      out.line(
        `credential ${id} disabled${disabled.scheduleRemoved ? '; schedule removed' : ''}${disabled.cancelledSyncRunId ? `; run ${disabled.cancelledSyncRunId} cancelled` : ''}`,
      );
      return 0;
    }
    case 'import':
      return importCredentials(deps, service, input.args[0]);
    default:
      throw new UsageError(`Unknown credentials command "${input.sub ?? ''}".`);
  }
}

const columns = ['company', 'environment', 'tenant_id', 'client_id', 'client_secret'] as const;

/**
 * Bulk onboarding from a CSV (header `company,environment,tenant_id,client_id,client_secret`;
 * `company` is an id, or a name: an unknown name creates the company). Each line is added and
 * tested on its own and reported as it goes; a bad line fails alone.
 */
async function importCredentials(deps: CredentialsDeps, service: Credentials, file: string | undefined) {
  const { orm, logger, out } = deps;
  if (!file) throw new UsageError('credentials import needs a CSV file.');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const index = Object.fromEntries(columns.map((c) => [c, header.indexOf(c)]));
  const missing = columns.filter((c) => index[c] === -1);
  if (missing.length) throw new UsageError(`${file}: the header lacks ${missing.join(', ')}`);
  let failed = 0;
  let added = 0;
  const companies = createCompanyService();
  for (let n = 1; n < lines.length; n++) {
    const raw = lines[n]!;
    if (!raw.trim() || raw.trim().startsWith('#')) continue;
    const cells = raw.split(',').map((c) => c.trim());
    const cell = (c: (typeof columns)[number]) => cells[index[c]!] ?? '';
    const lineNo = n + 1;
    const ctx = cliContext(orm, logger);
    try {
      const company = cell('company');
      if (!company) throw new AppError('validation_failed', 'company is empty');
      const fields = {
        environment: cell('environment') || 'production',
        tenantId: cell('tenant_id'),
        clientId: cell('client_id'),
        clientSecret: cell('client_secret'),
        test: true,
      };
      // The line is checked before an unknown company is created for it.
      const parsed = credentialCreateSchema.safeParse({ companyId: 1, ...fields });
      if (!parsed.success)
        throw new AppError(
          'validation_failed',
          parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        );
      let companyId: number;
      if (/^[1-9]\d{0,9}$/.test(company)) companyId = Number(company);
      else {
        const existing = await ctx.em.findOne(Company, { name: company });
        companyId =
          existing?.id ??
          (await companies.create(ctx, { name: company, timeZone: 'UTC', syncEnabled: true })).id;
      }
      const created = await service.create(ctx, { ...parsed.data, companyId });
      await auditCli(orm, ctx, {
        action: 'credential.create',
        targetType: 'credential',
        targetId: created.id,
        companyId,
      });
      added++;
      out.data({ line: lineNo, ok: true, credentialId: created.id, companyId, status: created.status });
      out.line(
        `line ${lineNo}: tenant ${created.tenantId} → credential ${created.id} (company ${companyId}): ${created.status}`,
      );
    } catch (error) {
      failed++;
      const message = error instanceof Error ? error.message : String(error);
      out.data({ line: lineNo, ok: false, error: message });
      out.line(`line ${lineNo}: failed: ${message}`);
    }
  }
  out.note(`${added} added, ${failed} failed.`);
  out.note(`${file} holds client secrets: delete it now.`);
  return failed ? 1 : 0;
}
