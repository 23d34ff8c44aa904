import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { z } from 'zod';
import { setCredentialStatus } from '../../alerts/credential-status.js';
import { txSql } from '../../alerts/sql.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import {
  type IServiceTitanCredential,
  ServiceTitanCredential,
  SyncRun,
  SyncSchedule,
} from '../../db/entities/index.js';
import { secretPurpose } from '../../db/repositories/credential.repository.js';
import { AppError } from '../../errors.js';
import type { ScheduleService } from '../../schedules/index.js';
import {
  type ConnectionTestResult,
  createServiceTitanClient,
  type ServiceTitanClientOptions,
  type TenantCredential,
} from '../../servicetitan/index.js';
import type { RouteContext } from '../route.js';
import type { credentialCreateSchema, credentialListQuery, credentialPatchSchema } from '../schemas.js';
import { companyFilter, iso, visibleCompany, visibleCredential } from './scope.js';

export interface CredentialServiceDeps {
  secrets: SecretBox | undefined;
  /** A client is made per test, so a test always asks for a fresh token (none cached from before a rotation). */
  serviceTitan: ServiceTitanClientOptions | undefined;
  schedules: ScheduleService | undefined;
  /** Cancels a disabled credential's run in progress. */
  temporal: Pick<Client['workflow'], 'getHandle'>;
  /** For links in `credential.status_changed` events. */
  publicUrl?: string | undefined;
}

/** The last 4 characters of a client id; shorter ids are masked whole. */
export function maskClientId(clientId: string): string {
  return clientId.length > 4 ? `****${clientId.slice(-4)}` : '****';
}

export function createCredentialService(deps: CredentialServiceDeps) {
  const secrets = (): SecretBox => {
    if (!deps.secrets)
      throw new AppError(
        'encryption_not_configured',
        'ENCRYPTION_KEYS is not set: credentials cannot be stored.',
      );
    return deps.secrets;
  };
  const serviceTitan = (): ServiceTitanClientOptions => {
    if (!deps.serviceTitan)
      throw new AppError(
        'not_configured',
        'No ServiceTitan app key is configured: connections cannot be tested.',
      );
    return deps.serviceTitan;
  };

  function toView(c: IServiceTitanCredential) {
    let masked = '****';
    try {
      masked = maskClientId(secrets().decrypt(c.clientIdEncrypted, secretPurpose.clientId));
    } catch {
      // A key no longer configured: the mask stays opaque rather than failing the listing.
    }
    return {
      id: c.id,
      companyId: c.company.id,
      environment: c.environment,
      tenantId: c.tenantId,
      clientIdMasked: masked,
      status: c.status,
      statusMessage: c.statusMessage ?? null,
      lastTestedAt: iso(c.lastTestedAt),
      createdAt: c.createdAt.toISOString(),
      updatedAt: c.updatedAt.toISOString(),
      disabledAt: iso(c.disabledAt),
    };
  }

  async function runTest(tenant: TenantCredential, signal: AbortSignal) {
    const client = createServiceTitanClient(serviceTitan());
    let result: ConnectionTestResult;
    try {
      result = await client.tenant(tenant).testConnection({ signal });
    } finally {
      client.close();
    }
    return {
      status: result.status,
      streams: result.streams,
      message: result.message,
      testedAt: new Date().toISOString(),
    };
  }

  /**
   * Cancels the credential's run in progress through Temporal (the run ends `cancelled`, its chunk
   * in hand is cancelled too); returns its id, or null when none was running. The handle names
   * the run's first execution, so only that run's chain is cancelled.
   */
  async function cancelActiveRun(ctx: RouteContext, credentialId: number): Promise<number | null> {
    const active = await ctx.em.find(
      SyncRun,
      { credential: credentialId, status: { $in: ['pending', 'running', 'paused'] } },
      { orderBy: { id: 'desc' } },
    );
    let cancelled: number | null = null;
    for (const run of active) {
      // A row still without a workflow is being started: its workflow sees the disabled credential and stops.
      if (!run.workflowId || !run.runId) continue;
      try {
        await deps.temporal.getHandle(run.workflowId, undefined, { firstExecutionRunId: run.runId }).cancel();
        cancelled ??= run.id;
      } catch (error) {
        // Already ended: its row is being finished by its workflow.
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
    }
    return cancelled;
  }

  async function flushUnique(ctx: RouteContext) {
    try {
      await ctx.em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException)
        throw new AppError(
          'conflict',
          'This company already has a credential for that environment, or that tenant is already connected.',
        );
      throw error;
    }
  }

  return {
    async create(ctx: RouteContext, input: z.output<typeof credentialCreateSchema>) {
      const box = secrets();
      const company = await visibleCompany(ctx, input.companyId);
      const tenant: TenantCredential = {
        environment: input.environment,
        tenantId: input.tenantId,
        clientId: input.clientId,
        clientSecret: input.clientSecret,
      };
      const test = input.test ? await runTest(tenant, ctx.signal) : null;
      if (test) ctx.audit.details = { ...ctx.audit.details, testStatus: test.status };
      if (test && (test.status === 'invalid_credentials' || test.status === 'unreachable'))
        throw new AppError('connection_failed', `Not saved: ${test.message}`, { test });
      const credential = ctx.em.create(ServiceTitanCredential, {
        company: company.id,
        environment: input.environment,
        tenantId: input.tenantId,
        clientIdEncrypted: box.encrypt(input.clientId, secretPurpose.clientId),
        clientSecretEncrypted: box.encrypt(input.clientSecret, secretPurpose.clientSecret),
        status: test?.status ?? 'untested',
        statusMessage: test?.message ?? null,
        lastTestedAt: test ? new Date(test.testedAt) : null,
      });
      await flushUnique(ctx);
      await ctx.em.populate(credential, ['company']);
      return { ...toView(credential), test };
    },

    async list(ctx: RouteContext, query: z.output<typeof credentialListQuery>) {
      const companyId = companyFilter(ctx, query.companyId);
      if (companyId === null) return { items: [], page: query.page, pageSize: query.pageSize, total: 0 };
      const [rows, total] = await ctx.em.findAndCount(
        ServiceTitanCredential,
        {
          ...(companyId !== undefined ? { company: companyId } : {}),
          ...(query.environment ? { environment: query.environment } : {}),
          ...(query.status ? { status: query.status } : {}),
        },
        { orderBy: { id: 'asc' }, limit: query.pageSize, offset: (query.page - 1) * query.pageSize },
      );
      ctx.audit.details = { ...ctx.audit.details, returned: rows.map((r) => r.id) };
      if (companyId !== undefined) ctx.audit.companyId = companyId;
      return { items: rows.map(toView), page: query.page, pageSize: query.pageSize, total };
    },

    async get(ctx: RouteContext, id: number) {
      return toView(await visibleCredential(ctx, id));
    },

    /** Rotates the secret (and optionally the client id); the credential must be tested again. */
    async rotate(ctx: RouteContext, id: number, input: z.output<typeof credentialPatchSchema>) {
      const box = secrets();
      const credential = await visibleCredential(ctx, id);
      if (credential.disabledAt) throw new AppError('credential_disabled', `Credential ${id} is disabled.`);
      credential.clientSecretEncrypted = box.encrypt(input.clientSecret, secretPurpose.clientSecret);
      if (input.clientId) credential.clientIdEncrypted = box.encrypt(input.clientId, secretPurpose.clientId);
      credential.accessTokenEncrypted = null;
      credential.accessTokenExpiresAt = null;
      credential.status = 'untested';
      credential.statusMessage = 'The secret was changed; test the connection again.';
      await ctx.em.flush();
      return toView(credential);
    },

    /**
     * Disables (keeps the synced data). The flag is committed first, so from then on no sync starts
     * for the credential, manual or scheduled (both make their run row through a check of it);
     * then its schedule goes and a run in progress is cancelled. The answer says what was stopped.
     */
    async disable(ctx: RouteContext, id: number) {
      const credential = await visibleCredential(ctx, id);
      credential.disabledAt ??= new Date();
      credential.status = 'disabled';
      credential.statusMessage = 'Disabled: no further syncs; synced data is kept.';
      credential.accessTokenEncrypted = null;
      credential.accessTokenExpiresAt = null;
      await ctx.em.flush();
      let scheduleRemoved = false;
      if (deps.schedules) {
        scheduleRemoved = (await ctx.em.count(SyncSchedule, { credential: id })) > 0;
        await deps.schedules.remove(id);
      }
      const cancelledSyncRunId = await cancelActiveRun(ctx, id);
      ctx.audit.details = { ...ctx.audit.details, cancelledSyncRunId, scheduleRemoved };
      return { ...toView(credential), cancelledSyncRunId, scheduleRemoved };
    },

    async test(ctx: RouteContext, id: number) {
      const box = secrets();
      const credential = await visibleCredential(ctx, id);
      if (credential.disabledAt) throw new AppError('credential_disabled', `Credential ${id} is disabled.`);
      const result = await runTest(
        {
          environment: credential.environment,
          tenantId: credential.tenantId,
          clientId: box.decrypt(credential.clientIdEncrypted, secretPurpose.clientId),
          clientSecret: box.decrypt(credential.clientSecretEncrypted, secretPurpose.clientSecret),
        },
        ctx.signal,
      );
      // The status and its event in one transaction, from the locked row: a sync failing at the
      // same moment cannot announce the same change twice.
      await ctx.em.transactional((tem) =>
        setCredentialStatus(txSql(tem as EntityManager), {
          credentialId: credential.id,
          status: result.status,
          message: result.message,
          testedAt: new Date(result.testedAt),
          publicUrl: deps.publicUrl,
        }),
      );
      ctx.audit.details = { ...ctx.audit.details, testStatus: result.status };
      return result;
    },
  };
}
