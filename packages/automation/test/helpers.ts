/** Shared set-up for the recipes' tests: a scheduler on a TestClock with a PaperBroker. */

import {
  type ExecutionRecord,
  getCalendar,
  MemoryStorage,
  PaperBroker,
  Scheduler,
  type Storage,
} from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import { runtimeFor } from "../src/runtime/runtime.js";
import type { RunSummary } from "../src/runtime/summary.js";

/** Long leases and waits: a test that moves the clock by months wakes the loop a few times a day, not every 10 s. */
export const FAST = { leaseMs: 86_400_000, maxWaitMs: 2_147_483_647 } as const;

export interface World {
  clock: TestClock;
  storage: Storage;
  broker: PaperBroker;
  scheduler: Scheduler;
}

/** A scheduler on a TestClock, MemoryStorage (or `storage`) and a connected PaperBroker on XNYS hours. */
export function world(
  start: string,
  options: {
    storage?: Storage;
    clock?: TestClock;
    broker?: PaperBroker;
    cash?: string;
    instanceId?: string;
    fast?: boolean;
    leaseMs?: number;
  } = {},
): World {
  const clock = options.clock ?? new TestClock(start);
  const storage = options.storage ?? new MemoryStorage();
  const broker =
    options.broker ??
    new PaperBroker({
      clock,
      initialCash: options.cash ?? "100000",
      connected: true,
      session: getCalendar("XNYS"),
    });
  const scheduler = new Scheduler({
    clock,
    storage,
    broker,
    instanceId: options.instanceId ?? "a",
    prices: (symbol) => broker.getPrice(symbol),
    ...(options.fast === false ? {} : FAST),
    ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
  });
  return { clock, storage, broker, scheduler };
}

/** Every execution of a schedule, oldest first. */
export async function history(scheduler: Scheduler, scheduleId: string): Promise<ExecutionRecord[]> {
  const out: ExecutionRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await scheduler.listExecutions({ scheduleId, limit: 1000, cursor });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out.reverse();
}

/** The recipe summaries (run results) of a schedule's succeeded runs, oldest first. */
export async function summaries(scheduler: Scheduler, scheduleId: string): Promise<RunSummary[]> {
  const runtime = runtimeFor(scheduler);
  return (await history(scheduler, scheduleId))
    .filter((e) => e.status === "succeeded")
    .map((e) => runtime.summaryOf(e.result) as RunSummary);
}

/** The summaries that did something (not `not_due`). */
export async function actions(scheduler: Scheduler, scheduleId: string): Promise<RunSummary[]> {
  return (await summaries(scheduler, scheduleId)).filter((s) => s.reason !== "not_due");
}
