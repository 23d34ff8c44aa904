/**
 * Holds: a test parks matching requests until it releases them, so a sync stays in flight for
 * exactly as long as the test needs, whatever the machine's speed (no "large enough" tenants, no
 * sleeps). A parked request has been counted in the stats but not answered yet.
 */

export interface HoldSpec {
  /** A substring of the request path, or a RegExp tested against it. Default: any path. */
  path?: string | RegExp;
  /** Default: any tenant. Token requests match via the tenant of their client id. */
  tenantId?: number;
  /** Lets this many matching requests through first, then parks the rest (default 0). */
  after?: number;
}

export interface Hold {
  /** Lets every parked request go on, and stops parking new ones. Idempotent. */
  release(): void;
  /** Requests parked by this hold so far (released ones included). */
  parked(): number;
  /** Resolves once at least `n` requests (default 1) have been parked by this hold. */
  reached(n?: number): Promise<void>;
}

export interface Gates {
  hold(spec?: HoldSpec): Hold;
  /** Parks the request while an active hold matches it; resolves at once otherwise. */
  pass(request: { path: string; tenantId: number | undefined }): Promise<void>;
  /** Releases every hold (the sandbox is closing). */
  releaseAll(): void;
}

interface ActiveHold {
  spec: HoldSpec;
  released: boolean;
  parked: number;
  passed: number;
  waiting: (() => void)[];
  watchers: { n: number; resolve: () => void }[];
}

function matches(spec: HoldSpec, path: string, tenantId: number | undefined): boolean {
  if (spec.tenantId !== undefined && spec.tenantId !== tenantId) return false;
  if (spec.path === undefined) return true;
  if (typeof spec.path === 'string') return path.includes(spec.path);
  spec.path.lastIndex = 0;
  return spec.path.test(path);
}

export function createGates(): Gates {
  const holds = new Set<ActiveHold>();

  const release = (h: ActiveHold): void => {
    if (h.released) return;
    h.released = true;
    holds.delete(h);
    for (const go of h.waiting.splice(0)) go();
  };

  return {
    hold(spec = {}) {
      const h: ActiveHold = { spec, released: false, parked: 0, passed: 0, waiting: [], watchers: [] };
      holds.add(h);
      return {
        release: () => release(h),
        parked: () => h.parked,
        reached: (n = 1) =>
          h.parked >= n ? Promise.resolve() : new Promise<void>((resolve) => h.watchers.push({ n, resolve })),
      };
    },
    pass({ path, tenantId }) {
      // The first matching hold parks the request; releasing it lets the request go on.
      for (const h of holds) {
        if (!matches(h.spec, path, tenantId)) continue;
        if (h.passed < (h.spec.after ?? 0)) {
          h.passed++;
          continue;
        }
        h.parked++;
        const ready = h.watchers.filter((w) => h.parked >= w.n);
        h.watchers = h.watchers.filter((w) => h.parked < w.n);
        for (const w of ready) w.resolve();
        return new Promise<void>((resolve) => h.waiting.push(resolve));
      }
      return Promise.resolve();
    },
    releaseAll() {
      for (const h of [...holds]) release(h);
    },
  };
}
