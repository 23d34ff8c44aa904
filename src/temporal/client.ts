import { Client, Connection } from '@temporalio/client';
import type { Logger } from '../logger.js';

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

/**
 * An eager connection, retried until `timeoutMs` has passed (a one-shot step started beside its
 * Temporal waits for it instead of failing at once).
 */
export async function connectToTemporalClient(
  address: string,
  logger: Logger,
  timeoutMs: number,
): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      return await Connection.connect({ address, connectTimeout: 5_000 });
    } catch (error) {
      if (Date.now() + delay > deadline)
        throw new Error(
          `Temporal at ${address} did not answer within ${Math.round(timeoutMs / 1000)} s (TEMPORAL_CONNECT_TIMEOUT_SECONDS): ${error instanceof Error ? error.message : String(error)}`,
        );
      logger.warn({ address }, 'waiting for Temporal to answer');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
