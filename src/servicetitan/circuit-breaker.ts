import { ServiceTitanError, ServiceTitanUnavailable } from './errors.js';
import type { ServiceTitanEnvironment } from './types.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerTransition {
  environment: ServiceTitanEnvironment;
  state: BreakerState;
  /** Consecutive failures that opened it (0 when it closes). */
  failures: number;
  /** When an open breaker lets a probe through; null otherwise. */
  retryAt: Date | null;
}

export interface CircuitBreakerOptions {
  environment: ServiceTitanEnvironment;
  /** Consecutive 5xx/timeouts/network failures that open the breaker; 0 never opens it. */
  failureThreshold: number;
  cooldownMs: number;
  now?: () => number;
  onTransition?: (transition: BreakerTransition) => void;
}

/**
 * What a request gets instead of being sent while the breaker is open: retryable, with the rest
 * of the cool-down as its retry hint, so the activity asks Temporal to come back after it.
 */
export class CircuitOpen extends ServiceTitanError {
  readonly retryable = true;
  override readonly retryAfterMs: number;
  constructor(
    readonly environment: ServiceTitanEnvironment,
    retryAfterMs: number,
  ) {
    super(
      'servicetitan_circuit_open',
      `The ServiceTitan ${environment} API kept failing (server errors or timeouts); requests are paused ` +
        `for ${Math.ceil(retryAfterMs / 1000)} s before one probe is let through.`,
      { environment, retryAfterMs },
    );
    this.retryAfterMs = retryAfterMs;
  }
}

/** The failures that say the API itself is unwell, as opposed to our request or credential. */
export function countsAgainstBreaker(error: unknown): boolean {
  return (
    error instanceof ServiceTitanUnavailable &&
    (error.reason === 'server_error' || error.reason === 'timeout' || error.reason === 'network')
  );
}

export interface CircuitBreaker {
  readonly environment: ServiceTitanEnvironment;
  state(): BreakerState;
  /** Throws CircuitOpen while requests are paused; no side effect (checked before a token is fetched). */
  check(): void;
  /**
   * Before a request: throws CircuitOpen while open, and while another request is the half-open
   * probe; otherwise lets it through (as the probe once the cool-down has passed).
   */
  admit(): void;
  onSuccess(): void;
  onFailure(): void;
  /** A request admitted but never answered (cancelled): frees the probe slot. */
  onAbandon(): void;
}

/**
 * Closed → (threshold consecutive failures) → open → (cool-down passed) → half-open: one probe
 * request; its success closes, its failure re-opens for another cool-down. One per environment
 * per process: each worker learns on its own, which costs at most `threshold` requests a worker.
 */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const now = options.now ?? Date.now;
  let state: BreakerState = 'closed';
  let failures = 0;
  let openUntil = 0;
  let probing = false;

  const move = (next: BreakerState) => {
    if (next === state) return;
    state = next;
    options.onTransition?.({
      environment: options.environment,
      state,
      failures,
      retryAt: state === 'open' ? new Date(openUntil) : null,
    });
  };
  const open = () => {
    openUntil = now() + options.cooldownMs;
    probing = false;
    move('open');
  };

  const paused = () => (state === 'open' && openUntil > now()) || (state === 'half_open' && probing);
  const rejection = () =>
    new CircuitOpen(
      options.environment,
      // Behind a probe in flight, come back soon: its answer decides for everyone.
      state === 'open' ? openUntil - now() : Math.min(options.cooldownMs, 5_000),
    );

  return {
    environment: options.environment,
    state: () => state,
    check() {
      if (paused()) throw rejection();
    },
    admit() {
      if (state === 'closed') return;
      if (paused()) throw rejection();
      // Cool-down over: this request is the probe; the others wait for its answer.
      if (state === 'open') move('half_open');
      probing = true;
    },
    onSuccess() {
      // A request sent before the breaker opened (another endpoint, say) answering now does not
      // cut the cool-down short: only the probe closes an open breaker, or the server's failing
      // endpoint would open it again at once, and again.
      if (state === 'open') return;
      failures = 0;
      probing = false;
      move('closed');
    },
    onFailure() {
      failures++;
      if (state === 'half_open') open();
      else if (state === 'closed' && options.failureThreshold > 0 && failures >= options.failureThreshold)
        open();
    },
    onAbandon() {
      if (state === 'half_open') probing = false;
    },
  };
}
