import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { ServiceTitanCredential } from './servicetitan-credential.entity.js';

/**
 * Where a stream of a credential stands: the export feed's `continueFrom` and the newest
 * `modifiedOn` ingested. Written in the same transaction as the rows it covers, never before.
 */
export const SyncStreamState = defineEntity({
  name: 'SyncStreamState',
  tableName: 'sync_stream_state',
  properties: {
    credential: () => p.manyToOne(ServiceTitanCredential).primary().deleteRule('cascade'),
    stream: p.string().length(64).primary(),
    cursor: p.text().nullable(),
    highWaterMark: p.datetime().nullable(),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

export type ISyncStreamState = InferEntity<typeof SyncStreamState>;
