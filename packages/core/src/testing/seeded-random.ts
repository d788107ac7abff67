/**
 * A seeded pseudo-random number generator for tests: the same seed gives the same sequence on
 * every run and machine, so a randomised fault matrix is reproducible and a failure can be replayed.
 */

import { z } from "zod";
import { parseInput } from "../validation.js";

const seedSchema = z.int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

/**
 * mulberry32: a fast 32-bit generator with a full 2^32 period, good enough to spread faults over
 * a test matrix (not for cryptography or statistics). Written out here rather than taken from a
 * library because its eight lines are the whole algorithm, and the sequence itself is part of the
 * tests that use it (pure-rand, the well-kept library of the field, has other generators).
 *
 * ```ts
 * const random = seededRandom(20260105);
 * if (random() < 0.03) broker.faults.failNext(1);
 * ```
 *
 * @param seed any safe integer; only its low 32 bits matter.
 * @returns a function giving the next number in [0, 1).
 * @throws ValidationError naming `seed` when it is not a safe integer.
 */
export function seededRandom(seed: number): () => number {
  let a = parseInput(seedSchema, seed, "seededRandom", "seed") >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
