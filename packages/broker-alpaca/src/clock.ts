/**
 * Waiting on the injected clock (core's `Clock`), so tests move time instead of sleeping.
 */

import type { Clock } from "@tradecron/core";

/** Resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimeout(resolve, Math.max(0, ms));
  });
}

/**
 * Full-jitter exponential backoff: attempt 1 waits about `baseMs`, each further attempt doubles,
 * capped at `maxMs`, spread by +/- `jitter` so instances that lost one stream do not reconnect in
 * step (Alpaca answers a reconnect storm with 429s).
 */
export function backoffMs(
  attempt: number,
  policy: { baseMs: number; maxMs: number; jitter: number },
  random: () => number = Math.random,
): number {
  const raw = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const spread = raw * policy.jitter;
  return Math.max(0, Math.round(raw - spread + random() * 2 * spread));
}
