import type { EntityManager } from '@mikro-orm/postgresql';
import type { SyncMode, SyncStreamName, SyncTrigger } from '../../workflows/definitions.js';
import { ServiceTitanCredential, SyncRun } from '../entities/index.js';

export const allStreams: SyncStreamName[] = ['customers', 'customerContacts', 'invoices'];

/**
 * A pending run row for a credential that may sync, or null when it may not (credential
 * disabled, company sync switched off).
 */
export async function createSyncRun(
  em: EntityManager,
  input: { credentialId: number; trigger: SyncTrigger; mode: SyncMode; streams?: SyncStreamName[] },
): Promise<{ syncRunId: number; streams: SyncStreamName[] } | null> {
  const credential = await em.findOne(ServiceTitanCredential, input.credentialId, { populate: ['company'] });
  if (!credential || credential.disabledAt || !credential.company.syncEnabled) return null;
  const streams = input.streams?.length ? input.streams : allStreams;
  const run = em.create(SyncRun, { credential, trigger: input.trigger, streams, mode: input.mode });
  await em.flush();
  return { syncRunId: run.id, streams };
}
