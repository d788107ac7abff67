import type { Clock } from "@tradecron/core";

/** Resolves after `ms` on `clock` (a TestClock in tests, so nothing really waits). */
export function delay(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimeout(resolve, Math.max(0, ms));
  });
}
