import { describe, expect, it } from "vitest";
import { ConflictError, ValidationError } from "../errors.js";
import type { ScheduleInput } from "../schedule/schedule-input.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { Storage } from "../storage/storage.js";
import { TestClock } from "../testing/test-clock.js";
import { AUDIT_IDS_PER_ENTRY, BATCH_AUDIT_ACTION } from "./schedule-batch.js";
import { Scheduler } from "./scheduler.js";
import { setup } from "./test-helpers.js";

const T0 = "2026-01-05T14:30:00Z";

/** One-offs due `inMs` after the clock's start, ids `p0`, `p1`, ... */
function oneOffs(count: number, clock: TestClock, inMs: number, prefix = "p"): ScheduleInput[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i}`,
    job: "noop",
    trigger: { at: clock.now() + inMs },
  }));
}

/** A view of `storage` without the bulk insert, counting its calls. */
function withoutBulk(storage: Storage): { storage: Storage; inserts: () => number } {
  let inserts = 0;
  const view = Object.create(storage) as Storage;
  view.insertSchedules = undefined;
  view.insertSchedule = (record) => {
    inserts++;
    return storage.insertSchedule(record);
  };
  return { storage: view, inserts: () => inserts };
}

describe("createSchedules: the bulk path", () => {
  it("creates a batch in one storage write and one timer re-arm, audits it per chunk, emits per schedule", async () => {
    const { scheduler, storage, clock, events } = setup({ start: T0 });
    scheduler.register("noop", () => {});
    await scheduler.start();
    let bulkWrites = 0;
    const insertSchedules = storage.insertSchedules?.bind(storage);
    storage.insertSchedules = async (records) => {
      bulkWrites++;
      return insertSchedules?.(records);
    };
    let timersSet = 0;
    const setTimeout = clock.setTimeout.bind(clock);
    clock.setTimeout = (fn, ms) => {
      timersSet++;
      return setTimeout(fn, ms);
    };
    const count = AUDIT_IDS_PER_ENTRY + 20;
    const inputs = Array.from({ length: count }, (_, i) => ({
      id: `s${i}`,
      job: "noop",
      trigger: { cron: `${i % 60} ${Math.floor(i / 60) % 60} 9 * * *`, timezone: "America/New_York" },
    }));
    // Due within the loop's longest wait, each earlier than the one before: armed one by one,
    // each would move the timer.
    const soon = Array.from({ length: 50 }, (_, i) => ({
      id: `soon${i}`,
      job: "noop",
      trigger: { at: clock.now() + 20_000 - i * 100 },
    }));
    await scheduler.createSchedules(soon);
    expect(timersSet).toBe(1);
    timersSet = 0;
    const created = await scheduler.createSchedules(inputs, { actor: "ada" });
    clock.setTimeout = setTimeout;

    expect(created.map((r) => r.id)).toEqual(inputs.map((i) => i.id));
    expect(bulkWrites).toBe(2); // one per call
    expect(timersSet).toBeLessThanOrEqual(1);
    expect((await scheduler.listSchedules()).length).toBe(count + soon.length);
    expect(events.of("schedule:created").map((e) => e.schedule.id)).toEqual(
      [...soon, ...inputs].map((i) => i.id),
    );
    const audit = (await scheduler.listAudit({ action: BATCH_AUDIT_ACTION, limit: 10 })).items
      .reverse()
      .slice(1);
    expect(audit.map((a) => [a.actor, a.subjectType, a.subjectId])).toEqual([
      ["ada", "schedule", null],
      ["ada", "schedule", null],
    ]);
    expect(audit.flatMap((a) => (a.details as { ids: string[] }).ids)).toEqual(inputs.map((i) => i.id));
    expect(audit.map((a) => (a.details as { count: number }).count)).toEqual([AUDIT_IDS_PER_ENTRY, 20]);
    // Armed: every schedule has its next fire, the first at 09:00 New York time.
    const status = (await scheduler.status()).schedules.filter((s) => /^s\d/.test(s.id));
    expect(status.filter((s) => s.nextFireAt !== null)).toHaveLength(count);
    expect(new Date(Math.min(...status.map((s) => s.nextFireAt as number))).toISOString()).toBe(
      "2026-01-06T14:00:00.000Z",
    );
    await scheduler.stop();
  });

  it("names every problem of every input by its index and writes nothing", async () => {
    const { scheduler, storage } = setup({ start: T0 });
    scheduler.register("noop", () => {});
    const inputs = [
      { id: "ok", job: "noop", trigger: { every: "1m" } },
      { id: "who", job: "nobody", trigger: { every: "1m" } },
      { id: "ok", job: "noop", trigger: { every: "2m" } },
      { id: "bad-cron", job: "noop", trigger: { cron: "61 * * * *" } },
      { id: "past", job: "noop", trigger: { at: "2020-01-01T00:00:00Z" } },
      { id: "zone", job: "noop", trigger: { cron: "0 9 * * *", timezone: "Mars/Olympus" } },
    ] as ScheduleInput[];
    const error = await scheduler.createSchedules(inputs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const issues = (error as ValidationError).issues.map((i) => [i.field, i.code]);
    expect(issues).toEqual([
      ["[1].job", "UNKNOWN_JOB"],
      ["[2].id", "VALIDATION"],
      ["[3].trigger.expression", "INVALID_CRON"],
      ["[4].trigger.at", "INVALID_INSTANT"],
      ["[5].trigger.timezone", "UNKNOWN_TIMEZONE"],
    ]);
    expect((error as ValidationError).field).toBe("[1].job");
    expect(await storage.listSchedules()).toEqual([]);
    await expect(scheduler.createSchedules("nope" as never)).rejects.toMatchObject({ field: "inputs" });
    expect(await scheduler.createSchedules([])).toEqual([]);
  });

  it("is all or none: a taken id creates none of the batch and arms nothing", async () => {
    const { scheduler, storage, clock, events } = setup({ start: T0 });
    scheduler.register("noop", () => {});
    await scheduler.start();
    await scheduler.createSchedule({ id: "p2", job: "noop", trigger: { every: "1h" } });
    const error = await scheduler.createSchedules(oneOffs(5, clock, 60_000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: "SCHEDULE_EXISTS", details: { id: "p2" } });
    expect((await storage.listSchedules()).map((s) => s.id)).toEqual(["p2"]);
    expect((await scheduler.status()).schedules.map((s) => s.id)).toEqual(["p2"]);
    expect(events.of("schedule:created").map((e) => e.schedule.id)).toEqual(["p2"]);
    expect((await scheduler.listAudit({ action: BATCH_AUDIT_ACTION })).items).toEqual([]);
    await scheduler.stop();
  });

  it("falls back to one insert per schedule on a storage without insertSchedules, still all or none", async () => {
    const shared = new MemoryStorage();
    const { storage, inserts } = withoutBulk(shared);
    const { scheduler, clock } = setup({ start: T0, storage });
    scheduler.register("noop", () => {});
    await scheduler.createSchedules(oneOffs(3, clock, 60_000, "a"));
    expect(inserts()).toBe(3);
    await scheduler.createSchedule({ id: "b2", job: "noop", trigger: { every: "1h" } });
    await expect(scheduler.createSchedules(oneOffs(4, clock, 60_000, "b"))).rejects.toMatchObject({
      code: "SCHEDULE_EXISTS",
      details: { id: "b2" },
    });
    // b0 and b1 were inserted before b2 failed, and deleted again.
    expect((await shared.listSchedules()).map((s) => s.id)).toEqual(["a0", "a1", "a2", "b2"]);
  });

  it("runs every fire of a bulk-created batch exactly once, across two instances sharing the storage", async () => {
    const clock = new TestClock(T0);
    const storage = new MemoryStorage();
    const runs = new Map<string, number>();
    const make = (instanceId: string) => {
      const s = new Scheduler({ storage, clock, instanceId });
      s.register("noop", (ctx) => {
        runs.set(ctx.schedule.id, (runs.get(ctx.schedule.id) ?? 0) + 1);
      });
      return s;
    };
    const a = make("a");
    const b = make("b");
    await Promise.all([a.start(), b.start()]);
    const batch = oneOffs(300, clock, 5_000);
    await a.createSchedules(batch);
    // b learns of the batch through the storage's change notifications.
    await clock.advance(0);
    expect((await b.status()).schedules).toHaveLength(300);
    await clock.advance(6_000);
    await Promise.all([a.stop(), b.stop()]);
    expect(runs.size).toBe(300);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    const executions = await a.listExecutions({ limit: 1000 });
    expect(executions.items).toHaveLength(300);
    expect(executions.items.every((e) => e.status === "succeeded")).toBe(true);
  });
});
