import { describe, expect, it } from "vitest";
import { iso, setup } from "./test-helpers.js";

describe("market-aware schedules", () => {
  it("fires '30 minutes before the close' at 12:30 ET on an early-close day and not on the holiday", async () => {
    const { clock, scheduler } = setup({ start: "2025-11-26T12:00:00Z", leaseMs: 3_600_000 });
    const fired: string[] = [];
    scheduler.register("moc", (ctx) => {
      fired.push(iso(ctx.fire.scheduledAt));
    });
    await scheduler.createSchedule({
      id: "moc",
      job: "moc",
      trigger: { calendar: "XNYS", event: "close", offsetMinutes: -30 },
    });
    await scheduler.start();
    await clock.advanceTo("2025-12-02T00:00:00Z");
    expect(fired).toEqual([
      "2025-11-26T20:30:00.000Z", // Wed 15:30 ET
      // Thu 2025-11-27 Thanksgiving: closed, no fire
      "2025-11-28T17:30:00.000Z", // Fri 12:30 ET: 13:00 early close
      "2025-12-01T20:30:00.000Z", // Mon 15:30 ET
    ]);
    await scheduler.stop();
  });

  it("skips fires outside a session with reason market_closed, recorded and previewed", async () => {
    const { clock, scheduler } = setup({ start: "2025-12-24T17:00:00Z", leaseMs: 3_600_000 });
    const fired: string[] = [];
    scheduler.register("exits", (ctx) => {
      fired.push(iso(ctx.fire.scheduledAt));
    });
    await scheduler.createSchedule({
      id: "exits",
      job: "exits",
      trigger: { cron: "0 * * * *", timezone: "America/New_York" },
      marketHoursOnly: true,
    });
    const preview = await scheduler.preview("exits", { count: 4 });
    expect(preview.map((p) => [p.local, p.skip])).toEqual([
      ["2025-12-24 13:00:00", "market_closed"], // Christmas Eve closes at 13:00: closed at 13:00 sharp
      ["2025-12-24 14:00:00", "market_closed"],
      ["2025-12-24 15:00:00", "market_closed"],
      ["2025-12-24 16:00:00", "market_closed"],
    ]);
    // Paused, every fire says "paused"; the calendar's own reason is still there for once resumed.
    await scheduler.pauseSchedule("exits");
    const paused = await scheduler.preview("exits", { count: 2, from: "2025-12-26T14:30:00Z" });
    expect(paused.map((p) => [p.local, p.skip, p.marketSkip])).toEqual([
      ["2025-12-26 10:00:00", "paused", null],
      ["2025-12-26 11:00:00", "paused", null],
    ]);
    const pausedHoliday = await scheduler.preview("exits", { count: 1, from: "2025-12-25T14:30:00Z" });
    expect(pausedHoliday.map((p) => [p.skip, p.marketSkip])).toEqual([["paused", "market_closed"]]);
    await scheduler.resumeSchedule("exits");
    await scheduler.start();
    await clock.advanceTo("2025-12-26T15:30:00Z"); // through Christmas Day into Friday 10:30 ET
    expect(fired).toEqual(["2025-12-26T15:00:00.000Z"]); // Friday 10:00 ET is the first open hour
    const skipped = (await scheduler.listExecutions({ scheduleId: "exits", status: "skipped", limit: 100 }))
      .items;
    expect(skipped.length).toBeGreaterThan(30);
    expect(skipped.every((e) => e.reason === "market_closed")).toBe(true);
    const christmas = skipped.find((e) => iso(e.scheduledAt) === "2025-12-25T15:00:00.000Z");
    expect(christmas?.details).toMatchObject({ calendar: "XNYS", date: "2025-12-25" });
    await scheduler.stop();
  });

  it("rejects an unknown calendar naming the field", async () => {
    const { scheduler } = setup();
    scheduler.register("j", () => {});
    await expect(
      scheduler.createSchedule({ id: "x", job: "j", trigger: { calendar: "XMARS", event: "open" } }),
    ).rejects.toMatchObject({ field: "trigger.calendar" });
    await expect(
      scheduler.createSchedule({
        id: "y",
        job: "j",
        trigger: { every: "1m" },
        marketHoursOnly: true,
        calendar: "XMARS",
      }),
    ).rejects.toMatchObject({ field: "calendar" });
  });
});
