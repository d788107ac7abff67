/**
 * Shared set-up for IbkrBroker's tests: a fake TWS and an IbkrBroker on one TestClock, and ways
 * to move that clock while the real sockets between them do their work.
 *
 * Socket I/O happens in real time; timeouts, backoff, pacing and heartbeats happen on the
 * TestClock. `advance` and `until` give the sockets at least a real millisecond between steps of
 * the clock, and the tests' I/O timeouts are ten minutes of test time: thousands of steps, that
 * is seconds of real time, away. (A bare event-loop turn is not enough: on a loaded machine the
 * kernel can take a while to deliver loopback data, and a loop that only spins would run the
 * test clock past a timeout meanwhile.)
 */

import {
  type Clock,
  clientOrderId,
  type OrderIntentInput,
  type OrderRecord,
  type OrderRequest,
  parseOrderIntent,
  type Scheduler,
  type Storage,
} from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import { afterEach } from "vitest";
import { IbkrBroker, type IbkrBrokerOptions } from "../src/index.js";
import { FakeTws, type FakeTwsOptions } from "../src/testing/index.js";

/** A real millisecond (at least) for the sockets. */
export const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

/** Moves `clock` forward by `ms` in steps of `stepMs`, letting real I/O run after each step. */
export async function advance(clock: TestClock, ms: number, stepMs = 1_000): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    await clock.advance(Math.min(stepMs, ms - t));
    await tick();
  }
}

/** Steps the clock (and real time) until `done()` holds; fails after `maxMs` of test time. */
export async function until(
  clock: TestClock,
  done: () => boolean,
  { stepMs = 250, maxMs = 30 * 60_000, what = "the condition" } = {},
): Promise<void> {
  for (let t = 0; !done(); t += stepMs) {
    if (t > maxMs) throw new Error(`${what} did not happen within ${maxMs} ms of test time`);
    await tick();
    if (done()) return;
    await clock.advance(stepMs);
  }
}

/** Runs `promise` to its end while stepping the clock. */
export async function settle<T>(clock: TestClock, promise: Promise<T>, stepMs = 250): Promise<T> {
  const state = { done: false };
  const mark = () => Object.assign(state, { done: true });
  promise.then(mark, mark);
  await until(clock, () => state.done, { stepMs, what: "the call" });
  return promise;
}

/** What `settle` rejected with (fails if it resolved). */
export async function rejection(
  clock: TestClock,
  promise: Promise<unknown>,
): Promise<Error & { code?: string }> {
  try {
    await settle(clock, promise);
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected a rejection");
}

let sequence = 0;
/** A submit request with a fresh deterministic client order id. */
export function order(
  intent: OrderIntentInput,
  id = clientOrderId(`ibkr-test:${process.pid}`, sequence++),
): OrderRequest {
  return { clientOrderId: id, intent: parseOrderIntent(intent) };
}

/** Production-like settings on the test clock, with I/O timeouts long in test time (see above). */
export function brokerOptions(clock: Clock, port: number, extra: IbkrBrokerOptions = {}): IbkrBrokerOptions {
  return {
    port,
    clientId: 7,
    clock,
    random: () => 0.5,
    heartbeatMs: 0,
    ...extra,
    timeouts: {
      connectMs: 600_000,
      requestMs: 600_000,
      orderAckMs: 600_000,
      cancelMs: 600_000,
      ...extra.timeouts,
    },
  };
}

/** A fake TWS and an IbkrBroker on one TestClock. */
export async function pair(
  options: { tws?: FakeTwsOptions; broker?: IbkrBrokerOptions; connect?: boolean } = {},
): Promise<{
  clock: TestClock;
  tws: FakeTws;
  broker: IbkrBroker;
  errors: { error: Error; context: string; at: number }[];
  cleanup: () => Promise<void>;
}> {
  const clock = new TestClock("2026-01-05T14:30:00Z");
  const tws = await FakeTws.start({ clock, ...options.tws });
  const errors: { error: Error; context: string; at: number }[] = [];
  const broker = new IbkrBroker(
    brokerOptions(clock, tws.port, {
      onError: (error, context) => errors.push({ error, context, at: clock.now() }),
      ...options.broker,
    }),
  );
  if (options.connect ?? true) await settle(clock, broker.connect());
  return {
    clock,
    tws,
    broker,
    errors,
    cleanup: async () => {
      await broker.disconnect();
      await tws.close();
    },
  };
}

/**
 * A test file's clean-ups, run after each test, and `setup`: a {@link pair} cleaned up with them.
 */
export function cleanupsPerTest() {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
  });
  const setup = async (...args: Parameters<typeof pair>) => {
    const p = await pair(...args);
    cleanups.push(p.cleanup);
    return p;
  };
  return { cleanups, setup };
}

/** Every order record in `storage`, page by page. */
export async function allOrders(storage: Storage): Promise<OrderRecord[]> {
  const out: OrderRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await storage.listOrders({ limit: 1000, cursor });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return out;
}

/** Whether any fire is claimed or running (in flight, waiting for a retry, or for a takeover). */
export async function runsInFlight(storage: Storage): Promise<boolean> {
  return (await storage.listExecutions({ status: ["claimed", "running"], limit: 1 })).items.length > 0;
}

/** The next fire of any schedule of `scheduler`, or null. */
export async function nextFire(scheduler: Scheduler): Promise<number | null> {
  const times = (await scheduler.status()).schedules.flatMap((s: { nextFireAt: number | null }) =>
    s.nextFireAt === null ? [] : [s.nextFireAt],
  );
  return times.length > 0 ? Math.min(...times) : null;
}

/**
 * Moves `clock` to `target` the way a scheduler host lives through it: in big steps while
 * nothing is happening (never past the next fire, which needs the sockets), in one-second steps
 * with real time for the sockets while `busy()`. `each` runs before every step (to stage
 * restarts at given times, say).
 */
export async function drive(
  clock: TestClock,
  target: number,
  busy: () => Promise<boolean> | boolean,
  options: { idleStepMs?: number; each?: () => Promise<void>; scheduler?: Scheduler } = {},
): Promise<void> {
  const idleStepMs = options.idleStepMs ?? 10 * 60_000;
  while (clock.now() < target) {
    await options.each?.();
    let step = 1_000;
    if (!(await busy())) {
      const fire = options.scheduler ? await nextFire(options.scheduler) : null;
      step = fire !== null && fire > clock.now() ? Math.min(idleStepMs, fire - clock.now()) : idleStepMs;
    }
    await tick();
    await clock.advance(Math.max(1, Math.min(step, target - clock.now())));
  }
}
