/**
 * Injected faults. Selection is deterministic for a given request sequence: rates draw from a
 * PRNG seeded by the sandbox seed; `nth` counts matching requests per fault.
 */
import { createRng } from './prng.js';
import type { FaultSpec } from './types.js';

export interface FaultInjector {
  add(spec: FaultSpec): void;
  clear(): void;
  /** The first fault that fires for this request, if any. Counts the request against every matching fault. */
  select(request: { path: string; tenantId: number | undefined }): FaultSpec | undefined;
}

interface ActiveFault {
  spec: FaultSpec;
  matched: number;
  fired: number;
}

export function createFaultInjector(seed: number): FaultInjector {
  const rng = createRng(seed ^ 0xfa017);
  let faults: ActiveFault[] = [];

  const matches = (spec: FaultSpec, path: string, tenantId: number | undefined): boolean => {
    if (spec.tenantId !== undefined && spec.tenantId !== tenantId) return false;
    if (spec.path === undefined) return true;
    if (typeof spec.path === 'string') return path.includes(spec.path);
    spec.path.lastIndex = 0;
    return spec.path.test(path);
  };

  const fires = (fault: ActiveFault): boolean => {
    const { spec } = fault;
    if (spec.nth !== undefined) {
      const count = spec.count ?? 1;
      return fault.matched >= spec.nth && fault.matched < spec.nth + count;
    }
    if (spec.count !== undefined && fault.fired >= spec.count) return false;
    if (spec.rate !== undefined) return rng.next() < spec.rate;
    return true;
  };

  return {
    add(spec) {
      if (spec.rate !== undefined && (spec.rate < 0 || spec.rate > 1))
        throw new RangeError('FaultSpec.rate must be in [0, 1]');
      if (spec.nth !== undefined && spec.nth < 1) throw new RangeError('FaultSpec.nth is 1-based');
      faults.push({ spec, matched: 0, fired: 0 });
    },
    clear() {
      faults = [];
    },
    select({ path, tenantId }) {
      let selected: FaultSpec | undefined;
      for (const fault of faults) {
        if (!matches(fault.spec, path, tenantId)) continue;
        fault.matched++;
        if (selected === undefined && fires(fault)) {
          fault.fired++;
          selected = fault.spec;
        }
      }
      return selected;
    },
  };
}
