export interface BackoffOptions {
  /** Delay scale of the first retry. */
  baseMs: number;
  /** Upper bound of a single delay. */
  maxMs: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 250, maxMs: 20_000 };

/**
 * "Full jitter" exponential backoff (AWS architecture blog): a uniform delay in
 * [0, min(max, base * 2^(attempt-1))). Spreads many clients' retries instead of synchronising them.
 * `attempt` counts failures so far, starting at 1.
 */
export function fullJitterDelay(
  attempt: number,
  options: BackoffOptions = defaultBackoff,
  random: () => number = Math.random,
): number {
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * exp);
}

/**
 * The delay before the next attempt: the server's Retry-After when it gave one (plus a little
 * jitter so that waiting callers do not stampede), else full-jitter backoff.
 */
export function nextDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  options: BackoffOptions = defaultBackoff,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return retryAfterMs + Math.floor(random() * Math.min(1000, options.baseMs));
  return fullJitterDelay(attempt, options, random);
}

/** setTimeout as a promise that rejects with the signal's reason when aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
