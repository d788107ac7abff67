import { afterEach, describe, expect, it } from "vitest";
import { ConflictError, ValidationError } from "../errors.js";
import { nextFires } from "../triggers/compile.js";
import { fixedDate } from "./holiday-rules.js";
import { marketTrigger } from "./market-trigger.js";
import { getCalendar, hasCalendar, listCalendars, registerCalendar } from "./registry.js";
import { createCalendar } from "./rule-calendar.js";

const nyse = getCalendar("XNYS");
const iso = (t: number) => new Date(t).toISOString();

afterEach(() => {
  for (const o of nyse.overrides()) nyse.removeOverride(o.date);
});

/** The field named by the ValidationError `fn` throws. */
function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).field;
  }
  throw new Error("expected a ValidationError");
}

describe("an unscheduled closure added at run time", () => {
  it("removes the session everywhere: isSession, isOpen, navigation, lists and triggers", () => {
    nyse.addClosure("2026-03-16", "Exchange systems outage");
    expect(nyse.isSession("2026-03-16")).toBe(false);
    expect(nyse.isOpen("2026-03-16T15:00:00Z")).toBe(false);
    expect(nyse.dayInfo("2026-03-16")).toMatchObject({ session: null, reason: "Exchange systems outage" });
    expect(nyse.nextSession("2026-03-13")?.date).toBe("2026-03-17");
    expect(nyse.addSessions("2026-03-13", 1)).toBe("2026-03-17");
    expect(nyse.nextOpen("2026-03-13T21:00:00Z")?.toISOString()).toBe("2026-03-17T13:30:00.000Z");
    expect(nyse.sessionsBetween("2026-03-16", "2026-03-17").map((s) => s.date)).toEqual(["2026-03-17"]);
    const trigger = marketTrigger({ calendar: "XNYS", event: "open", offsetMinutes: 10 });
    expect(iso(trigger.next(Date.parse("2026-03-14T00:00:00Z")) as number)).toBe("2026-03-17T13:40:00.000Z");
  });

  it("is listed, can be removed, and then the day is a session again", () => {
    nyse.addClosure("2026-03-16", "Outage");
    expect(nyse.overrides()).toEqual([{ date: "2026-03-16", kind: "closure", reason: "Outage" }]);
    expect(nyse.removeOverride("2026-03-16")).toBe(true);
    expect(nyse.removeOverride("2026-03-16")).toBe(false);
    expect(nyse.isSession("2026-03-16")).toBe(true);
    expect(nyse.overrides()).toEqual([]);
  });

  it("is shared by every alias of the calendar", () => {
    getCalendar("NASDAQ").addClosure("2026-03-16", "National Day of Mourning");
    expect(nyse.isSession("2026-03-16")).toBe(false);
    expect(getCalendar("nyse").isSession("2026-03-16")).toBe(false);
  });

  it("is idempotent when announced twice", () => {
    nyse.addClosure("2026-03-16", "Outage");
    nyse.addClosure("2026-03-16", "Outage (confirmed)");
    expect(nyse.overrides()).toEqual([{ date: "2026-03-16", kind: "closure", reason: "Outage (confirmed)" }]);
  });
});

describe("an early close or late open added at run time", () => {
  it("moves the close, so 30 minutes before the close fires at 12:30", () => {
    nyse.addEarlyClose("2026-03-16", "13:00", "Early close announced today");
    expect(nyse.session("2026-03-16")).toMatchObject({
      close: new Date("2026-03-16T17:00:00Z"), // 13:00 EDT
      earlyClose: true,
      lateOpen: false,
    });
    expect(nyse.isOpen("2026-03-16T17:00:00Z")).toBe(false);
    expect(nyse.dayInfo("2026-03-16").reason).toBe("Early close announced today");
    const trigger = marketTrigger({ calendar: "XNYS", event: "close", offsetMinutes: -30 });
    expect(nextFires(trigger, Date.parse("2026-03-16T00:00:00Z"), 2).map(iso)).toEqual([
      "2026-03-16T16:30:00.000Z",
      "2026-03-17T19:30:00.000Z",
    ]);
  });

  it("moves the open, and can combine with an early close", () => {
    nyse.addLateOpen("2026-03-17", "10:30", "Late open: snow");
    nyse.addEarlyClose("2026-03-17", "14:00", "Early close: snow");
    expect(nyse.session("2026-03-17")).toMatchObject({
      open: new Date("2026-03-17T14:30:00Z"),
      close: new Date("2026-03-17T18:00:00Z"),
      earlyClose: true,
      lateOpen: true,
    });
    expect(nyse.overrides().map((o) => `${o.kind} ${o.time}`)).toEqual([
      "late_open 10:30",
      "early_close 14:00",
    ]);
  });

  it("shortens a scheduled early close further", () => {
    nyse.addEarlyClose("2026-11-27", "12:00", "Shortened again");
    expect(nyse.session("2026-11-27")?.close.toISOString()).toBe("2026-11-27T17:00:00.000Z"); // 12:00 EST
  });

  it("replaces a closure of the same day when announced after it", () => {
    nyse.addClosure("2026-03-16", "Storm");
    nyse.addEarlyClose("2026-03-16", "13:00", "Storm: reopened, closing early");
    expect(nyse.isSession("2026-03-16")).toBe(true);
    expect(nyse.overrides()).toHaveLength(1);
  });
});

describe("invalid overrides are rejected naming the field", () => {
  it("rejects malformed or out-of-range dates", () => {
    expect(fieldOf(() => nyse.addClosure("2026-3-16", "x"))).toBe("date");
    expect(fieldOf(() => nyse.addClosure("2101-03-16", "x"))).toBe("date");
  });

  it("rejects days that are not sessions, saying why", () => {
    expect(() => nyse.addClosure("2026-03-14", "x")).toThrow(/weekend/);
    expect(() => nyse.addEarlyClose("2026-04-03", "13:00", "x")).toThrow(/Good Friday/);
    expect(fieldOf(() => nyse.addLateOpen("2026-12-25", "10:00", "x"))).toBe("date");
  });

  it("rejects times that are malformed or outside the session", () => {
    expect(fieldOf(() => nyse.addEarlyClose("2026-03-16", "25:00", "x"))).toBe("closeTime");
    expect(fieldOf(() => nyse.addEarlyClose("2026-03-16", "1pm", "x"))).toBe("closeTime");
    expect(fieldOf(() => nyse.addEarlyClose("2026-03-16", "16:30", "x"))).toBe("closeTime");
    expect(fieldOf(() => nyse.addEarlyClose("2026-03-16", "09:00", "x"))).toBe("closeTime");
    expect(fieldOf(() => nyse.addLateOpen("2026-03-16", "09:00", "x"))).toBe("openTime");
    nyse.addEarlyClose("2026-03-16", "12:00", "x");
    expect(fieldOf(() => nyse.addLateOpen("2026-03-16", "12:30", "x"))).toBe("openTime");
  });

  it("requires a reason", () => {
    expect(fieldOf(() => nyse.addClosure("2026-03-16", "  "))).toBe("reason");
    expect(fieldOf(() => nyse.addClosure("2026-03-16", undefined as unknown as string))).toBe("reason");
    expect(nyse.overrides()).toEqual([]);
  });
});

describe("the calendar registry", () => {
  it("resolves built-in codes and aliases case-insensitively", () => {
    expect(getCalendar("xnys")).toBe(nyse);
    expect(getCalendar("XNAS")).toBe(nyse);
    expect(getCalendar(" Nasdaq ")).toBe(nyse);
    expect(getCalendar("LSE").code).toBe("XLON");
    expect(hasCalendar("NYSE")).toBe(true);
    expect(hasCalendar("MARS")).toBe(false);
  });

  it("rejects an unknown code with a ValidationError naming the field", () => {
    expect(fieldOf(() => getCalendar("MARS"))).toBe("code");
    expect(fieldOf(() => getCalendar(42 as unknown as string))).toBe("code");
    expect(() => getCalendar("MARS")).toThrow(/known: .*XNYS/);
  });

  it("registers a custom calendar from a definition and lists it", () => {
    const tokyo = registerCalendar(
      {
        code: "xtst",
        name: "Test exchange",
        timezone: "Asia/Tokyo",
        hours: [{ from: "1990-01-01", open: "09:00", close: "15:00" }],
        holidays: [
          {
            name: "New Year's Day",
            firstYear: 1990,
            lastYear: null,
            date: fixedDate(1, 1),
            observance: "none",
          },
        ],
        specialDays: [{ date: "2026-03-16", kind: "closed", reason: "Test closure" }],
      },
      { aliases: ["TST"] },
    );
    expect(getCalendar("tst")).toBe(tokyo);
    expect(tokyo.code).toBe("XTST");
    expect(tokyo.session("2026-03-17")).toMatchObject({
      open: new Date("2026-03-17T00:00:00Z"),
      close: new Date("2026-03-17T06:00:00Z"),
    });
    expect(tokyo.isSession("2026-01-01")).toBe(false);
    expect(tokyo.dayInfo("2026-03-16").reason).toBe("Test closure");
    expect(tokyo.dataVersion).toBe("custom");
    expect(listCalendars().find((c) => c.code === "XTST")).toMatchObject({
      aliases: ["TST"],
      timezone: "Asia/Tokyo",
    });
    expect(listCalendars().find((c) => c.code === "XNYS")?.aliases).toEqual(["NASDAQ", "NYSE", "XNAS"]);
  });

  it("refuses to register over an existing code unless asked to replace it", () => {
    const definition = {
      code: "XDUP",
      name: "Duplicate",
      timezone: "UTC",
      hours: [{ from: "1990-01-01", open: "10:00", close: "11:00" }],
    };
    registerCalendar(definition);
    expect(() => registerCalendar(definition)).toThrow(ConflictError);
    expect(() => registerCalendar({ ...definition, code: "XDUP2" }, { aliases: ["NYSE"] })).toThrow(
      ConflictError,
    );
    const replaced = registerCalendar(createCalendar({ ...definition, name: "Replaced" }), { replace: true });
    expect(getCalendar("XDUP")).toBe(replaced);
  });

  it("rejects an invalid definition naming the field", () => {
    const base = {
      code: "XBAD",
      name: "Bad",
      timezone: "UTC",
      hours: [{ from: "1990-01-01", open: "10:00", close: "11:00" }],
    };
    expect(fieldOf(() => registerCalendar({ ...base, timezone: "Mars/Olympus" }))).toBe("timezone");
    expect(fieldOf(() => registerCalendar({ ...base, code: "x" }))).toBe("code");
    expect(
      fieldOf(() =>
        registerCalendar({ ...base, hours: [{ from: "1990-01-01", open: "11:00", close: "10:00" }] }),
      ),
    ).toBe("hours.0.close");
    expect(
      fieldOf(() =>
        registerCalendar({ ...base, hours: [{ from: "2000-01-01", open: "10:00", close: "11:00" }] }),
      ),
    ).toBe("hours.0.from");
    expect(fieldOf(() => registerCalendar({ ...base, weekdays: [7] }))).toBe("weekdays.0");
    expect(hasCalendar("XBAD")).toBe(false);
  });

  it("observes substitute days on a calendar whose weekend is Friday and Saturday", () => {
    const gulf = createCalendar({
      code: "XGLF",
      name: "Sunday-Thursday exchange",
      timezone: "Asia/Dubai",
      weekdays: [0, 1, 2, 3, 4],
      hours: [{ from: "1990-01-01", open: "10:00", close: "14:00" }],
      holidays: [
        {
          name: "Test Day",
          firstYear: 1990,
          lastYear: null,
          date: fixedDate(3, 13),
          observance: "next_free_weekday",
        },
      ],
    });
    // 2026-03-13 is a Friday (weekend there): observed on Sunday the 15th.
    expect(gulf.isSession("2026-03-15")).toBe(false);
    expect(gulf.dayInfo("2026-03-15").reason).toBe("Test Day (observed)");
    expect(gulf.isSession("2026-03-16")).toBe(true);
  });
});
