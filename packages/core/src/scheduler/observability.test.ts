import { describe, expect, it } from "vitest";
import { consoleLogger } from "../logger.js";
import { TestClock } from "../testing/test-clock.js";
import { setup } from "./test-helpers.js";

describe("what the scheduler tells a person", () => {
  it("logs at info what fired, succeeded, was skipped and why, and each schedule's next fire at start; failures at error", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const lines: { level: string; msg: string; [k: string]: unknown }[] = [];
    const logger = consoleLogger({
      level: "info",
      format: "json",
      write: (l) => lines.push(JSON.parse(l)),
      now: () => clock.now(),
    });
    const { scheduler } = setup({ clock, logger });
    scheduler.register("ok", () => {});
    scheduler.register("bad", () => {
      throw Object.assign(new Error("no quote for XYZ"), { retryable: false });
    });
    scheduler.register("slow", () => new Promise<void>((resolve) => clock.setTimeout(resolve, 90_000)));
    await scheduler.createSchedule({ id: "ok", job: "ok", trigger: { every: "1m" } });
    await scheduler.createSchedule({ id: "bad", job: "bad", trigger: { every: "1m" } });
    await scheduler.createSchedule({ id: "slow", job: "slow", trigger: { every: "1m" }, overlap: "skip" });
    await scheduler.createSchedule({ id: "later", job: "ok", trigger: { every: "1m" } });
    await scheduler.pauseSchedule("later");
    await scheduler.start();
    const messages = () => lines.map((l) => `${l.level} ${l.msg}`);
    expect(messages()).toEqual(
      expect.arrayContaining([
        "info ok: next fire 2026-01-05T14:31:00.000Z",
        "info later: no next fire here (paused)",
      ]),
    );
    await clock.advance(120_000);
    expect(messages()).toEqual(
      expect.arrayContaining([
        "info fired ok (scheduled, attempt 1)",
        "info ok succeeded in 0 ms",
        "error bad failed: no quote for XYZ",
        "info skipped slow: overlap",
      ]),
    );
    const fired = lines.find((l) => l.msg.startsWith("fired ok"));
    expect(fired).toMatchObject({
      scheduleId: "ok",
      scheduledAt: "2026-01-05T14:31:00.000Z",
      kind: "scheduled",
    });
    await scheduler.stop({ timeoutMs: 0 });
  });

  it("filters listSchedules by tag, job, enabled and paused", async () => {
    const { scheduler } = setup();
    scheduler.register("scan", () => {});
    scheduler.register("report", () => {});
    await scheduler.createSchedule({
      id: "a",
      job: "scan",
      trigger: { every: "1m" },
      tags: ["us", "equities"],
    });
    await scheduler.createSchedule({
      id: "b",
      job: "scan",
      trigger: { every: "1m" },
      tags: ["eu"],
      enabled: false,
    });
    await scheduler.createSchedule({ id: "c", job: "report", trigger: { every: "1h" }, tags: ["us"] });
    await scheduler.pauseSchedule("c");
    const ids = async (filter: object) => (await scheduler.listSchedules(filter)).map((s) => s.id);
    expect(await ids({})).toEqual(["a", "b", "c"]);
    expect(await ids({ tag: "us" })).toEqual(["a", "c"]);
    expect(await ids({ tag: ["us", "equities"] })).toEqual(["a"]);
    expect(await ids({ job: "scan" })).toEqual(["a", "b"]);
    expect(await ids({ enabled: false })).toEqual(["b"]);
    expect(await ids({ paused: true })).toEqual(["c"]);
    expect(await ids({ job: "scan", enabled: true, tag: "us" })).toEqual(["a"]);
    await expect(scheduler.listSchedules({ colour: "red" } as never)).rejects.toMatchObject({
      field: "colour",
    });
    await expect(scheduler.listSchedules({ paused: "yes" } as never)).rejects.toMatchObject({
      field: "paused",
    });
  });

  it("reports counters per schedule in status()", async () => {
    const { clock, scheduler } = setup({ start: "2026-01-05T14:30:00Z" });
    let calls = 0;
    scheduler.register("flaky", () => {
      calls++;
      if (calls % 2 === 1) throw new Error("try again");
    });
    scheduler.register("ok", () => {});
    await scheduler.createSchedule({
      id: "flaky",
      job: "flaky",
      trigger: { every: "1m" },
      retry: { attempts: 2, backoff: { baseMs: "1s" } },
    });
    await scheduler.createSchedule({ id: "ok", job: "ok", trigger: { every: "1m" } });
    await scheduler.start();
    await clock.advance(3 * 60_000 + 5000);
    const byId = Object.fromEntries((await scheduler.status()).schedules.map((s) => [s.id, s.counters]));
    expect(byId.flaky).toMatchObject({ fires: 3, runs: 3, retries: 3, succeeded: 3, failed: 0 });
    expect(byId.ok).toMatchObject({ fires: 3, runs: 3, retries: 0, succeeded: 3, skipped: 0 });
    await scheduler.stop();
  });

  it("starts a schedule's counters at zero until it fires, again after it is removed and re-created, and keeps them over a second start", async () => {
    const { clock, scheduler } = setup({ start: "2026-01-05T14:30:00Z" });
    scheduler.register("ok", () => {});
    await scheduler.createSchedule({ id: "a", job: "ok", trigger: { every: "1m" } });
    await scheduler.start();
    const statusOf = async () => (await scheduler.status()).schedules.find((s) => s.id === "a");
    expect(await statusOf()).toMatchObject({
      running: 0,
      lastStartAt: null,
      lastEndAt: null,
      lastStatus: null,
      counters: { fires: 0, runs: 0, succeeded: 0 },
    });
    await clock.advance(2 * 60_000 + 1000);
    expect(await statusOf()).toMatchObject({
      lastStatus: "succeeded",
      counters: { fires: 2, runs: 2, succeeded: 2 },
    });
    await scheduler.removeSchedule("a");
    await scheduler.createSchedule({ id: "a", job: "ok", trigger: { every: "1m" } });
    expect((await statusOf())?.counters).toMatchObject({ fires: 0, runs: 0, succeeded: 0 });
    await clock.advance(60_000);
    expect((await statusOf())?.counters).toMatchObject({ fires: 1, runs: 1, succeeded: 1 });
    // Counted since the instance was built: a second start() keeps them.
    await scheduler.stop();
    await scheduler.start();
    expect((await statusOf())?.counters).toMatchObject({ fires: 1, runs: 1, succeeded: 1 });
    await scheduler.stop();
  });
});
