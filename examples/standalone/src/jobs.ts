/**
 * The example jobs, shaped like the seeds' (a pre-market morning routine, a frequent exit check,
 * an end-of-day snapshot). They simulate their work: swap the bodies for your own strategy code.
 */

import type { JobContext, Scheduler } from "@tradecron/core";

/** Options that make the simulated jobs misbehave on purpose, to show retries and skips. */
export interface JobBehaviour {
  /** Every Nth exit check runs long (ms), so the next fire finds it still running. */
  slowExitCheckEvery?: number;
  slowExitCheckMs?: number;
  /** The snapshot's first attempt of each fire fails, as a broker restart would. */
  flakySnapshot?: boolean;
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** Registers the example jobs on `scheduler`. */
export function registerJobs(scheduler: Scheduler, behaviour: JobBehaviour = {}): void {
  let exitChecks = 0;

  scheduler.register(
    "morning-routine",
    async (ctx: JobContext) => {
      ctx.logger.info({ symbols: 3 }, "scanning the watch list");
      await wait(50, ctx.signal);
      return { scanned: 3, candidates: ["AAPL", "MSFT"] };
    },
    { description: "Pre-market scan that proposes trades" },
  );

  scheduler.register(
    "exit-check",
    async (ctx: JobContext) => {
      exitChecks++;
      const slow = behaviour.slowExitCheckEvery && exitChecks % behaviour.slowExitCheckEvery === 0;
      await wait(slow ? (behaviour.slowExitCheckMs ?? 2500) : 20, ctx.signal);
      return { positionsChecked: 2, exits: 0 };
    },
    { description: "Checks exit conditions of open positions" },
  );

  scheduler.register(
    "daily-snapshot",
    async (ctx: JobContext) => {
      if (behaviour.flakySnapshot && ctx.fire.attempt === 1) {
        throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:7497 (broker restarting)"), {
          code: "ECONNREFUSED",
        });
      }
      await wait(30, ctx.signal);
      return { saved: true, attempt: ctx.fire.attempt };
    },
    { description: "Saves the portfolio state after the close" },
  );
}
