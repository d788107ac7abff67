/**
 * Drives a {@link TestClock} until a promise settles: what a test needs when the code under test
 * waits on the injected clock (backoff, timeouts, rate limits) and the test only wants the outcome.
 */

import { z } from "zod";
import { TradecronError } from "../errors.js";
import { parseInput } from "../validation.js";
import type { TestClock } from "./test-clock.js";

/** Options of {@link driveClock}. */
export interface DriveClockOptions {
  /** Clock time per step, ms (default 100). */
  stepMs?: number;
  /** Most steps before giving up (default 10,000). */
  maxSteps?: number;
}

const optionsSchema = z.strictObject({
  stepMs: z.number().positive().max(86_400_000).default(100),
  maxSteps: z.int().min(1).max(10_000_000).default(10_000),
});

/**
 * Advances `clock` by `stepMs` at a time until `promise` settles, then returns its value or
 * throws its error. Between steps it yields one macrotask turn, so real I/O (a local fake
 * server's sockets, a child process) progresses while clock time moves: a client on the test
 * clock talking to a server on real time settles too.
 *
 * ```ts
 * const run = await driveClock(clock, scheduler.trigger("rebalance"), { stepMs: 250 });
 * ```
 *
 * @throws ValidationError naming a bad option; a TradecronError with code `RUN_TIMEOUT` when the
 * promise has not settled after `maxSteps` steps (a hang, not a slow test).
 */
export async function driveClock<T>(
  clock: Pick<TestClock, "advance">,
  promise: Promise<T>,
  options: DriveClockOptions = {},
): Promise<T> {
  const { stepMs, maxSteps } = parseInput(optionsSchema, options, "driveClock");
  let settled = false;
  const done = () => {
    settled = true;
  };
  promise.then(done, done);
  // Let an already-settled promise mark itself before the first step.
  await Promise.resolve();
  for (let step = 0; !settled; step++) {
    if (step >= maxSteps) {
      throw new TradecronError(
        "RUN_TIMEOUT",
        `driveClock: the promise did not settle in ${maxSteps} steps of ${stepMs} ms (${maxSteps * stepMs} ms of clock time)`,
        { details: { stepMs, maxSteps } },
      );
    }
    await clock.advance(stepMs);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return promise;
}
