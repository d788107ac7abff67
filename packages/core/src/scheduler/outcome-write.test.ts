/**
 * A run's outcome write that fails (the storage erred, the lease still holds) is tried again
 * within a third of the lease: the handler ran once, and giving up would leave the execution
 * held until its lease lapsed, when a takeover would run the handler a second time.
 */

import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { ExecutionRecord } from "../storage/records.js";
import type { StateCommit } from "../storage/schedule-state.js";
import type { ExecutionPatch } from "../storage/storage.js";
import { setup } from "./test-helpers.js";

/** MemoryStorage whose final outcome writes fail `failures` times first. */
class FlakyOutcomes extends MemoryStorage {
  constructor(public failures: number) {
    super();
  }
  override updateExecution(
    id: string,
    instanceId: string,
    patch: ExecutionPatch,
    state?: StateCommit,
  ): Promise<ExecutionRecord | null> {
    if (patch.status !== undefined && patch.status !== "running" && this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error("connection reset"));
    }
    return super.updateExecution(id, instanceId, patch, state);
  }
}

describe("a failed outcome write", () => {
  it("is tried again: the outcome is recorded, and no takeover runs the handler twice", async () => {
    const storage = new FlakyOutcomes(3);
    const { clock, scheduler, events } = setup({ storage, leaseMs: 30_000 });
    let runs = 0;
    scheduler.register("job", () => {
      runs++;
      return "done";
    });
    await scheduler.start();
    await scheduler.createSchedule({ id: "s", job: "job", trigger: { at: clock.now() + 1000 } });
    await clock.advance(1000);
    await clock.advance(1000); // the retries' pauses: 50 + 200 + 500 ms
    const [execution] = (await scheduler.listExecutions({ scheduleId: "s" })).items;
    expect(execution?.status).toBe("succeeded");
    expect(execution?.result).toBe("done");
    expect(events.of("run:succeeded")).toHaveLength(1);
    expect(events.of("scheduler:error").map((e) => e.context)).toEqual([
      expect.stringContaining("trying again in 50 ms"),
      expect.stringContaining("trying again in 200 ms"),
      expect.stringContaining("trying again in 500 ms"),
    ]);
    await clock.advance(120_000); // well past the lease: nothing is left to take over
    expect(runs).toBe(1);
    await scheduler.stop();
  });

  it("is given up after a third of the lease, and the fire is not lost: the takeover runs it", async () => {
    const storage = new FlakyOutcomes(1_000);
    const { clock, scheduler, events } = setup({ storage, leaseMs: 6_000 });
    let runs = 0;
    scheduler.register("job", () => {
      runs++;
    });
    await scheduler.start();
    await scheduler.createSchedule({ id: "s", job: "job", trigger: { at: clock.now() + 1000 } });
    await clock.advance(1000);
    await clock.advance(2_000); // 50 + 200 + 500 + 1000 = 1,750 ms <= 2,000 (a third of 6 s); the next would pass it
    const contexts = events.of("scheduler:error").map((e) => e.context);
    expect(contexts).toHaveLength(5);
    expect(contexts.at(-1)).not.toContain("trying again");
    expect(runs).toBe(1);
    storage.failures = 0;
    await clock.advance(20_000); // the lease lapses; the takeover runs the fire to its end
    const [execution] = (await scheduler.listExecutions({ scheduleId: "s" })).items;
    expect(execution?.status).toBe("succeeded");
    // At least once, never lost: the outcome could not be recorded, so the fire ran again.
    expect(runs).toBe(2);
    await scheduler.stop();
  });
});
