import { z } from "zod";

/**
 * The scheduler's only source of time. Production uses {@link systemClock}; tests inject
 * `TestClock` from `@tradecron/core/testing`, so nothing in a test ever sleeps.
 */

/** Opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** Wall-clock time and timers. */
export interface Clock {
  /** Current wall-clock time in epoch ms (may jump when the system clock is set). */
  now(): number;
  /** Calls `fn` after `ms` (never more than 2^31-1; the scheduler caps its waits well below). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Real time: Date.now and the platform timers (unref'd, so an idle scheduler does not hold the process). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Resolves after `ms` on `clock`, or rejects with the signal's reason when it aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** zod schema of a {@link Clock} option: an object with now, setTimeout and clearTimeout. */
export const clockSchema = z.custom<Clock>(
  (v) =>
    typeof v === "object" &&
    v !== null &&
    typeof (v as Clock).now === "function" &&
    typeof (v as Clock).setTimeout === "function" &&
    typeof (v as Clock).clearTimeout === "function",
  { message: "must be a Clock (now, setTimeout, clearTimeout)" },
);
