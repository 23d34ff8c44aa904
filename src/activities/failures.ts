import { ApplicationFailure } from '@temporalio/activity';
import { DatabaseError, toSafeDatabaseError } from '../db/errors.js';
import type { Logger } from '../logger.js';

/**
 * What an activity throws instead of a database error: a Temporal failure whose message and
 * type carry no record values (a raw PostgreSQL message would be written to workflow history,
 * and from there to `run.error`). The redacted server text is logged here. A retryable cause
 * (connection lost, deadlock) stays retryable; a value or rule the data breaks does not, since
 * running the same statement again cannot help. Other errors pass through unchanged, no `cause`
 * attached: Temporal would serialise the original message with it.
 */
export function toActivityFailure(error: unknown, logger?: Logger): unknown {
  const safe = toSafeDatabaseError(error, logger);
  if (!(safe instanceof DatabaseError)) return safe;
  return ApplicationFailure.create({
    message: safe.message,
    type: safe.code,
    nonRetryable: !safe.retryable,
    details: [safe.details],
  });
}
