import type { EntityManager } from '@mikro-orm/postgresql';
import { flagsOf, type RunFlags, streamsAllowed } from '../../flags/index.js';
import type { SyncMode, SyncStreamName, SyncTrigger } from '../../workflows/definitions.js';
import { ServiceTitanCredential, SyncRun } from '../entities/index.js';

export const allStreams: SyncStreamName[] = ['customers', 'customerContacts', 'invoices'];

/** Why the flags forbid a run, or undefined when they allow it. */
function refusedByFlags(
  flags: RunFlags,
  trigger: SyncTrigger,
  streams: SyncStreamName[],
): string | undefined {
  if (flags['data-source'] === 'manual')
    return "the company's data comes from the manual import path (flag data-source = manual)";
  if (trigger === 'schedule' && !flags['scheduled-syncs'])
    return 'scheduled syncs are switched off (flag scheduled-syncs)';
  if (streams.length === 0) return 'every stream it would take is switched off (flags stream.*)';
  return undefined;
}

/**
 * A pending run row for a credential that may sync, or null when it may not (credential
 * disabled, company sync switched off), or `{refused}` when the feature flags forbid it. The
 * flags are read once, here, and kept on the row; the streams are those the flags allow. A
 * scheduled run the flags forbid is recorded as skipped, with the reason.
 */
export async function createSyncRun(
  em: EntityManager,
  input: { credentialId: number; trigger: SyncTrigger; mode: SyncMode; streams?: SyncStreamName[] },
): Promise<{ syncRunId: number; streams: SyncStreamName[] } | { refused: string } | null> {
  const credential = await em.findOne(ServiceTitanCredential, input.credentialId, { populate: ['company'] });
  if (!credential || credential.disabledAt || !credential.company.syncEnabled) return null;
  const flags = await flagsOf(em).forCompany(credential.company.id);
  const streams = streamsAllowed(flags, input.streams?.length ? input.streams : allStreams);
  const refused = refusedByFlags(flags, input.trigger, streams);
  if (refused) {
    if (input.trigger === 'schedule')
      em.create(SyncRun, {
        credential,
        trigger: input.trigger,
        streams,
        mode: input.mode,
        flags,
        status: 'skipped',
        error: refused,
        finishedAt: new Date(),
      });
    await em.flush();
    return { refused };
  }
  const run = em.create(SyncRun, { credential, trigger: input.trigger, streams, mode: input.mode, flags });
  await em.flush();
  return { syncRunId: run.id, streams };
}
