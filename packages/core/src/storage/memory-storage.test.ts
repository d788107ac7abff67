import { describe, expect, it } from "vitest";
import { makeExecution, makeSchedule } from "../testing/fixtures.js";
import { storageConformance } from "../testing/storage-suite.js";
import { MemoryStorage } from "./memory-storage.js";
import type { ControlRecord, ScheduleRecord } from "./records.js";

// MemoryStorage keeps what it is given: a caller writing through the contract directly (not the
// scheduler) is how bad records get into it.
storageConformance({ describe, it }, async () => ({
  storage: new MemoryStorage(),
  corruptControl: async (storage) => {
    await storage.setControl({ pausedAll: "no", revision: 6 } as unknown as ControlRecord);
    return storage;
  },
  corruptSchedule: async (storage, id) => {
    const current = (await storage.getSchedule(id)) as ScheduleRecord;
    await storage.updateSchedule(
      makeSchedule({
        id,
        revision: current.revision + 1,
        retry: "lots" as unknown as ScheduleRecord["retry"],
      }),
      current.revision,
    );
    return storage;
  },
  // The only way in is a commit through the contract: one with an instant no clock gives.
  corruptState: async (storage, id) => {
    const current = await storage.getScheduleState(id);
    const e = makeExecution({ scheduleId: id });
    await storage.claimFire({ execution: e });
    await storage.updateExecution(
      e.id,
      e.instanceId,
      { status: "succeeded", endedAt: 1, leaseExpiresAt: null },
      { value: { ok: true }, expectedRevision: current?.revision ?? 0, at: Number.NaN },
    );
    return storage;
  },
}));

describe("MemoryStorage", () => {
  it("drops the oldest final executions beyond its limit but keeps active ones", async () => {
    const storage = new MemoryStorage({ maxExecutions: 5 });
    const active = makeExecution({ scheduledAt: 1 });
    await storage.claimFire({ execution: active });
    for (let i = 0; i < 10; i++) {
      await storage.claimFire({ execution: makeExecution({ scheduledAt: 100 + i, status: "succeeded" }) });
    }
    const all = await storage.listExecutions({ limit: 100 });
    expect(all.items).toHaveLength(5);
    expect(all.items.map((e) => e.id)).toContain(active.id);
    expect(await storage.lastFireAt("sched-1")).toBe(109);
  });
});
