import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { SecretBox } from '../crypto/secret-box.js';
import { Company, ServiceTitanCredential, SyncRun } from '../db/entities/index.js';
import { secretPurpose } from '../db/repositories/credential.repository.js';
import type { Logger } from '../logger.js';
import { DEMO_TENANTS, type Sandbox, startSandbox } from '../sandbox/index.js';
import { defaultSchedule, type ScheduleService } from '../schedules/index.js';
import { startSync } from '../sync/start-sync.js';

export const DEMO_COMPANY_NAME = 'Demo Heating & Air (sandbox)';

/** The sandbox stands in for ServiceTitan when no app key is configured. */
export async function startDemoSandbox(port: number, latencyMs = 0): Promise<Sandbox> {
  try {
    return await startSandbox({ port, latencyMs });
  } catch {
    return startSandbox({ port: 0, latencyMs });
  }
}

export interface DemoTenant {
  credentialId: number;
  /** Set when this start began the demo's first sync. */
  syncRunId: number | undefined;
}

export interface DemoDeps {
  orm: MikroORM;
  secrets: SecretBox;
  sandbox: Sandbox;
  temporal: Client;
  taskQueue: string;
  installationId: string;
  schedules: ScheduleService;
  logger: Logger;
}

/**
 * A demo company connected to the sandbox's healthy tenant, once, with the default weekly
 * schedule; a first sync when it has never synced. Returns the ids to point the user at, or
 * undefined when the demo could not be set up: the demo is a convenience, so its failure (a
 * sync Temporal refuses, a schedule it rejects) is a warning and the product starts without it.
 */
export async function ensureDemoTenant(deps: DemoDeps): Promise<DemoTenant | undefined> {
  try {
    return await setUpDemo(deps);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    deps.logger.warn(
      { err: error },
      `the demo tenant could not be set up (${message}); servicetitan-sync runs without it`,
    );
    return undefined;
  }
}

async function setUpDemo(deps: DemoDeps): Promise<DemoTenant> {
  const em = deps.orm.em.fork();
  const tenant =
    deps.sandbox.tenants.find((t) => t.tenantId === DEMO_TENANTS[0]!.tenantId) ?? deps.sandbox.tenants[0]!;
  let credential = await em.findOne(ServiceTitanCredential, {
    environment: tenant.environment,
    tenantId: String(tenant.tenantId),
  });
  if (!credential) {
    const company = em.create(Company, { name: DEMO_COMPANY_NAME, timeZone: 'America/Chicago' });
    credential = em.create(ServiceTitanCredential, {
      company,
      environment: tenant.environment,
      tenantId: String(tenant.tenantId),
      clientIdEncrypted: deps.secrets.encrypt(tenant.clientId, secretPurpose.clientId),
      clientSecretEncrypted: deps.secrets.encrypt(tenant.clientSecret, secretPurpose.clientSecret),
      status: 'connected',
    });
    await em.flush();
    deps.logger.info(
      { credentialId: credential.id, tenantId: tenant.tenantId },
      'demo company connected to the sandbox',
    );
  }
  if (!(await deps.schedules.get(credential.id))) await deps.schedules.put(credential.id, defaultSchedule);
  const runs = await em.count(SyncRun, { credential });
  if (runs > 0) return { credentialId: credential.id, syncRunId: undefined };
  const started = await startSync(
    { em, temporal: deps.temporal, taskQueue: deps.taskQueue, installationId: deps.installationId },
    { credentialId: credential.id, trigger: 'demo', mode: 'full' },
  );
  return { credentialId: credential.id, syncRunId: started.syncRunId };
}
