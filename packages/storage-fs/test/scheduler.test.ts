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
  it("releases fires claimed ahead when stopped before their instant; the reopened folder runs each once, not early", async () => {
    const { dir, remove } = await tempDir("tc-sched-");
    cleanups.push(remove);
    const N = 100;
    const storageA = new FileStorage({ dir });
    const a = new Scheduler({ storage: storageA, instanceId: "a", claimAheadMs: 1000 });
    const ranOnA: string[] = [];
    a.register("job", (ctx) => {
      ranOnA.push(ctx.fire.scheduleId);
    });
    let stopping: Promise<void> | null = null;
    a.on("fire:claimed", () => {
      stopping ??= a.stop({ timeoutMs: 10_000 }).then(() => storageA.close());
    });
    await a.start();
    const T = Date.now() + 2500;
    await a.createSchedules(
      Array.from({ length: N }, (_, i) => ({ id: `s${i}`, job: "job", trigger: { at: T } })),
    );
    while (stopping === null) await new Promise((r) => setTimeout(r, 20));
    await stopping;
    expect(Date.now()).toBeLessThan(T);

    const storage = new FileStorage({ dir });
    cleanups.push(() => storage.close());
    const b = new Scheduler({ storage, instanceId: "b" });
    const ranOnB: { id: string; at: number }[] = [];
    b.register("job", (ctx) => {
      ranOnB.push({ id: ctx.fire.scheduleId, at: Date.now() });
    });
    // Released, not handed over: the folder holds no claim for a takeover to start early.
    expect((await b.listExecutions({ limit: 1000 })).items).toEqual([]);
    const done = succeeded(b, N);
    await b.start();
    await done;
    expect(ranOnA).toEqual([]);
    expect(new Set(ranOnB.map((r) => r.id)).size).toBe(N);
    expect(ranOnB).toHaveLength(N);
    expect(ranOnB.every((r) => r.at >= T)).toBe(true);
    await b.stop();
  });

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
