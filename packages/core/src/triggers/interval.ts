/**
 * Interval trigger: fires at anchor + k * every (+ jitter) for every integer k. The lattice is
 * anchored, not started, by `anchor`, so every instance computes the same fires. Jitter is
 * deterministic (a hash of the seed and k), for the same reason: a random jitter would give each
 * instance a different fire instant and break exactly-once claiming.
 */

import type { Trigger } from "./trigger.js";

/** FNV-1a over the seed, mixed with k; uniform enough to spread fires, stable across processes. */
function jitterFor(seed: number, k: number, range: number): number {
  let h = seed ^ Math.imul(k | 0, 0x9e3779b1) ^ Math.imul(Math.floor(k / 2 ** 32), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) % (range + 1);
}

/** A stable 32-bit hash of a string (FNV-1a). */
export function hashSeed(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Options of {@link intervalTrigger}; all values already validated and in milliseconds. */
export interface IntervalOptions {
  /** Period in ms (>= 1). */
  every: number;
  /** Any instant on the lattice of fires. */
  anchor: number;
  /** Maximum deterministic delay added to each fire, < every. */
  jitter?: number;
  /** Seed for the jitter (the schedule id), so schedules with the same period spread out. */
  seed?: string;
}

/** Compiles an interval trigger. */
export function intervalTrigger({ every, anchor, jitter = 0, seed = "" }: IntervalOptions): Trigger {
  const seedHash = hashSeed(seed);
  const fireAt = (k: number) => anchor + k * every + (jitter > 0 ? jitterFor(seedHash, k, jitter) : 0);
  return {
    next(after) {
      const k = Math.floor((after - anchor) / every);
      const candidate = fireAt(k);
      return candidate > after ? candidate : fireAt(k + 1);
    },
  };
}

/** Compiles a one-off trigger that fires once at `at`. */
export function onceTrigger(at: number): Trigger {
  return { next: (after) => (at > after ? at : null) };
}
