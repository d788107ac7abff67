/**
 * The outcomes of runs that succeeded at once (a handler that returned without awaiting) are
 * written after every fire started with them has started, and a write that fails is handled as
 * the general path handles its own: a state conflict fails the run, nothing is lost.
 */

import { describe, expect, it } from "vitest";
import { ConflictError } from "../errors.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { ExecutionRecord } from "../storage/records.js";
import type { StateCommit } from "../storage/schedule-state.js";
import type { ExecutionPatch } from "../storage/storage.js";
import type { TestClock } from "../testing/test-clock.js";
import type { Scheduler } from "./scheduler.js";
import { setup } from "./test-helpers.js";

/** MemoryStorage that notes each outcome write in `log`, and can refuse state commits. */
class Noting extends MemoryStorage {
  refuseStates = 0;
  constructor(readonly log: string[]) {
    super();
  }
  override updateExecution(
    id: string,
    instanceId: string,
    patch: ExecutionPatch,
    state?: StateCommit,
  ): Promise<ExecutionRecord | null> {
    this.log.push(`write ${patch.status ?? "patch"}`);
    if (state !== undefined && this.refuseStates > 0) {
      this.refuseStates--;
      // As a storage answers when another run committed the schedule's state first.
      return Promise.reject(new ConflictError("REVISION_CONFLICT", "the state moved on", { field: "state" }));
    }
    return super.updateExecution(id, instanceId, patch, state);
  }
}

/** Starts `scheduler`, arms `n` one-offs (`s0`...) due a second from now, and lets them fire. */
async function fireBurst(scheduler: Scheduler, clock: TestClock, n: number): Promise<void> {
  await scheduler.start();
  const at = clock.now() + 1000;
  await scheduler.createSchedules(
    Array.from({ length: n }, (_, i) => ({ id: `s${i}`, job: "job", trigger: { at } })),
  );
  await clock.advance(1000);
}

describe("outcomes of runs that succeed at once", () => {
  it("are written after every fire due with them has started, over several batches, and each is recorded", async () => {
    const log: string[] = [];
    const { clock, scheduler, events } = setup({ storage: new Noting(log) });
    scheduler.register("job", (ctx) => {
      log.push(`start ${ctx.fire.scheduleId}`);
      return ctx.fire.scheduleId;
    });
    await fireBurst(scheduler, clock, 300);
    const firstWrite = log.findIndex((line) => line.startsWith("write"));
    expect(log.slice(0, firstWrite).filter((line) => line.startsWith("start"))).toHaveLength(300);
    expect(log.filter((line) => line === "write succeeded")).toHaveLength(300);
    expect(events.of("run:succeeded")).toHaveLength(300);
    const { items } = await scheduler.listExecutions({ limit: 1000 });
    expect(items).toHaveLength(300);
    expect(items.every((e) => e.status === "succeeded" && e.result === e.scheduleId)).toBe(true);
    await scheduler.stop();
  });

  it("fail, committing nothing, when the state they staged was replaced meanwhile", async () => {
    const storage = new Noting([]);
    storage.refuseStates = 1;
    const { clock, scheduler, events } = setup({ storage });
    scheduler.register("job", (ctx) => {
      ctx.setState({ n: 1 });
    });
    await scheduler.start();
    await scheduler.createSchedule({ id: "s", job: "job", trigger: { at: clock.now() + 1000 } });
    await clock.advance(1000);
    const [execution] = (await scheduler.listExecutions({ scheduleId: "s" })).items;
    expect(execution?.status).toBe("failed");
    expect(execution?.error).toMatchObject({ code: "REVISION_CONFLICT" });
    expect(events.of("run:failed")).toHaveLength(1);
    expect(events.of("run:succeeded")).toHaveLength(0);
    // A conflict is an outcome, not a storage failure.
    expect(events.of("scheduler:error")).toHaveLength(0);
    expect(await scheduler.getScheduleState("s")).toBeNull();
    await scheduler.stop();
  });

  it("are seen through by stop(): called mid-burst, it resolves with every started run's outcome stored", async () => {
    const { clock, scheduler } = setup();
    let stopping: Promise<void> | null = null;
    scheduler.register("job", (ctx) => {
      // stop() begins while the outcomes of this burst are still queued.
      if (ctx.fire.scheduleId === "s100") stopping = scheduler.stop();
      return "ok";
    });
    await fireBurst(scheduler, clock, 300);
    expect(stopping).not.toBeNull();
    await stopping;
    // The burst's later batches are not claimed once stop() began; every claimed fire ran to its end.
    const { items } = await scheduler.listExecutions({ limit: 1000 });
    expect(items.length).toBeGreaterThan(100);
    expect(items.filter((e) => e.status !== "succeeded")).toEqual([]);
  });

  it("are stored when stop({ timeoutMs: 0 }) is called mid-burst; only unstarted fires are given back", async () => {
    const { clock, scheduler } = setup();
    let stopping: Promise<void> | null = null;
    let ran = 0;
    scheduler.register("job", (ctx) => {
      ran++;
      if (ctx.fire.scheduleId === "s100") stopping = scheduler.stop({ timeoutMs: 0 });
      return "ok";
    });
    await fireBurst(scheduler, clock, 300);
    await stopping;
    const { items } = await scheduler.listExecutions({ limit: 1000 });
    const started = items.filter((e) => e.startedAt !== null);
    // Every handler that ran has its outcome stored: none is handed over to run a second time.
    expect(started).toHaveLength(ran);
    expect(started.every((e) => e.status === "succeeded")).toBe(true);
    // The rest of the batch was claimed but not started: handed back unstarted, for another instance.
    expect(
      items.filter((e) => e.startedAt === null).every((e) => e.status === "claimed" && e.attempts === 0),
    ).toBe(true);
  });
});
