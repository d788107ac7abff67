/**
 * Retry decisions as pure functions: is this error worth another attempt, and how long to wait.
 * The attempt loop itself is p-retry's (see runner.ts).
 */

import { errorCode, TradecronError } from "../errors.js";
import type { BackoffPolicy, RetryPolicy } from "../schedule/policies.js";

/** Codes of tradecron errors that no retry can fix. */
const NEVER_RETRY = new Set([
  "VALIDATION",
  "INVALID_CRON",
  "UNKNOWN_TIMEZONE",
  "UNKNOWN_CALENDAR",
  "INVALID_INTERVAL",
  "INVALID_INSTANT",
  "INVALID_DATA",
  "UNKNOWN_JOB",
  "BROKER_REJECTED",
  "BROKER_NOT_CONFIGURED",
  "BROKER_AUTH",
  "RISK_REJECTED",
  "RUN_TIMEOUT",
  "RUN_CANCELLED",
  "LEASE_LOST",
]);

/**
 * True unless the policy or the error says otherwise: listed in `nonRetryable` (by code or name),
 * flagged `retryable: false`, or one of tradecron's errors that describe bad input or a final answer.
 */
export function isRetryable(error: unknown, policy: RetryPolicy): boolean {
  if (error && typeof error === "object" && (error as { retryable?: unknown }).retryable === false)
    return false;
  const code = errorCode(error);
  const name = error instanceof Error ? error.name : null;
  if (code !== null && policy.nonRetryable.includes(code)) return false;
  if (name !== null && policy.nonRetryable.includes(name)) return false;
  if (error instanceof TradecronError && NEVER_RETRY.has(error.code)) return false;
  return true;
}

/**
 * Delay before attempt `nextAttempt` (2 for the first retry): base * factor^(nextAttempt-2), capped
 * at max, spread by +/- jitter * delay. `random` is injectable for tests.
 */
export function backoffDelay(
  backoff: BackoffPolicy,
  nextAttempt: number,
  random: () => number = Math.random,
): number {
  const raw = backoff.baseMs * backoff.factor ** Math.max(0, nextAttempt - 2);
  const capped = Math.min(raw, backoff.maxMs);
  if (backoff.jitter <= 0) return Math.round(capped);
  const spread = capped * backoff.jitter;
  return Math.max(0, Math.round(capped - spread + random() * 2 * spread));
}

/** A delay the error itself asks for (a broker's rate limit), in ms, if any. */
export function requestedDelay(error: unknown): number {
  if (error && typeof error === "object") {
    const v = (error as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof v === "number" && Number.isFinite(v) && v > 0) return v;
  }
  return 0;
}
