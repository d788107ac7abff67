import { createCalendar, XNYS_DEFINITION } from "@tradecron/core";
import { afterEach, describe, expect, it } from "vitest";
import { diffCalendars } from "../src/index.js";
import { fakeAndBroker } from "./helpers.js";

let close: () => Promise<void> = async () => {};
afterEach(() => close());

describe("Alpaca's calendar against core's XNYS", () => {
  it("reports a closure and shortened hours Alpaca knows of, and turns them into overrides", async () => {
    const ctx = await fakeAndBroker();
    close = ctx.close;
    const { fake, broker } = ctx;
    // Alpaca learned of a day of mourning and an early close that core's data does not have.
    fake.calendar.addClosure("2026-03-04", "National Day of Mourning");
    fake.calendar.addEarlyClose("2026-03-05", "13:00", "weather");
    fake.calendar.addLateOpen("2026-03-06", "10:30", "systems");
    await broker.connect();
    const mine = createCalendar(XNYS_DEFINITION); // a private copy: the registry's XNYS stays as it is
    const range = { start: "2026-03-01", end: "2026-03-31" };
    const differences = await broker.compareCalendar(mine, range);
    expect(differences).toEqual([
      {
        date: "2026-03-04",
        kind: "alpaca_closed",
        alpaca: null,
        calendar: { open: "09:30", close: "16:00" },
        overrides: [{ kind: "closure", date: "2026-03-04" }],
      },
      {
        date: "2026-03-05",
        kind: "hours_differ",
        alpaca: { open: "09:30", close: "13:00" },
        calendar: { open: "09:30", close: "16:00" },
        overrides: [{ kind: "early_close", date: "2026-03-05", time: "13:00" }],
      },
      {
        date: "2026-03-06",
        kind: "hours_differ",
        alpaca: { open: "10:30", close: "16:00" },
        calendar: { open: "09:30", close: "16:00" },
        overrides: [{ kind: "late_open", date: "2026-03-06", time: "10:30" }],
      },
    ]);
    expect(await broker.compareCalendar(mine, { ...range, apply: true })).toHaveLength(3);
    expect(await broker.compareCalendar(mine, range)).toEqual([]);
    expect(mine.isSession("2026-03-04")).toBe(false);
    // The whole of 2025 agrees, the mourning day for President Carter (2025-01-09) included.
    expect(await broker.compareCalendar(mine, { start: "2025-01-01", end: "2025-12-31" })).toEqual([]);
    await expect(
      broker.compareCalendar(mine, { start: "2026-02-01", end: "2026-01-01" }),
    ).rejects.toMatchObject({
      field: "range.end",
    });
  });

  it("says when Alpaca trades on a day the calendar is closed (no override can fix that)", () => {
    const cal = createCalendar(XNYS_DEFINITION);
    const d = diffCalendars(
      [{ date: "2026-01-01", open: "09:30", close: "16:00" }],
      cal,
      "2026-01-01",
      "2026-01-01",
    );
    expect(d).toEqual([
      {
        date: "2026-01-01",
        kind: "calendar_closed",
        alpaca: { open: "09:30", close: "16:00" },
        calendar: null,
        overrides: [],
      },
    ]);
  });
});
