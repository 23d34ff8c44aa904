import { Client, Connection } from '@temporalio/client';

export interface TemporalClientHandle {
  readonly client: Client;
  close(): Promise<void>;
}

/**
 * A lazily connecting client: the API starts (and answers /readyz with 503) even while
 * Temporal is down, and reconnects when it comes back.
 */
export function createTemporalClient(options: { address: string; namespace: string }): TemporalClientHandle {
  const connection = Connection.lazy({ address: options.address, connectTimeout: 5_000 });
  const client = new Client({ connection, namespace: options.namespace });
  return { client, close: () => connection.close() };
}
