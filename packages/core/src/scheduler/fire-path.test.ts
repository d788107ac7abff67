/**
 * The fire path's fast cases behave as the general one: a handler that returns or throws without
 * awaiting, a context whose trading part is made on first use, and the outcome write of a fire
 * that comes after the other fires due with it started.
 */

import { describe, expect, it } from "vitest";
import { PaperBroker } from "../broker/paper-broker.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import { TestClock } from "../testing/test-clock.js";
import { setup } from "./test-helpers.js";

const T = Date.parse("2026-01-05T15:00:00Z");

describe("the fire path's fast cases", () => {
  it("a handler that throws without awaiting is retried and recorded as one that rejects", async () => {
    const { clock, scheduler, events } = setup();
    let calls = 0;
    scheduler.register("sync", () => {
      calls++;
      if (calls === 1) throw new Error("not yet");
      return { ok: calls };
    });
    await scheduler.createSchedule({
      id: "s",
      job: "sync",
      trigger: { at: "2026-01-05T14:31:00Z" },
      retry: { attempts: 2, backoff: { baseMs: 1000, factor: 1, maxMs: 1000, jitter: 0 } },
    });
    await scheduler.start();
    await clock.advance(5 * 60_000);
    const [e] = (await scheduler.listExecutions({ scheduleId: "s" })).items;
    expect(e).toMatchObject({ status: "succeeded", attempts: 2, result: { ok: 2 } });
    expect(events.of("run:retrying").map((p) => p.error.message)).toEqual(["not yet"]);
    await scheduler.stop();
  });

  it("a context destructures as before: state, signal and broker read lazily, methods work detached", async () => {
    const c = new TestClock("2026-01-05T14:30:00Z");
    const broker = new PaperBroker({ clock: c });
    const { scheduler } = setup({ clock: c, broker });
    const seen: Record<string, unknown> = {};
    scheduler.register("job", (ctx) => {
      const { state, signal, broker: b, logger, fire, setState, now } = ctx;
      Object.assign(seen, { state, signal, broker: b, logger, fire, now: now() });
      setState({ n: 1 });
      // A spread copy keeps the data and the methods (the lazy parts are getters of the context).
      const copy = { ...ctx };
      seen.copyKeys = Object.keys(copy).sort();
    });
    await scheduler.createSchedule({ id: "j", job: "job", trigger: { at: "2026-01-05T14:31:00Z" } });
    await scheduler.start();
    await c.advance(60_000);
    expect(seen.state).toBeNull();
    expect(seen.signal).toBeInstanceOf(AbortSignal);
    expect(seen.broker).toBe(broker);
    expect(seen.logger).toBeDefined();
    expect(seen.fire).toMatchObject({ scheduleId: "j", attempt: 1 });
    expect(seen.now).toBe(Date.parse("2026-01-05T14:31:00Z"));
    expect(seen.copyKeys).toEqual(
      ["data", "fire", "now", "propose", "proposeGroup", "schedule", "setState", "submit"].sort(),
    );
    expect(await scheduler.getScheduleState("j")).toMatchObject({ value: { n: 1 }, revision: 1 });
    await scheduler.stop();
  });

  it("starts every fire due together before it writes the first outcome", async () => {
    const memory = new MemoryStorage();
    let writes = 0;
    const storage = new Proxy(memory, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        if (prop === "updateExecution") {
          return (...args: Parameters<MemoryStorage["updateExecution"]>) => {
            writes++;
            return target.updateExecution(...args);
          };
        }
        return value.bind(target);
      },
    });
    const { clock, scheduler, events } = setup({ storage, start: "2026-01-05T14:59:00Z" });
    const writesAtStart: number[] = [];
    scheduler.register("job", () => {
      writesAtStart.push(writes);
    });
    for (let i = 0; i < 20; i++)
      await scheduler.createSchedule({ id: `s${i}`, job: "job", trigger: { at: T } });
    await scheduler.start();
    await clock.advanceTo(T);
    await clock.flush();
    expect(writesAtStart).toEqual(Array(20).fill(0));
    expect(events.of("run:succeeded")).toHaveLength(20);
    await scheduler.stop();
  });
});
