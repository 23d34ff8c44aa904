/**
 * Tiny deterministic hashing and PRNG. Every generated value in the sandbox derives from
 * `hashInts(...)` of stable inputs (seed, tenant, stream, index, version), so a record can be
 * rebuilt at any time without storing it — that is what keeps memory flat for huge tenants.
 */

function mix(h: number, v: number): number {
  // murmur3-style 32-bit mixing; `Math.imul` keeps everything in int32 arithmetic.
  let k = Math.imul(v | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let x = h ^ k;
  x = (x << 13) | (x >>> 19);
  return (Math.imul(x, 5) + 0xe6546b64) | 0;
}

function finalise(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Hashes non-negative integers up to 2^53 (tenant ids are int64 in the API but fit here). */
export function hashInts(...values: number[]): number {
  let h = 0x9747b28c;
  for (const value of values) {
    const v = Math.trunc(value);
    h = mix(h, v % 0x100000000);
    h = mix(h, Math.floor(v / 0x100000000));
  }
  return finalise(h ^ values.length);
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Integer in [min, max] inclusive. */
  range(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

/**
 * mulberry32: fast, small state, good enough for test data (not for anything secret). A class
 * rather than closures: a few Rngs are created per rendered record, and per-instance closures
 * were a measurable share of rendering time.
 */
class Mulberry32 implements Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

export function createRng(seed: number): Rng {
  return new Mulberry32(seed);
}
