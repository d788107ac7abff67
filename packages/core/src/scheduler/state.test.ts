import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { JsonValue } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import { TestClock } from "../testing/test-clock.js";
import type { JobContext } from "./job.js";
import { deferred, setup, severable } from "./test-helpers.js";

/** A handler that adds 1 to `state.n` (0 before the first commit) and returns what it read. */
function increment(ctx: JobContext): { read: number } {
  const read = (ctx.state as { n?: number } | null)?.n ?? 0;
  ctx.setState({ n: read + 1 });
  return { read };
}

/**
 * A storage view whose lease renewals hang until `reconnect`, as for an instance stalled (a long
 * GC pause, a partition) while its handler keeps going.
 */
function stalledRenewals(storage: Storage): { storage: Storage; reconnect: () => void } {
  const stall = deferred<string[]>();
  const view = new Proxy(storage, {
    get(target, prop, receiver) {
      if (prop === "renewLeases") return () => stall.promise;
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { storage: view, reconnect: () => stall.resolve([]) };
}

describe("Scheduler: schedule state", () => {
  it("hands each run the state the previous run committed, with its revision", async () => {
    const { clock, scheduler } = setup();
    const seen: (JsonValue | null)[] = [];
    scheduler.register("count", (ctx) => {
      seen.push(ctx.state);
      return increment(ctx);
    });
    await scheduler.createSchedule({ id: "c", job: "count", trigger: { every: "1m" } });
    expect(await scheduler.getScheduleState("c")).toBeNull();
    await scheduler.start();
    await clock.advance(3 * 60_000);
    expect(seen).toEqual([null, { n: 1 }, { n: 2 }]);
    const [last] = (await scheduler.listExecutions({ scheduleId: "c" })).items;
    expect(await scheduler.getScheduleState("c")).toEqual({
      scheduleId: "c",
      value: { n: 3 },
      revision: 3,
      executionId: last?.id,
      updatedAt: last?.endedAt,
    });
    await scheduler.stop();
  });

  it("keeps the state when a run does not call setState; the last setState of a run wins", async () => {
    const { clock, scheduler } = setup();
    let calls = 0;
    scheduler.register("job", (ctx) => {
      calls++;
      if (calls === 1) {
        ctx.setState({ v: "first" });
        ctx.setState({ v: "second" });
      }
      return null;
    });
    await scheduler.createSchedule({ id: "s", job: "job", trigger: { every: "1m" } });
    await scheduler.start();
    await clock.advance(2 * 60_000);
    expect(calls).toBe(2);
    expect(await scheduler.getScheduleState("s")).toMatchObject({ value: { v: "second" }, revision: 1 });
    await scheduler.stop();
  });

  it("hands the handler a copy: changing ctx.state changes nothing until staged", async () => {
    const { clock, scheduler } = setup();
    scheduler.register("job", (ctx) => {
      const state = (ctx.state as { list: number[] } | null) ?? { list: [] };
      state.list.push(state.list.length);
      if (state.list.length < 3) ctx.setState(state);
    });
    await scheduler.createSchedule({ id: "s", job: "job", trigger: { every: "1m" } });
    await scheduler.start();
    await clock.advance(4 * 60_000);
    expect(await scheduler.getScheduleState("s")).toMatchObject({ value: { list: [0, 1] }, revision: 2 });
    await scheduler.stop();
  });

  it("a retried attempt sees the state of the last committed run, not what the failed one staged", async () => {
    const { clock, scheduler, events } = setup();
    const reads: (JsonValue | null)[] = [];
    let attempts = 0;
    scheduler.register("flaky", (ctx) => {
      reads.push(ctx.state);
      const out = increment(ctx);
      attempts++;
      if (attempts === 2) throw new Error("broker hiccup after staging");
      return out;
    });
    await scheduler.createSchedule({
      id: "f",
      job: "flaky",
      trigger: { every: "1m" },
      retry: { attempts: 3, backoff: { baseMs: 1000, factor: 1 } },
    });
    await scheduler.start();
    await clock.advance(60_000); // run 1 commits n=1
    await clock.advance(60_000); // run 2: attempt 1 stages n=2 and fails
    await clock.advance(5_000); // attempt 2 after the backoff
    expect(events.of("run:retrying")).toHaveLength(1);
    expect(reads).toEqual([null, { n: 1 }, { n: 1 }]);
    expect(await scheduler.getScheduleState("f")).toMatchObject({ value: { n: 2 }, revision: 2 });
    await scheduler.stop();
  });

  it("a failed or timed-out run commits nothing, and a late setState is refused", async () => {
    const { clock, scheduler } = setup();
    const late = deferred();
    const lateErrors: unknown[] = [];
    let calls = 0;
    scheduler.register("job", async (ctx) => {
      calls++;
      if (calls === 1) {
        ctx.setState({ from: "failed" });
        throw new Error("no");
      }
      // Ignores its signal: times out, then tries to stage after the attempt ended.
      await late.promise;
      try {
        ctx.setState({ from: "late" });
      } catch (error) {
        lateErrors.push(error);
      }
    });
    await scheduler.createSchedule({
      id: "s",
      job: "job",
      trigger: { every: "1m" },
      timeout: "10s",
      retry: { attempts: 1 },
    });
    await scheduler.start();
    await clock.advance(2 * 60_000 + 10_000);
    const statuses = (await scheduler.listExecutions({ scheduleId: "s" })).items.map((e) => e.status);
    expect(statuses).toEqual(["timed_out", "failed"]);
    late.resolve();
    await clock.advance(0);
    await Promise.resolve();
    expect(lateErrors).toHaveLength(1);
    expect(lateErrors[0]).toMatchObject({ code: "NOT_RUNNING" });
    expect(await scheduler.getScheduleState("s")).toBeNull();
    await scheduler.stop();
  });

  it("refuses a state that is not plain JSON of at most 64 KiB with INVALID_DATA naming `state`", async () => {
    const { clock, scheduler } = setup();
    const errors: unknown[] = [];
    scheduler.register("job", (ctx) => {
      for (const bad of [{ at: new Date(0) }, { big: "x".repeat(70_000) }, { n: Number.NaN }]) {
        try {
          ctx.setState(bad as unknown as JsonValue);
        } catch (error) {
          errors.push(error);
        }
      }
      ctx.setState({ fine: true });
    });
    await scheduler.createSchedule({ id: "s", job: "job", trigger: { every: "1m" } });
    await scheduler.start();
    await clock.advance(60_000);
    expect(errors).toHaveLength(3);
    for (const e of errors) expect(e).toMatchObject({ name: "ValidationError", code: "INVALID_DATA" });
    expect((errors[0] as { field: string }).field).toBe("state.at");
    expect((errors[1] as { field: string }).field).toBe("state");
    expect(await scheduler.getScheduleState("s")).toMatchObject({ value: { fine: true }, revision: 1 });
    await expect(scheduler.getScheduleState(42 as unknown as string)).rejects.toMatchObject({
      code: "VALIDATION",
      field: "scheduleId",
    });
    await scheduler.stop();
  });

  it("manual fires read and commit the state like scheduled ones", async () => {
    const { scheduler } = setup();
    scheduler.register("count", increment);
    await scheduler.createSchedule({ id: "m", job: "count", trigger: { cron: "0 0 1 1 *" } });
    await scheduler.start();
    const first = await scheduler.trigger("m", { actor: "alice" });
    const second = await scheduler.trigger("m", { actor: "alice" });
    expect([first.result, second.result]).toEqual([{ read: 0 }, { read: 1 }]);
    expect(await scheduler.getScheduleState("m")).toMatchObject({
      value: { n: 2 },
      revision: 2,
      executionId: second.id,
    });
    await scheduler.stop();
  });

  it("removing a schedule removes its state; a new schedule of that id starts from null", async () => {
    const { scheduler } = setup();
    scheduler.register("count", increment);
    await scheduler.createSchedule({ id: "r", job: "count", trigger: { cron: "0 0 1 1 *" } });
    await scheduler.start();
    await scheduler.trigger("r");
    expect((await scheduler.getScheduleState("r"))?.revision).toBe(1);
    await scheduler.removeSchedule("r");
    expect(await scheduler.getScheduleState("r")).toBeNull();
    await scheduler.createSchedule({ id: "r", job: "count", trigger: { cron: "0 0 1 1 *" } });
    expect((await scheduler.trigger("r")).result).toEqual({ read: 0 });
    await scheduler.stop();
  });

  it("with overlap `allow`, a run whose state another run replaced meanwhile fails and commits nothing", async () => {
    const { clock, scheduler, events } = setup();
    const gates = [deferred(), deferred()];
    let calls = 0;
    scheduler.register("slow", async (ctx) => {
      const gate = gates[calls++];
      const out = increment(ctx);
      await gate?.promise;
      return out;
    });
    await scheduler.createSchedule({
      id: "o",
      job: "slow",
      trigger: { every: "1m" },
      overlap: "allow",
      retry: { attempts: 1 },
    });
    await scheduler.start();
    await clock.advance(2 * 60_000); // both runs have read n=0 and staged n=1
    expect(calls).toBe(2);
    gates[1]?.resolve();
    await clock.advance(0);
    gates[0]?.resolve();
    await clock.advance(0);
    await scheduler.stop();
    const runs = (await scheduler.listExecutions({ scheduleId: "o" })).items;
    expect(runs.map((e) => e.status).sort()).toEqual(["failed", "succeeded"]);
    const failed = runs.find((e) => e.status === "failed");
    expect(failed?.error).toMatchObject({ code: "REVISION_CONFLICT" });
    expect(events.of("run:failed")).toHaveLength(1);
    expect(await scheduler.getScheduleState("o")).toMatchObject({ value: { n: 1 }, revision: 1 });
  });

  it("a takeover after a crash neither loses nor applies twice an increment", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const storage = new MemoryStorage();
    const { storage: deadView, sever } = severable(storage);
    const dead = setup({ clock, storage: deadView, instanceId: "dead", leaseMs: 9000 });
    const reads: [string, JsonValue | null][] = [];
    dead.scheduler.register("count", (ctx) => {
      reads.push(["dead", ctx.state]);
      increment(ctx);
      if (((ctx.state as { n: number } | null)?.n ?? 0) < 1) return null; // run 1 commits n=1
      return new Promise(() => {}); // run 2 stages n=2, then its process dies
    });
    await dead.scheduler.createSchedule({ id: "t", job: "count", trigger: { cron: "0,5 15 * * *" } });
    await dead.scheduler.start();
    await clock.advanceTo("2026-01-05T15:05:00Z");
    expect(reads).toEqual([
      ["dead", null],
      ["dead", { n: 1 }],
    ]);
    sever();
    const heir = setup({ clock, storage, instanceId: "heir", leaseMs: 9000 });
    heir.scheduler.register("count", (ctx) => {
      reads.push(["heir", ctx.state]);
      return increment(ctx);
    });
    await heir.scheduler.start();
    await clock.advance(30_000);
    expect(heir.events.of("fire:taken-over")).toHaveLength(1);
    expect(reads[2]).toEqual(["heir", { n: 1 }]);
    expect(await heir.scheduler.getScheduleState("t")).toMatchObject({ value: { n: 2 }, revision: 2 });
    await heir.scheduler.stop();
  });

  it("an instance that lost its lease while still running commits nothing when it finishes", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const storage = new MemoryStorage();
    const stalled = stalledRenewals(storage);
    const cutOff = setup({ clock, storage: stalled.storage, instanceId: "cut-off", leaseMs: 9000 });
    const release = deferred();
    cutOff.scheduler.register("count", async (ctx) => {
      increment(ctx);
      await release.promise; // still working when its lease passes to another instance
      return "late";
    });
    await cutOff.scheduler.createSchedule({ id: "z", job: "count", trigger: { cron: "0 15 * * *" } });
    await cutOff.scheduler.start();
    await clock.advanceTo("2026-01-05T15:00:00Z");
    const heir = setup({ clock, storage, instanceId: "heir", leaseMs: 9000 });
    heir.scheduler.register("count", increment);
    await heir.scheduler.start();
    await clock.advance(30_000);
    expect(heir.events.of("fire:taken-over")).toHaveLength(1);
    release.resolve(); // the stalled handler finishes and stages n=1 from the same read: fenced out
    await clock.advance(1000);
    stalled.reconnect();
    await clock.advance(1000);
    expect(await heir.scheduler.getScheduleState("z")).toMatchObject({ value: { n: 1 }, revision: 1 });
    const [execution] = (await heir.scheduler.listExecutions({ scheduleId: "z" })).items;
    expect(execution).toMatchObject({ status: "succeeded", instanceId: "heir", result: { read: 0 } });
    await cutOff.scheduler.stop({ timeoutMs: 0 });
    await heir.scheduler.stop();
  });
});
