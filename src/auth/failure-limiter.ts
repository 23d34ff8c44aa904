/**
 * Counts failed authentications per client address in a sliding window; once an address reaches
 * the limit, it is refused until its oldest failure leaves the window. In memory, owned by one
 * app instance (each instance limits on its own).
 */
export function createFailureLimiter(options: { max: number; windowMs: number; now?: () => number }) {
  const now = options.now ?? Date.now;
  const failures = new Map<string, number[]>();

  const recent = (key: string): number[] => {
    const cutoff = now() - options.windowMs;
    const list = (failures.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length) failures.set(key, list);
    else failures.delete(key);
    return list;
  };

  return {
    /** Seconds until the address may try again, or 0 when it may try now. */
    blockedFor(key: string): number {
      const list = recent(key);
      if (list.length < options.max) return 0;
      const oldest = list[list.length - options.max] ?? now();
      return Math.max(1, Math.ceil((oldest + options.windowMs - now()) / 1000));
    },
    fail(key: string): void {
      const list = recent(key);
      list.push(now());
      failures.set(key, list);
      // Bound memory under a spray of addresses: forget the quietest when the map grows large.
      if (failures.size > 10_000) {
        const first = failures.keys().next().value;
        if (first !== undefined) failures.delete(first);
      }
    },
  };
}

export type FailureLimiter = ReturnType<typeof createFailureLimiter>;
