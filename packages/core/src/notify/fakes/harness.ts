/**
 * What the chat notifier tests share: the conformance suite on a fresh fake per test, and a
 * per-test set-up (fake, test clock, tapped fetch, notifier) whose fakes are closed after each
 * test with a check that no request broke the service's documented rules.
 */

import { afterEach, describe, expect, it } from "vitest";
import { notifierConformance } from "../../testing/notifier-suite.js";
import { TestClock } from "../../testing/test-clock.js";
import type { FetchFunction } from "../http-delivery.js";
import type { Notification, Notifier } from "../notifier.js";
import { tappedFetch } from "./service-fake.js";

/** A fake the harness can drive. */
export interface DrivableFake {
  readonly violations: string[];
  notifications(): Notification[];
  breakIt(): void;
  close(): Promise<void>;
}

/** Runs the notifier conformance suite on `make(fake)` (no rate limit or retries: the suite sends fast). */
export function conformanceOnFake<F extends DrivableFake>(
  start: () => Promise<F>,
  make: (fake: F) => Notifier,
): void {
  notifierConformance({ describe, it }, async () => {
    const fake = await start();
    return {
      notifier: make(fake),
      received: () => fake.notifications(),
      breakTarget: () => fake.breakIt(),
      cleanup: async () => {
        await fake.close();
        expect(fake.violations).toEqual([]);
      },
    };
  });
}

/** Registers an afterEach that closes the fakes made by `setup` and checks they saw no violation. */
export function fakeHarness<F extends DrivableFake, N, O>(
  start: () => Promise<F>,
  make: (fake: F, wiring: { clock: TestClock; fetch: FetchFunction }, options: O) => N,
) {
  const open = new Set<F>();
  afterEach(async () => {
    for (const f of open) {
      await f.close();
      expect(f.violations).toEqual([]);
    }
    open.clear();
  });
  return {
    /** A fresh fake, a test clock, a tapped fetch on that clock, and the notifier. */
    async setup(options: O) {
      const fake = await start();
      open.add(fake);
      const clock = new TestClock();
      const tap = tappedFetch(() => clock.now());
      return { fake, clock, tap, notifier: make(fake, { clock, fetch: tap.fetch }, options) };
    },
    /** For a test that closes its fake itself (and so breaks rules on purpose). */
    forget(fake: F) {
      open.delete(fake);
    },
  };
}
