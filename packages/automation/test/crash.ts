/**
 * The crash scenario every storage runs for the recipes' state commit: an instance places the
 * first order of a fire and dies before it can record anything; another takes the fire over
 * after the lease, finishes it, and the cap holds over the following days. Storages with real I/O
 * (files, PostgreSQL) are driven by moving the TestClock in small steps and yielding to the event
 * loop until the awaited record is there: the clock stays injected, nothing sleeps.
 */

import {
  type Broker,
  type BrokerOrder,
  getCalendar,
  type OrderRequest,
  PaperBroker,
  Scheduler,
  type Storage,
} from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import { expect } from "vitest";
import { autoInvest } from "../src/index.js";
import { FAST } from "./helpers.js";

/** How a storage takes part: A's storage, how A dies, and a fresh storage on the same data for B. */
export interface CrashStorages {
  a: Storage;
  /** Makes A's storage unusable, as if its process died (called right after A's first order). */
  kill(): Promise<void>;
  /** A storage on the same data (called after `kill`). */
  next(): Promise<Storage>;
}

const yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Moves `clock` by `stepMs` at a time until `done()` holds, but only while no run of `schedulers`
 * is in progress: a run waiting for the disk or the database gets the real time it needs before
 * the clock moves on (otherwise a slow fsync would look like a timeout or a lost lease).
 */
export async function drive(
  clock: TestClock,
  schedulers: readonly Scheduler[],
  done: () => Promise<boolean>,
  stepMs = 250,
  maxSteps = 4000,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (let steps = 0; steps < maxSteps && Date.now() < deadline; ) {
    if (await done()) return;
    if (schedulers.some((s) => s.runningCount > 0)) {
      await yieldLoop();
      continue;
    }
    await clock.advance(stepMs);
    steps++;
    for (let k = 0; k < 3; k++) await yieldLoop();
  }
  throw new Error("drive: the condition never held");
}

/** A broker over `paper` whose first submit places the order, then kills its instance and never answers. */
function dying(paper: PaperBroker, kill: () => Promise<void>): Broker & { died: boolean } {
  const never = new Promise<never>(() => {});
  let submits = 0;
  const broker = Object.create(paper) as Broker & { died: boolean };
  broker.died = false;
  broker.submitOrder = async (request: OrderRequest): Promise<BrokerOrder> => {
    submits++;
    if (submits > 1) return never;
    await paper.submitOrder(request);
    await kill();
    broker.died = true;
    return never;
  };
  return broker;
}

const rule = {
  id: "crash",
  legs: [
    { symbol: "VTI", weight: "0.5" },
    { symbol: "BND", weight: "0.5" },
  ],
  amount: 100,
  cap: 250,
  cadence: "daily" as const,
};

/**
 * Runs the scenario: A dies after placing leg 0 of Monday's fire; B takes the fire over (attempt 2,
 * the same client order ids), places leg 1 only, and commits the state once; C (a restart with
 * long leases) buys Tuesday, buys the last 50 on Wednesday, and stops at the cap on Thursday.
 */
export async function crashScenario(storages: CrashStorages): Promise<void> {
  const clock = new TestClock("2026-01-05T14:59:00Z");
  const paper = new PaperBroker({ clock, connected: true, session: getCalendar("XNYS") });
  paper.setPrice("VTI", "100");
  paper.setPrice("BND", "50");
  const a = new Scheduler({
    clock,
    storage: storages.a,
    broker: dying(paper, storages.kill),
    instanceId: "a",
    leaseMs: 2000,
  });
  await autoInvest(a, rule);
  await a.start();
  const brokerA = a.broker as Broker & { died: boolean };
  // Time stands still while A's run does its I/O, until it dies (its run then never ends).
  await drive(clock, [a], async () => brokerA.died);
  // A stop may wait on the clock for what is in flight: move it until A has stopped.
  let stopped = false;
  const stopping = a.stop({ timeoutMs: 0 }).finally(() => {
    stopped = true;
  });
  await drive(clock, [], async () => stopped);
  await stopping;

  const storageB = await storages.next();
  const b = new Scheduler({ clock, storage: storageB, broker: paper, instanceId: "b", leaseMs: 2000 });
  const handle = await autoInvest(b, rule);
  await b.start();
  const monday = Date.parse("2026-01-05T15:00:00Z");
  await drive(clock, [b], async () => {
    const e = (await b.listExecutions({ scheduleId: handle.scheduleId })).items.find(
      (x) => x.scheduledAt === monday,
    );
    return e?.status === "succeeded";
  });
  const fire = (await b.listExecutions({ scheduleId: handle.scheduleId })).items.find(
    (x) => x.scheduledAt === monday,
  );
  // Taken over (attempt 2, or 3 when a slow database let the first takeover's lease lapse too).
  expect(fire).toMatchObject({ status: "succeeded", instanceId: "b" });
  expect(fire?.attempts).toBeGreaterThanOrEqual(2);
  expect(await handle.state()).toMatchObject({ invested: "100", executions: 1, lastPeriod: "2026-01-05" });
  // Core's schedule state, committed once by the takeover's succeeded outcome (A's attempt
  // committed nothing); the run's result is the summary alone.
  expect(await b.getScheduleState(handle.scheduleId)).toMatchObject({
    revision: 1,
    executionId: fire?.id,
    value: { invested: "100", executions: 1 },
  });
  expect(fire?.result).toMatchObject({ recipe: "autoInvest", outcome: "executed" });
  expect(fire?.result).not.toHaveProperty("state");
  // One order per leg at the broker: leg 0 was not placed twice.
  expect(Object.fromEntries((await paper.getPositions()).map((p) => [p.symbol, p.qty]))).toEqual({
    VTI: "0.5",
    BND: "1",
  });
  await b.stop();

  const c = new Scheduler({ clock, storage: storageB, broker: paper, instanceId: "c", ...FAST });
  const again = await autoInvest(c, rule);
  await c.start();
  for (const day of ["2026-01-06", "2026-01-07", "2026-01-08"]) {
    const at = Date.parse(`${day}T15:00:00Z`);
    await clock.advanceTo(at - 1000);
    await drive(
      clock,
      [c],
      async () => {
        const e = (await c.listExecutions({ scheduleId: again.scheduleId })).items.find(
          (x) => x.scheduledAt === at,
        );
        return e?.status === "succeeded";
      },
      500,
    );
  }
  expect(await again.status()).toMatchObject({
    invested: "250",
    executions: 3,
    capReached: true,
    remaining: "0",
  });
  // 125 of each: 1.25 VTI, 2.5 BND. Never more than the cap, never an order twice.
  expect(Object.fromEntries((await paper.getPositions()).map((p) => [p.symbol, p.qty]))).toEqual({
    VTI: "1.25",
    BND: "2.5",
  });
  const orders = (await c.listOrders({ limit: 100 })).items;
  expect(orders).toHaveLength(6);
  expect(new Set(orders.map((o) => o.clientOrderId)).size).toBe(6);
  await c.stop();
}
