import { describe, expect, it } from "vitest";
import { PaperBroker } from "../broker/paper-broker.js";
import { StorageError } from "../errors.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { ControlRecord, ScheduleRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import { makeSchedule } from "../testing/fixtures.js";
import { TestClock } from "../testing/test-clock.js";
import { setup } from "./test-helpers.js";

const NOW = Date.parse("2026-01-05T14:30:00Z");

/** Stores records as they are, the way a hand-edited file or a psql UPDATE would leave them. */
async function tampered(storage: Storage, records: Partial<ScheduleRecord>[]): Promise<void> {
  for (const r of records) await storage.insertSchedule(makeSchedule({ createdAt: NOW, job: "job", ...r }));
}

/** A storage of your own that checks nothing it reads back (and has no issues()). */
function unchecked(raw: Map<string, unknown>, control: () => unknown): Storage {
  const base = new MemoryStorage();
  return Object.assign(Object.create(base) as Storage, {
    listSchedules: async () => [...raw.values()],
    getSchedule: async (id: string) => raw.get(id) ?? null,
    getControl: async () => control(),
    issues: undefined,
  });
}

describe("a control record that cannot be read fails safe", () => {
  it("comes up paused-all, says so in health, and only an actor's resumeAll lifts it", async () => {
    const storage = new MemoryStorage();
    await storage.setControl({ pausedAll: "no", revision: 3 } as unknown as ControlRecord);
    const { clock, scheduler, events } = setup({ storage });
    const ran: number[] = [];
    scheduler.register("job", (ctx) => {
      ran.push(ctx.fire.scheduledAt);
    });
    await scheduler.createSchedule({ id: "s", job: "job", trigger: { every: "1m" } });
    await scheduler.start();
    expect(scheduler.pausedAll).toBe(true);
    await clock.advance(5 * 60_000);
    expect(ran).toEqual([]);
    const health = scheduler.health();
    expect(health.status).toBe("degraded");
    expect(health.reasons.join("\n")).toMatch(/control record unreadable \(pausedAll is "no"/);
    expect(events.of("scheduler:error").some((e) => e.error.message.includes("control record"))).toBe(true);
    await expect(scheduler.resumeAll()).rejects.toMatchObject({ field: "actor" });
    expect(scheduler.pausedAll).toBe(true);
    const control = await scheduler.resumeAll({ actor: "alice" });
    expect(control).toMatchObject({ pausedAll: false, revision: 1 });
    expect(await storage.getControl()).toEqual(control);
    await clock.advance(60_000);
    expect(ran.length).toBeGreaterThan(0);
    expect(scheduler.health().reasons.join("\n")).not.toMatch(/control record/);
    await scheduler.stop();
  });

  it("also when a storage of your own hands back an invalid record without complaint", async () => {
    const { scheduler } = setup({ storage: unchecked(new Map(), () => ({ pausedAll: null, revision: 2 })) });
    await scheduler.start();
    expect(scheduler.pausedAll).toBe(true);
    expect(scheduler.health().reasons.join("\n")).toMatch(/control record unreadable \(pausedAll is null/);
    await scheduler.stop();
  });
});

describe("stored schedules are checked with the input schemas before they are armed", () => {
  const bad: Partial<ScheduleRecord>[] = [
    { id: "negative", trigger: { type: "interval", every: -5, anchor: NOW, jitter: 0 } },
    { id: "lots", retry: "lots" as unknown as ScheduleRecord["retry"] },
    { id: "minute-99", trigger: { type: "cron", expression: "99 * * * *", timezone: "UTC" } },
  ];

  it("arms none of them, names each in health, and refuses them by id with a typed error", async () => {
    const storage = new MemoryStorage();
    await tampered(storage, [
      ...bad,
      { id: "good", trigger: { type: "interval", every: 60_000, anchor: NOW, jitter: 0 } },
    ]);
    const { clock, scheduler } = setup({ storage });
    const ran: string[] = [];
    scheduler.register("job", (ctx) => {
      ran.push(ctx.schedule.id);
    });
    await scheduler.start();
    await clock.advance(2 * 60_000);
    expect(new Set(ran)).toEqual(new Set(["good"]));
    expect((await scheduler.status()).schedules.map((s) => s.id)).toEqual(["good"]);
    const health = scheduler.health();
    expect(health.status).toBe("degraded");
    for (const id of ["negative", "lots", "minute-99"]) {
      expect(health.reasons.some((r) => r.includes(id))).toBe(true);
    }
    expect(health.reasons.join("\n")).toMatch(/retry/);
    await expect(scheduler.preview("negative")).rejects.toMatchObject({ code: "STORAGE_CORRUPT" });
    await expect(scheduler.resumeSchedule("lots")).rejects.toBeInstanceOf(StorageError);
    await expect(scheduler.trigger("minute-99")).rejects.toMatchObject({ code: "STORAGE_CORRUPT" });
    await scheduler.stop();
  });

  it("does the same on a storage of your own that checks nothing", async () => {
    const raw = new Map<string, unknown>();
    for (const r of bad) raw.set(r.id as string, makeSchedule({ createdAt: NOW, job: "job", ...r }));
    const { clock, scheduler, events } = setup({
      storage: unchecked(raw, () => ({
        pausedAll: false,
        pausedAt: null,
        pausedBy: null,
        reason: null,
        revision: 0,
      })),
    });
    scheduler.register("job", () => {});
    await scheduler.start();
    await clock.advance(60_000);
    expect((await scheduler.status()).schedules).toEqual([]);
    expect(scheduler.health().reasons.filter((r) => r.includes("not armed"))).toHaveLength(3);
    expect(events.of("scheduler:error").filter((e) => e.error.message.includes("is not armed"))).toHaveLength(
      3,
    );
    await expect(scheduler.preview("negative")).rejects.toMatchObject({ code: "STORAGE_CORRUPT" });
    await scheduler.stop();
  });

  it("checks schedules changed by another writer before adopting them", async () => {
    const storage = new MemoryStorage();
    const { clock, scheduler } = setup({ storage });
    scheduler.register("job", () => {});
    await scheduler.createSchedule({ id: "s", job: "job", trigger: { every: "1m" } });
    await scheduler.start();
    const current = (await storage.getSchedule("s")) as ScheduleRecord;
    // Another writer (a script using the storage directly) stores an impossible interval.
    await storage.updateSchedule(
      {
        ...current,
        trigger: { type: "interval", every: -5, anchor: NOW, jitter: 0 },
        revision: current.revision + 1,
      },
      current.revision,
    );
    await clock.advance(10);
    expect((await scheduler.status()).schedules).toEqual([]);
    expect(scheduler.health().reasons.join("\n")).toMatch(/schedule s not armed/);
    await scheduler.stop();
  });
});

describe("health names what does not work", () => {
  it("a disconnected broker", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const broker = new PaperBroker({ clock });
    const { scheduler } = setup({ clock, broker });
    await scheduler.start();
    expect(scheduler.health().status).toBe("healthy");
    await broker.disconnect();
    expect(scheduler.health()).toMatchObject({
      status: "degraded",
      reasons: ["broker paper is disconnected"],
    });
    await broker.connect();
    expect(scheduler.health().status).toBe("healthy");
    await scheduler.stop();
  });

  it("a stored market schedule whose calendar this process has not registered", async () => {
    const storage = new MemoryStorage();
    await tampered(storage, [
      {
        id: "tokyo-open",
        trigger: { type: "market", calendar: "XTKS-CUSTOM", event: "open", offsetMinutes: 0 } as never,
      },
    ]);
    // The storage keeps it (a calendar may be registered later); the scheduler does not arm it.
    expect((await storage.listSchedules()).map((s) => s.id)).toEqual(["tokyo-open"]);
    const { scheduler } = setup({ storage });
    scheduler.register("job", () => {});
    await scheduler.start();
    expect((await scheduler.status()).schedules).toEqual([]);
    expect(scheduler.health().reasons.join("\n")).toMatch(/tokyo-open not armed: .*unknown calendar/);
    await scheduler.stop();
  });
});

describe("per-schedule history survives a restart", () => {
  it("rebuilds last start, end, status and success from storage at start, in one query", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const storage = new MemoryStorage();
    const first = setup({ clock, storage });
    let fail = false;
    first.scheduler.register("job", () => {
      if (fail) throw Object.assign(new Error("boom"), { retryable: false });
    });
    await first.scheduler.createSchedule({ id: "s", job: "job", trigger: { every: "1m" } });
    await first.scheduler.start();
    await clock.advance(60_000);
    fail = true;
    await clock.advance(60_000);
    const before = (await first.scheduler.status()).schedules[0];
    expect(before).toMatchObject({ lastStatus: "failed", lastSuccessAt: NOW + 60_000 });
    await first.scheduler.stop();

    const calls: string[] = [];
    const counted = new Proxy(storage, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          calls.push(String(prop));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const second = setup({ clock, storage: counted, instanceId: "instance-b" });
    second.scheduler.register("job", () => {});
    await second.scheduler.start();
    const after = (await second.scheduler.status()).schedules[0];
    expect(after).toMatchObject({
      lastStartAt: before?.lastStartAt,
      lastEndAt: before?.lastEndAt,
      lastStatus: "failed",
      lastSuccessAt: NOW + 60_000,
    });
    expect(calls.filter((c) => c === "scheduleSummaries")).toHaveLength(1);
    expect(calls.filter((c) => c === "lastFireAt")).toHaveLength(0);
    expect(second.scheduler.health().reasons).toContain("schedule s: last run failed");
    await second.scheduler.stop();
  });
});
