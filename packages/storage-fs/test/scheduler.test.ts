import { type ExecutionRecord, Scheduler } from "@tradecron/core";
import { afterEach, describe, expect, it } from "vitest";
import { FileStorage } from "../src/index.js";
import { tempDir } from "./helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function succeeded(scheduler: Scheduler, count: number): Promise<ExecutionRecord[]> {
  const seen: ExecutionRecord[] = [];
  return new Promise((resolve) => {
    const on = (payload: { execution: ExecutionRecord }) => {
      seen.push(payload.execution);
      if (seen.length === count) {
        scheduler.off("run:succeeded", on);
        resolve(seen);
      }
    };
    scheduler.on("run:succeeded", on);
  });
}

describe("Scheduler on FileStorage", () => {
  it("runs fires, and a restarted scheduler on the same folder sees their history and last fire", async () => {
    const { dir, remove } = await tempDir("tc-sched-");
    cleanups.push(remove);
    const first = new Scheduler({ storage: new FileStorage({ dir }), instanceId: "one" });
    first.register("tick", () => ({ ok: true }));
    // One second is the shortest interval (MIN_INTERVAL_MS): two fires take about two seconds.
    await first.createSchedule({ id: "ticker", job: "tick", trigger: { every: "1s" } });
    const done = succeeded(first, 2);
    await first.start();
    const runs = await done;
    await first.stop();
    await first.storage.close();

    const storage = new FileStorage({ dir });
    cleanups.push(() => storage.close());
    const second = new Scheduler({ storage, instanceId: "two" });
    second.register("tick", () => ({ ok: true }));
    const history = await second.listExecutions({ scheduleId: "ticker" });
    for (const run of runs) {
      expect(history.items.find((e) => e.id === run.id)).toMatchObject({
        status: "succeeded",
        result: { ok: true },
      });
    }
    expect(await storage.lastFireAt("ticker")).toBeGreaterThanOrEqual(
      Math.max(...runs.map((r) => r.scheduledAt)),
    );
    expect((await second.getSchedule("ticker")).id).toBe("ticker");
    await second.start();
    // The last run's outcome comes back from the folder, not from the first process's memory.
    expect((await second.status()).schedules[0]).toMatchObject({
      lastStatus: "succeeded",
      lastSuccessAt: Math.max(...runs.map((r) => r.endedAt as number)),
    });
    await second.stop();
  });

  it("rejects data that is not plain JSON with the same typed error as every other storage", async () => {
    const { dir, remove } = await tempDir("tc-sched-");
    cleanups.push(remove);
    const storage = new FileStorage({ dir });
    cleanups.push(() => storage.close());
    const scheduler = new Scheduler({ storage, instanceId: "one" });
    scheduler.register("tick", () => {});
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(
      scheduler.createSchedule({ id: "c", job: "tick", trigger: { every: "1m" }, data: circular as never }),
    ).rejects.toMatchObject({ code: "INVALID_DATA", field: "data.self" });
    expect(await storage.listSchedules()).toEqual([]);
  });
});
