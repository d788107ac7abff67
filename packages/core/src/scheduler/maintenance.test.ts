import { describe, expect, it } from "vitest";
import { PaperBroker } from "../broker/paper-broker.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import { TestClock } from "../testing/test-clock.js";
import { setup } from "./test-helpers.js";

const T = Date.parse("2026-01-05T14:31:00Z");

describe("maintenance", () => {
  it("keeps renewing the leases of running handlers while a broker reconnect hangs", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const memory = new MemoryStorage();
    const broker = new PaperBroker({ clock });
    const a = setup({ clock, storage: memory, instanceId: "a", leaseMs: 3000, broker });
    const b = setup({ clock, storage: memory, instanceId: "b", leaseMs: 3000 });
    const ran: string[] = [];
    for (const [name, s] of [
      ["a", a.scheduler],
      ["b", b.scheduler],
    ] as const) {
      s.register("long", async () => {
        ran.push(name);
        await new Promise<void>((resolve) => clock.setTimeout(resolve, 20_000));
        return name;
      });
    }
    await a.scheduler.createSchedule({ id: "long", job: "long", trigger: { at: T }, retry: 1 });
    await a.scheduler.start();
    await b.scheduler.start();
    await clock.advanceTo(T);
    expect(ran).toEqual(["a"]);
    // The broker drops while the handler runs, and reconnecting hangs for a minute (a TWS that
    // does not answer).
    await broker.disconnect();
    let connects = 0;
    broker.connect = () => {
      connects++;
      return new Promise<void>((resolve) => clock.setTimeout(resolve, 60_000));
    };
    await clock.advance(25_000);
    expect(connects).toBe(1); // one reconnect in flight, not one per maintenance turn
    // A's lease stayed renewed, so B never took the fire over.
    expect(ran).toEqual(["a"]);
    expect(b.events.of("fire:taken-over")).toEqual([]);
    const [execution] = (await memory.listExecutions({ scheduleId: "long", limit: 10 })).items;
    expect(execution).toMatchObject({ status: "succeeded", instanceId: "a", attempts: 1, result: "a" });
    // stop() does not wait for the reconnect still hanging (the clock stands still here).
    await a.scheduler.stop({ timeoutMs: 0 });
    await b.scheduler.stop({ timeoutMs: 0 });
    expect(connects).toBe(1);
  });
});
