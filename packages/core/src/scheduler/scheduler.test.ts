import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../storage/memory-storage.js";
import { TestClock } from "../testing/test-clock.js";
import { deferred, iso, setup } from "./test-helpers.js";

describe("Scheduler: firing", () => {
  it("runs a cron schedule at each fire with the fire's identity in the context", async () => {
    const { clock, scheduler } = setup({ start: "2026-01-05T14:30:00Z" });
    const seen: { at: string; attempt: number; key: string; data: unknown }[] = [];
    scheduler.register("exit-check", (ctx) => {
      seen.push({
        at: iso(ctx.fire.scheduledAt),
        attempt: ctx.fire.attempt,
        key: ctx.fire.idempotencyKey,
        data: ctx.data,
      });
      return { checked: 3 };
    });
    await scheduler.createSchedule({
      id: "exits",
      job: "exit-check",
      trigger: { cron: "*/30 * * * * *", timezone: "America/New_York" },
      data: { positions: 3 },
    });
    await scheduler.start();
    await clock.advance(90_000);
    expect(seen.map((s) => s.at)).toEqual([
      "2026-01-05T14:30:30.000Z",
      "2026-01-05T14:31:00.000Z",
      "2026-01-05T14:31:30.000Z",
    ]);
    expect(seen[0]).toMatchObject({
      attempt: 1,
      key: "exits@2026-01-05T14:30:30.000Z",
      data: { positions: 3 },
    });
    const history = await scheduler.listExecutions({ scheduleId: "exits" });
    expect(history.items.map((e) => [e.status, e.result])).toEqual([
      ["succeeded", { checked: 3 }],
      ["succeeded", { checked: 3 }],
      ["succeeded", { checked: 3 }],
    ]);
    await scheduler.stop();
  });

  it("keeps a single timer however many schedules are armed", async () => {
    const { clock, scheduler } = setup();
    scheduler.register("noop", () => {});
    for (let i = 0; i < 200; i++) {
      await scheduler.createSchedule({ id: `s${i}`, job: "noop", trigger: { every: `${10 + i}s` } });
    }
    await scheduler.start();
    // One fire timer plus one maintenance timer, not one per schedule.
    expect(clock.pendingTimers).toBe(2);
    await scheduler.stop();
  });

  it("fires a schedule more than 2^31 ms away at its instant", async () => {
    // A long lease keeps the maintenance ticks few while the test clock crosses 25 days.
    const { clock, scheduler } = setup({ start: "2026-01-05T14:30:00Z", leaseMs: 3_600_000 });
    const fired: number[] = [];
    scheduler.register("yearly", (ctx) => {
      fired.push(ctx.now());
    });
    const at = Date.parse("2026-01-05T14:30:00Z") + 2 ** 31 + 12_345_678; // ~25.0 days + 3.4 h
    await scheduler.createSchedule({ id: "far", job: "yearly", trigger: { at: iso(at) } });
    await scheduler.start();
    await clock.advance(2 ** 31);
    expect(fired).toEqual([]);
    await clock.advanceTo(at - 1);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual([at]);
    await scheduler.stop();
  });

  it("fires an interval schedule on its anchored lattice with deterministic jitter", async () => {
    const { clock, scheduler } = setup({ start: "2026-01-05T14:30:00Z" });
    const fired: number[] = [];
    scheduler.register("refresh", (ctx) => {
      fired.push(ctx.fire.scheduledAt);
    });
    const anchor = Date.parse("2026-01-05T14:00:00Z");
    await scheduler.createSchedule({
      id: "chains",
      job: "refresh",
      trigger: { every: "15m", anchor: iso(anchor), jitter: "30s" },
    });
    await scheduler.start();
    await clock.advance(46 * 60_000);
    // Fires at 14:30, 14:45, 15:00 and 15:15 (+ up to 30 s of jitter each).
    expect(fired).toHaveLength(4);
    fired.forEach((t, i) => {
      const base = anchor + (i + 2) * 15 * 60_000;
      expect(t).toBeGreaterThanOrEqual(base);
      expect(t).toBeLessThanOrEqual(base + 30_000);
    });
    const preview = await scheduler.preview("chains", { count: 4, from: anchor + 2 * 15 * 60_000 });
    expect(preview.map((p) => p.at)).toEqual(fired);
    await scheduler.stop();
  });

  it("runs each fire exactly once when two schedulers share one storage", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const storage = new MemoryStorage();
    const a = setup({ clock, storage, instanceId: "a" });
    const b = setup({ clock, storage, instanceId: "b" });
    const runs: string[] = [];
    for (const s of [a.scheduler, b.scheduler]) {
      s.register("tick", (ctx) => {
        runs.push(`${ctx.fire.idempotencyKey}`);
      });
    }
    await a.scheduler.createSchedule({ id: "tick", job: "tick", trigger: { cron: "* * * * * *" } });
    await a.scheduler.start();
    await b.scheduler.start();
    await clock.advance(60_000);
    expect(runs).toHaveLength(60);
    expect(new Set(runs).size).toBe(60);
    const claimedByA = a.events.of("fire:claimed").length;
    const claimedByB = b.events.of("fire:claimed").length;
    expect(claimedByA + claimedByB).toBe(60);
    expect(a.events.of("fire:taken").length + b.events.of("fire:taken").length).toBe(60);
    await a.scheduler.stop();
    await b.scheduler.stop();
  });

  it("restores schedules from storage on start and does not fire what ran before the restart", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const storage = new MemoryStorage();
    const first = setup({ clock, storage });
    const runs: string[] = [];
    first.scheduler.register("job", (ctx) => {
      runs.push(iso(ctx.fire.scheduledAt));
    });
    await first.scheduler.createSchedule({ id: "minutely", job: "job", trigger: { cron: "* * * * *" } });
    await first.scheduler.start();
    await clock.advance(120_000);
    await first.scheduler.stop();
    const second = setup({ clock, storage, instanceId: "instance-b" });
    second.scheduler.register("job", (ctx) => {
      runs.push(iso(ctx.fire.scheduledAt));
    });
    await second.scheduler.start();
    await clock.advance(60_000);
    expect(runs).toEqual([
      "2026-01-05T14:31:00.000Z",
      "2026-01-05T14:32:00.000Z",
      "2026-01-05T14:33:00.000Z",
    ]);
    await second.scheduler.stop();
  });

  it("passes a handler's thrown error to the record without stopping the loop", async () => {
    const { clock, scheduler, events } = setup({ start: "2026-01-05T14:30:00Z" });
    let n = 0;
    scheduler.register("flaky", () => {
      n++;
      if (n === 1) throw Object.assign(new Error("broker said no"), { code: "E_BROKER", retryable: false });
    });
    await scheduler.createSchedule({ id: "f", job: "flaky", trigger: { every: "1m" } });
    await scheduler.start();
    await clock.advance(120_000);
    const [latest, first] = (await scheduler.listExecutions({ scheduleId: "f" })).items;
    expect(first?.status).toBe("failed");
    expect(first?.error).toEqual({ message: "broker said no", code: "E_BROKER", name: "Error" });
    expect(latest?.status).toBe("succeeded");
    expect(events.of("run:failed")[0]?.exhausted).toBe(false);
    await scheduler.stop();
  });

  it("contains a listener that throws and reports it as scheduler:error", async () => {
    const { clock, scheduler, events } = setup();
    scheduler.register("job", () => {});
    scheduler.on("run:started", () => {
      throw new Error("bad listener");
    });
    await scheduler.createSchedule({ id: "s", job: "job", trigger: { every: "1s" } });
    await scheduler.start();
    await clock.advance(3000);
    expect(events.of("run:succeeded")).toHaveLength(3);
    expect(events.of("scheduler:error")[0]?.error.message).toBe("bad listener");
    await scheduler.stop();
  });
});

describe("Scheduler: manual fires, backfill and preview", () => {
  it("runs a schedule on demand, recorded with the actor", async () => {
    const { storage, scheduler } = setup();
    scheduler.register("snapshot", () => "saved");
    await scheduler.createSchedule({ id: "snap", job: "snapshot", trigger: { cron: "35 16 * * *" } });
    await scheduler.start();
    const result = await scheduler.trigger("snap", { actor: "alice" });
    expect(result).toMatchObject({ kind: "manual", actor: "alice", status: "succeeded", result: "saved" });
    const audit = await storage.listAudit({ action: "schedule.trigger", limit: 10 });
    expect(audit.items[0]).toMatchObject({ actor: "alice", subjectId: "snap" });
    await scheduler.stop();
  });

  it("backfills the fires of a past window once, however often it is asked", async () => {
    const { clock, scheduler } = setup({ start: "2026-01-05T14:30:00Z" });
    const ran: string[] = [];
    scheduler.register("eod", (ctx) => {
      ran.push(iso(ctx.fire.scheduledAt));
    });
    await scheduler.createSchedule({
      id: "eod",
      job: "eod",
      trigger: { cron: "35 16 * * 1-5", timezone: "America/New_York" },
    });
    await scheduler.start();
    const window = { from: "2025-12-29T00:00:00Z", to: "2026-01-03T00:00:00Z", actor: "ops" };
    const first = await scheduler.backfill("eod", window);
    expect(first).toMatchObject({ fires: 5, ran: 5, alreadyClaimed: 0 });
    expect(ran).toEqual([
      "2025-12-29T21:35:00.000Z",
      "2025-12-30T21:35:00.000Z",
      "2025-12-31T21:35:00.000Z",
      "2026-01-01T21:35:00.000Z",
      "2026-01-02T21:35:00.000Z",
    ]);
    const again = await scheduler.backfill("eod", window);
    expect(again).toMatchObject({ fires: 5, ran: 0, alreadyClaimed: 5 });
    expect(ran).toHaveLength(5);
    await expect(
      scheduler.backfill("eod", { from: iso(clock.now()), to: iso(clock.now() + 1) }),
    ).rejects.toMatchObject({ field: "to" });
    await scheduler.stop();
  });

  it("previews the next fires of a saved schedule and of an unsaved spec, with skip reasons", async () => {
    const { scheduler } = setup({ start: "2026-03-06T15:00:00Z" }); // Friday 10:00 EST
    scheduler.register("routine", () => {});
    const input = {
      id: "morning",
      job: "routine",
      trigger: { cron: "0 9 * * 1-5", timezone: "America/New_York" },
    } as const;
    const unsaved = await scheduler.preview(input, { count: 3 });
    expect(unsaved.map((p) => [p.iso, p.local, p.skip])).toEqual([
      ["2026-03-09T13:00:00.000Z", "2026-03-09 09:00:00", null], // Monday after the DST switch: 09:00 EDT
      ["2026-03-10T13:00:00.000Z", "2026-03-10 09:00:00", null],
      ["2026-03-11T13:00:00.000Z", "2026-03-11 09:00:00", null],
    ]);
    await scheduler.createSchedule(input);
    await scheduler.pauseSchedule("morning", { actor: "bob" });
    expect((await scheduler.preview("morning", { count: 1 }))[0]?.skip).toBe("paused");
  });
});

describe("Scheduler: controls", () => {
  it("pauses and resumes one schedule; missed fires follow its misfire policy", async () => {
    const { clock, scheduler, events } = setup({ start: "2026-01-05T14:30:00Z" });
    const ran: string[] = [];
    scheduler.register("job", (ctx) => {
      ran.push(iso(ctx.fire.scheduledAt));
    });
    await scheduler.createSchedule({ id: "m", job: "job", trigger: { cron: "* * * * *" } });
    await scheduler.start();
    await clock.advance(60_000);
    await scheduler.pauseSchedule("m", { actor: "alice" });
    await clock.advance(185_000);
    // Resumed at 14:34:05: 14:32, 14:33 and 14:34 came while paused, so they are missed even
    // though 14:34 is only 5 s old (the lateness tolerance is for stalls, not pauses).
    await scheduler.resumeSchedule("m", { actor: "alice" });
    await clock.advance(60_000);
    expect(ran).toEqual(["2026-01-05T14:31:00.000Z", "2026-01-05T14:35:00.000Z"]);
    expect(events.of("fire:missed")).toMatchObject([{ scheduleId: "m", count: 3, policy: "skip", ran: 0 }]);
    await scheduler.stop();
  });

  it("keeps an emergency pause-all across a restart until resumeAll", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const storage = new MemoryStorage();
    const first = setup({ clock, storage });
    const ran: number[] = [];
    first.scheduler.register("job", (ctx) => {
      ran.push(ctx.fire.scheduledAt);
    });
    await first.scheduler.createSchedule({ id: "s", job: "job", trigger: { every: "10s" } });
    await first.scheduler.start();
    await first.scheduler.pauseAll({ actor: "risk-desk", reason: "broker outage" });
    await clock.advance(60_000);
    expect(ran).toEqual([]);
    await first.scheduler.stop();

    const second = setup({ clock, storage });
    second.scheduler.register("job", (ctx) => {
      ran.push(ctx.fire.scheduledAt);
    });
    await second.scheduler.start();
    expect((await second.scheduler.status()).pausedAll).toBe(true);
    expect(second.scheduler.health().status).toBe("degraded");
    await clock.advance(65_000);
    expect(ran).toEqual([]);
    await expect(second.scheduler.trigger("s")).rejects.toMatchObject({ code: "PAUSED" });
    await second.scheduler.resumeAll({ actor: "risk-desk" });
    await clock.advance(10_000);
    expect(ran).toEqual([Date.parse("2026-01-05T14:32:10Z")]);
    const audit = await storage.listAudit({ actor: "risk-desk", limit: 10 });
    expect(audit.items.map((a) => a.action)).toEqual(["scheduler.resume_all", "scheduler.pause_all"]);
    await second.scheduler.stop();
  });

  it("propagates pause-all to another instance on the same storage", async () => {
    const clock = new TestClock();
    const storage = new MemoryStorage();
    const a = setup({ clock, storage, instanceId: "a" });
    const b = setup({ clock, storage, instanceId: "b" });
    await a.scheduler.start();
    await b.scheduler.start();
    await a.scheduler.pauseAll({ actor: "alice" });
    await clock.flush();
    expect(b.scheduler.pausedAll).toBe(true);
    expect(b.events.of("scheduler:paused-all")).toHaveLength(1);
    await a.scheduler.resumeAll({ actor: "alice" });
    await clock.flush();
    expect(b.scheduler.pausedAll).toBe(false);
    await a.scheduler.stop();
    await b.scheduler.stop();
  });

  it("pauses the whole instance in memory and resumes it", async () => {
    const { clock, scheduler } = setup();
    const ran: number[] = [];
    scheduler.register("job", (ctx) => {
      ran.push(ctx.fire.scheduledAt);
    });
    await scheduler.createSchedule({ id: "s", job: "job", trigger: { every: "1s" }, misfire: "skip" });
    await scheduler.start();
    scheduler.pause();
    expect(scheduler.state).toBe("paused");
    await clock.advance(5500);
    expect(ran).toEqual([]);
    scheduler.resume();
    await clock.advance(1000);
    expect(ran).toEqual([Date.parse("2026-01-05T14:30:06Z")]);
    await scheduler.stop();
  });

  it("waits for running handlers on stop, then aborts the ones that pass the deadline", async () => {
    const { clock, scheduler, events } = setup();
    const quick = deferred();
    let stuckSignal: AbortSignal | null = null;
    scheduler.register("quick", () => quick.promise);
    scheduler.register("stuck", (ctx) => {
      stuckSignal = ctx.signal;
      return new Promise(() => {}); // never settles, ignores its signal
    });
    await scheduler.createSchedule({ id: "q", job: "quick", trigger: { every: "10s" } });
    await scheduler.createSchedule({ id: "s", job: "stuck", trigger: { every: "10s" } });
    await scheduler.start();
    await clock.advance(10_000);
    expect(scheduler.runningCount).toBe(2);
    const stopped = scheduler.stop({ timeoutMs: 5000 });
    await clock.advance(1000);
    quick.resolve();
    await clock.advance(1000);
    expect(scheduler.state).toBe("stopping");
    await clock.advance(3000);
    await stopped;
    expect(scheduler.state).toBe("stopped");
    expect((stuckSignal as AbortSignal | null)?.aborted).toBe(true);
    const statuses = (await scheduler.listExecutions()).items.map((e) => [e.scheduleId, e.status, e.reason]);
    expect(statuses).toEqual(
      expect.arrayContaining([
        ["q", "succeeded", null],
        ["s", "cancelled", "shutdown"],
      ]),
    );
    expect(events.names().at(-1)).toBe("scheduler:stopped");
  });

  it("reports status and health", async () => {
    const { clock, scheduler } = setup({ start: "2026-01-05T14:30:00Z" });
    scheduler.register("ok", () => {});
    scheduler.register("bad", () => {
      throw Object.assign(new Error("nope"), { retryable: false });
    });
    await scheduler.createSchedule({ id: "ok", job: "ok", trigger: { every: "1m" } });
    await scheduler.createSchedule({ id: "bad", job: "bad", trigger: { every: "1m" } });
    expect(scheduler.health().status).toBe("unhealthy");
    await scheduler.start();
    await clock.advance(60_000);
    const status = await scheduler.status();
    expect(status).toMatchObject({
      state: "running",
      instanceId: "instance-a",
      storage: "memory",
      uptimeMs: 60_000,
    });
    expect(status.counters).toMatchObject({ fires: 2, runs: 2, succeeded: 1, failed: 1 });
    const ok = status.schedules.find((s) => s.id === "ok");
    expect(ok).toMatchObject({
      lastStatus: "succeeded",
      lastStartAt: Date.parse("2026-01-05T14:31:00Z"),
      lastSuccessAt: Date.parse("2026-01-05T14:31:00Z"),
      nextFireAt: Date.parse("2026-01-05T14:32:00Z"),
    });
    const health = scheduler.health();
    expect(health.status).toBe("degraded");
    expect(health.reasons).toEqual(["schedule bad: last run failed"]);
    await scheduler.stop();
  });
});
