import { describe, expect, it } from "vitest";
import { makeExecution } from "../testing/fixtures.js";
import { storageConformance } from "../testing/storage-suite.js";
import { MemoryStorage } from "./memory-storage.js";

storageConformance({ describe, it }, async () => ({ storage: new MemoryStorage() }));

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
