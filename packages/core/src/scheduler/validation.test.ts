import { describe, expect, it } from "vitest";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import { setup } from "./test-helpers.js";

async function rejection(promise: Promise<unknown>): Promise<ValidationError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error("expected a rejection");
}

const base = { id: "s", job: "job" } as const;
function scheduler() {
  const { scheduler } = setup();
  scheduler.register("job", () => {});
  return scheduler;
}

describe("bad input is rejected at the call with a typed error naming the field", () => {
  it("an invalid cron expression", async () => {
    const error = await rejection(scheduler().createSchedule({ ...base, trigger: { cron: "0 25 * * *" } }));
    expect(error.code).toBe("INVALID_CRON");
    expect(error.field).toBe("trigger.expression");
    expect(error.message).toMatch(/trigger\.expression/);
  });

  it("an unknown time zone", async () => {
    const error = await rejection(
      scheduler().createSchedule({ ...base, trigger: { cron: "0 9 * * *", timezone: "Mars/Olympus_Mons" } }),
    );
    expect(error.code).toBe("UNKNOWN_TIMEZONE");
    expect(error.field).toBe("trigger.timezone");
  });

  it("a bad interval: zero, negative, unparseable, or jitter not below it", async () => {
    const s = scheduler();
    for (const every of [0, -5, "soon", "1 fortnight"]) {
      const error = await rejection(s.createSchedule({ ...base, trigger: { every } }));
      expect(error.code).toBe("INVALID_INTERVAL");
      expect(error.field).toBe("trigger.every");
    }
    const jitter = await rejection(s.createSchedule({ ...base, trigger: { every: "10s", jitter: "10s" } }));
    expect(jitter.field).toBe("trigger.jitter");
  });

  it("an unknown job name", async () => {
    const error = await rejection(
      scheduler().createSchedule({ id: "s", job: "nope", trigger: { every: "1m" } }),
    );
    expect(error.code).toBe("UNKNOWN_JOB");
    expect(error.field).toBe("job");
    expect(error.message).toMatch(/registered: job/);
  });

  it("a one-off instant without a zone, or in the past", async () => {
    const s = scheduler();
    const local = await rejection(s.createSchedule({ ...base, trigger: { at: "2026-02-01T09:00" } }));
    expect(local.code).toBe("INVALID_INSTANT");
    expect(local.field).toBe("trigger.at");
    const past = await rejection(s.createSchedule({ ...base, trigger: { at: "2020-01-01T00:00:00Z" } }));
    expect(past.field).toBe("trigger.at");
  });

  it("policies out of range, unknown fields and a bad id", async () => {
    const s = scheduler();
    const attempts = await rejection(
      s.createSchedule({ ...base, trigger: { every: "1m" }, retry: { attempts: 0 } }),
    );
    expect(attempts.field).toBe("retry.attempts");
    const overlap = await rejection(
      s.createSchedule({ ...base, trigger: { every: "1m" }, overlap: "sometimes" as never }),
    );
    expect(overlap.field).toBe("overlap");
    const unknown = await rejection(
      s.createSchedule({ ...base, trigger: { every: "1m" }, colour: "red" } as never),
    );
    expect(unknown.message).toMatch(/colour/);
    const id = await rejection(s.createSchedule({ ...base, id: "has spaces", trigger: { every: "1m" } }));
    expect(id.field).toBe("id");
    const timeout = await rejection(s.createSchedule({ ...base, trigger: { every: "1m" }, timeout: "-1s" }));
    expect(timeout.field).toBe("timeout");
  });

  it("a duplicate id, a stale revision and an unknown schedule", async () => {
    const s = scheduler();
    await s.createSchedule({ ...base, trigger: { every: "1m" } });
    await expect(s.createSchedule({ ...base, trigger: { every: "1m" } })).rejects.toBeInstanceOf(
      ConflictError,
    );
    await s.updateSchedule("s", { name: "renamed" });
    await expect(s.updateSchedule("s", { name: "again" }, { expectedRevision: 1 })).rejects.toMatchObject({
      code: "REVISION_CONFLICT",
      field: "revision",
    });
    await expect(s.getSchedule("nope")).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.trigger("nope")).rejects.toMatchObject({ code: "SCHEDULE_NOT_FOUND" });
  });

  it("bad listing filters and scheduler options", async () => {
    const s = scheduler();
    const limit = await rejection(s.listExecutions({ limit: 5000 }));
    expect(limit.field).toBe("limit");
    const status = await rejection(s.listExecutions({ status: "exploded" as never }));
    expect(status.field).toBe("status");
    expect(() => setup({ leaseMs: 5 })).toThrow(ValidationError);
  });

  it("keeps the stored schedule intact when an update is rejected", async () => {
    const s = scheduler();
    const created = await s.createSchedule({ ...base, trigger: { cron: "0 9 * * *" } });
    await rejection(s.updateSchedule("s", { trigger: { cron: "not cron" } }));
    expect(await s.getSchedule("s")).toEqual(created);
  });
});

describe("schedule updates", () => {
  it("re-arms a schedule whose trigger changed without counting the old trigger's fires as missed", async () => {
    const { clock, scheduler, events } = setup({ start: "2026-01-05T14:30:00Z" });
    const ran: number[] = [];
    scheduler.register("job", (ctx) => {
      ran.push(ctx.fire.scheduledAt);
    });
    await scheduler.createSchedule({ id: "s", job: "job", trigger: { cron: "0 * * * *" } });
    await scheduler.start();
    await clock.advance(10 * 60_000);
    const updated = await scheduler.updateSchedule("s", { trigger: { every: "1m" } }, { actor: "alice" });
    expect(updated.revision).toBe(2);
    await clock.advance(2 * 60_000);
    expect(ran).toHaveLength(2);
    expect(events.of("fire:missed")).toHaveLength(0);
    await scheduler.stop();
  });
});

describe("out-of-range and malformed input is rejected with the field named", () => {
  it("an instant outside the Date range, or an interval whose fires leave it", async () => {
    const s = scheduler();
    for (const trigger of [{ every: 1e300 }, JSON.parse('{"every": 1e308}'), { every: 8.6399e15 }]) {
      const error = await rejection(s.createSchedule({ ...base, trigger }));
      expect(error.code).toBe("INVALID_INTERVAL");
      expect(error.field).toBe("trigger.every");
    }
    const at = await rejection(s.createSchedule({ ...base, trigger: { at: 8.64e15 + 1 } }));
    expect(at.code).toBe("INVALID_INSTANT");
    expect(at.field).toBe("trigger.at");
    // preview of an unsaved spec reports the field instead of a raw RangeError from Date.
    const preview = await rejection(s.preview({ ...base, trigger: { every: 8.6399e15 } }));
    expect(preview.field).toBe("trigger.every");
    expect(await s.listSchedules()).toEqual([]);
  });

  it("an interval below the one-second floor", async () => {
    const s = scheduler();
    for (const every of ["1ms", 999]) {
      const error = await rejection(s.createSchedule({ ...base, trigger: { every } }));
      expect(error.code).toBe("INVALID_INTERVAL");
      expect(error.field).toBe("trigger.every");
      expect(error.message).toMatch(/at least 1000 ms/);
    }
    expect((await s.createSchedule({ ...base, trigger: { every: "1s" } })).trigger).toMatchObject({
      every: 1000,
    });
  });

  it("data that is not plain JSON, or larger than 64 KiB: one typed error naming the field", async () => {
    const s = scheduler();
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const cases: [unknown, string][] = [
      [circular, "data.self"],
      [{ when: new Date(0) }, "data.when"],
      [{ fn: () => 1 }, "data.fn"],
      [{ n: Number.NaN }, "data.n"],
      [{ list: [1, undefined] }, "data.list.1"],
      [{ big: 10n }, "data.big"],
      [{ text: "x".repeat(70_000) }, "data"],
    ];
    for (const [data, field] of cases) {
      const error = await rejection(
        s.createSchedule({ ...base, trigger: { every: "1m" }, data: data as never }),
      );
      expect(error.code, field).toBe("INVALID_DATA");
      expect(error.field).toBe(field);
    }
    const ok = await s.createSchedule({
      ...base,
      trigger: { every: "1m" },
      data: { symbols: ["AAPL"], n: 1.5 },
    });
    expect(ok.data).toEqual({ symbols: ["AAPL"], n: 1.5 });
  });

  it("a revision that is not a number, and an id that is not a string", async () => {
    const s = scheduler();
    await s.createSchedule({ ...base, trigger: { every: "1m" } });
    const revision = await rejection(
      s.updateSchedule("s", { name: "x" }, { expectedRevision: "abc" as never }),
    );
    expect(revision.field).toBe("expectedRevision");
    expect((await s.getSchedule("s")).name).toBe("s");
    const id = await rejection(s.getSchedule(42 as never));
    expect(id.field).toBe("id");
    await expect(s.removeSchedule(42 as never)).rejects.toMatchObject({ field: "id" });
    await expect(s.getExecution({} as never)).rejects.toMatchObject({ field: "id" });
  });

  it("stores a time zone under its canonical IANA name", async () => {
    const s = scheduler();
    const a = await s.createSchedule({
      id: "a",
      job: "job",
      trigger: { cron: "0 9 * * *", timezone: "america/new_york" },
    });
    expect(a.trigger).toMatchObject({ timezone: "America/New_York" });
    const b = await s.createSchedule({
      id: "b",
      job: "job",
      trigger: { cron: "0 9 * * *", timezone: "US/Eastern" },
    });
    expect(b.trigger).toMatchObject({ timezone: "America/New_York" });
    expect((await s.getSchedule("a")).trigger).toEqual(b.trigger);
  });

  it("names the field of an unknown key, and of ids missing from approve", async () => {
    const s = scheduler();
    const top = await rejection(
      s.createSchedule({ ...base, trigger: { every: "1m" }, colour: "red" } as never),
    );
    expect(top.field).toBe("colour");
    const nested = await rejection(
      s.createSchedule({ ...base, trigger: { every: "1m" }, retry: { attempts: 2, tries: 3 } } as never),
    );
    expect(nested.field).toBe("retry.tries");
    const ids = await rejection(s.approve(undefined as never, { actor: "alice" }));
    expect(ids.field).toBe("ids");
  });
});
