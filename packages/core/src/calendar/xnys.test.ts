import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { calendarDefinitionSchema } from "./calendar-definition.js";
import { getCalendar } from "./registry.js";
import { SPECIAL_DAYS_DATA_VERSION, XNYS_SPECIAL_DAYS } from "./special-days.js";
import { XNYS_DEFINITION, XNYS_EARLY_CLOSES, XNYS_HOLIDAYS } from "./xnys.js";

const nyse = getCalendar("XNYS");

/** Weekdays of `year` on which the calendar has no session. */
function closedWeekdays(year: number): string[] {
  const out: string[] = [];
  for (let t = Date.UTC(year, 0, 1); t <= Date.UTC(year, 11, 31); t += 86_400_000) {
    const d = new Date(t);
    const date = d.toISOString().slice(0, 10);
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6 && !nyse.isSession(date)) out.push(date);
  }
  return out;
}

/** Sessions of `year` that close early, as 'date HH:MM' in New York time. */
function earlyCloses(year: number): string[] {
  return nyse
    .sessionsBetween(`${year}-01-01`, `${year}-12-31`)
    .filter((s) => s.earlyClose)
    .map((s) => `${s.date} ${nyTime(s.close)}`);
}

function nyTime(d: Date): string {
  return d.toLocaleTimeString("en-GB", { timeZone: "America/New_York", hour: "2-digit", minute: "2-digit" });
}

// Full-day closures as NYSE published them (NYSE "Holidays & Trading Hours"; ICE press release of
// 2024-11-08 for 2025-2027), including the days of mourning that fell in these years.
const PUBLISHED_HOLIDAYS: Record<number, string[]> = {
  2018: ["01-01", "01-15", "02-19", "03-30", "05-28", "07-04", "09-03", "11-22", "12-05", "12-25"],
  2019: ["01-01", "01-21", "02-18", "04-19", "05-27", "07-04", "09-02", "11-28", "12-25"],
  2020: ["01-01", "01-20", "02-17", "04-10", "05-25", "07-03", "09-07", "11-26", "12-25"],
  2021: ["01-01", "01-18", "02-15", "04-02", "05-31", "07-05", "09-06", "11-25", "12-24"],
  2022: ["01-17", "02-21", "04-15", "05-30", "06-20", "07-04", "09-05", "11-24", "12-26"],
  2023: ["01-02", "01-16", "02-20", "04-07", "05-29", "06-19", "07-04", "09-04", "11-23", "12-25"],
  2024: ["01-01", "01-15", "02-19", "03-29", "05-27", "06-19", "07-04", "09-02", "11-28", "12-25"],
  2025: ["01-01", "01-09", "01-20", "02-17", "04-18", "05-26", "06-19", "07-04", "09-01", "11-27", "12-25"],
  2026: ["01-01", "01-19", "02-16", "04-03", "05-25", "06-19", "07-03", "09-07", "11-26", "12-25"],
  2027: ["01-01", "01-18", "02-15", "03-26", "05-31", "06-18", "07-05", "09-06", "11-25", "12-24"],
};

// Early closes (13:00 ET) as NYSE published them.
const PUBLISHED_EARLY_CLOSES: Record<number, string[]> = {
  2018: ["07-03", "11-23", "12-24"],
  2019: ["07-03", "11-29", "12-24"],
  2020: ["11-27", "12-24"],
  2021: ["11-26"],
  2022: ["11-25"],
  2023: ["07-03", "11-24"],
  2024: ["07-03", "11-29", "12-24"],
  2025: ["07-03", "11-28", "12-24"],
  2026: ["11-27", "12-24"],
  2027: ["11-26"],
};

describe("XNYS holidays 2018-2027 match NYSE's published calendars", () => {
  for (const [year, days] of Object.entries(PUBLISHED_HOLIDAYS)) {
    it(`closes on exactly the published weekdays of ${year}`, () => {
      expect(closedWeekdays(Number(year))).toEqual(days.map((d) => `${year}-${d}`));
    });
  }
});

describe("XNYS early closes 2018-2027 match NYSE's published calendars", () => {
  for (const [year, days] of Object.entries(PUBLISHED_EARLY_CLOSES)) {
    it(`closes at 13:00 ET on exactly the published days of ${year}`, () => {
      expect(earlyCloses(Number(year))).toEqual(days.map((d) => `${year}-${d} 13:00`));
    });
  }

  it("counts the published number of trading days per year", () => {
    const counts = [2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025].map(
      (y) => nyse.sessionsBetween(`${y}-01-01`, `${y}-12-31`).length,
    );
    expect(counts).toEqual([251, 252, 253, 252, 251, 250, 252, 250]);
  });
});

describe("XNYS special closures since 1990", () => {
  const closures: [string, RegExp][] = [
    ["1994-04-27", /Nixon/],
    ["2001-09-11", /September 11/],
    ["2001-09-12", /September 11/],
    ["2001-09-13", /September 11/],
    ["2001-09-14", /September 11/],
    ["2004-06-11", /Reagan/],
    ["2007-01-02", /Ford/],
    ["2012-10-29", /Sandy/],
    ["2012-10-30", /Sandy/],
    ["2018-12-05", /Bush/],
    ["2025-01-09", /Carter/],
  ];
  for (const [date, reason] of closures) {
    it(`is closed on ${date} and says why`, () => {
      expect(nyse.isSession(date)).toBe(false);
      expect(nyse.dayInfo(date).reason).toMatch(reason);
    });
  }

  it("reopened after 9/11 on Monday 2001-09-17, two minutes late", () => {
    expect(nyse.nextSession("2001-09-10")?.date).toBe("2001-09-17");
    const s = nyse.session("2001-09-17");
    expect(s && nyTime(s.open)).toBe("09:33");
    expect(s?.lateOpen).toBe(true);
  });

  it("has no other full-day closure on a weekday since 1990 than the rules and the table", () => {
    // Every closed weekday 1990-2027 carries a reason from a holiday rule or the one-off table.
    for (let y = 1990; y <= 2027; y++) {
      for (const date of closedWeekdays(y)) expect(nyse.dayInfo(date).reason).not.toBeNull();
    }
  });

  it("carries the data version of its one-off table", () => {
    expect(nyse.dataVersion).toBe(SPECIAL_DAYS_DATA_VERSION);
    expect(nyse.dataVersion).toMatch(/^\d{4}\.\d+$/);
  });
});

describe("XNYS observance rules", () => {
  it("does not observe a Saturday New Year's Day on the Friday before (NYSE Rule 7.2)", () => {
    // 2022-01-01, 2011-01-01, 2005-01-01, 2000-01-01 and 1994-01-01 were Saturdays.
    for (const date of ["2021-12-31", "2010-12-31", "2004-12-31", "1999-12-31", "1993-12-31"]) {
      expect(nyse.isSession(date)).toBe(true);
    }
    expect(nyse.session("2021-12-31")?.earlyClose).toBe(false);
  });

  it("observes a Sunday New Year's Day on the Monday after", () => {
    expect(nyse.isSession("2017-01-02")).toBe(false);
    expect(nyse.isSession("2023-01-02")).toBe(false);
    expect(nyse.dayInfo("2023-01-02").reason).toBe("New Year's Day (observed)");
  });

  it("observes Saturday July 4th and Christmas on Friday, Sunday ones on Monday", () => {
    expect(nyse.isSession("2020-07-03")).toBe(false);
    expect(nyse.isSession("2021-07-05")).toBe(false);
    expect(nyse.isSession("2021-12-24")).toBe(false);
    expect(nyse.isSession("2022-12-26")).toBe(false);
    expect(nyse.isSession("1999-12-24")).toBe(false);
  });

  it("closes for Juneteenth from 2022 only, with weekend observance", () => {
    expect(nyse.isSession("2021-06-18")).toBe(true); // federal holiday observed, NYSE open
    expect(nyse.isSession("2022-06-20")).toBe(false); // Sunday 19th -> Monday
    expect(nyse.isSession("2027-06-18")).toBe(false); // Saturday 19th -> Friday
  });

  it("closes for Martin Luther King, Jr. Day from 1998 only", () => {
    expect(nyse.isSession("1997-01-20")).toBe(true);
    expect(nyse.isSession("1998-01-19")).toBe(false);
  });

  it("closes on Good Friday every year, though it is not a federal holiday", () => {
    for (const date of ["1990-04-13", "2010-04-02", "2015-04-03", "2100-03-26"]) {
      expect(nyse.dayInfo(date).reason).toBe("Good Friday");
    }
  });
});

describe("XNYS early-close conditions and history", () => {
  const close = (date: string) => {
    const s = nyse.session(date);
    return s ? nyTime(s.close) : "closed";
  };

  it("closes early on the weekday before July 4th only when July 4th falls Tuesday to Friday", () => {
    expect(close("2017-07-03")).toBe("13:00"); // Mon, July 4th Tuesday
    expect(close("2018-07-03")).toBe("13:00"); // Tue, July 4th Wednesday
    expect(close("2024-07-03")).toBe("13:00"); // Wed, July 4th Thursday (since 2013)
    expect(close("2025-07-03")).toBe("13:00"); // Thu, July 4th Friday
    expect(close("2020-07-02")).toBe("16:00"); // July 4th Saturday: no early close
    expect(close("2021-07-02")).toBe("16:00"); // July 4th Sunday
    expect(close("2022-07-01")).toBe("16:00"); // July 4th Monday
    expect(close("2026-07-02")).toBe("16:00"); // July 4th Saturday
  });

  it("closed early on the Friday after a Thursday July 4th until 2012, the Wednesday before since 2013", () => {
    expect(close("1996-07-05")).toBe("13:00");
    expect(close("2002-07-05")).toBe("13:00");
    expect(close("2002-07-03")).toBe("16:00");
    expect(close("2013-07-03")).toBe("13:00");
    expect(close("2013-07-05")).toBe("16:00");
    expect(close("2019-07-05")).toBe("16:00");
  });

  it("had no July 3rd early close before 1995", () => {
    expect(close("1990-07-03")).toBe("16:00");
    expect(close("1995-07-03")).toBe("13:00");
  });

  it("closed at 14:00 before 1993 and at 13:00 since", () => {
    expect(close("1990-12-24")).toBe("14:00");
    expect(close("1992-11-27")).toBe("14:00");
    expect(close("1992-12-24")).toBe("14:00");
    expect(close("1993-11-26")).toBe("13:00");
    expect(close("1996-12-24")).toBe("13:00");
    expect(close("1991-11-29")).toBe("16:00"); // day after Thanksgiving before 1992: full day
  });

  it("closed at 13:00 on New Year's Eve 1999, by the NYSE board's decision", () => {
    expect(close("1999-12-31")).toBe("13:00");
    expect(nyse.session("1999-12-31")?.earlyClose).toBe(true);
    expect(nyse.dayInfo("1999-12-31").reason).toMatch(/New Year's Eve 1999/);
    expect(close("2004-12-31")).toBe("16:00"); // other Fridays before a Saturday New Year: full days
  });

  it("closed early on the Friday after a Thursday Christmas in 1997 and 2003 only", () => {
    expect(close("1997-12-26")).toBe("13:00");
    expect(close("2003-12-26")).toBe("13:00");
    expect(close("2008-12-26")).toBe("16:00");
    expect(close("2014-12-26")).toBe("16:00");
    expect(close("2025-12-26")).toBe("16:00");
  });

  it("keeps the historical irregular sessions of the NYSE closings history", () => {
    expect(close("1997-10-27")).toBe("15:30"); // circuit breaker
    expect(close("1994-02-11")).toBe("14:30"); // snowstorm
    const blizzard = nyse.session("1996-01-08");
    expect(blizzard && [nyTime(blizzard.open), nyTime(blizzard.close)]).toEqual(["11:00", "14:00"]);
    expect(nyse.session("2002-09-11")?.open.toISOString()).toBe("2002-09-11T16:00:00.000Z"); // 12:00 EDT
  });
});

describe("XNYS hours and instants", () => {
  it("opens 09:30-16:00 New York time on both sides of a clock change", () => {
    expect(nyse.session("2025-03-07")).toMatchObject({
      open: new Date("2025-03-07T14:30:00Z"),
      close: new Date("2025-03-07T21:00:00Z"),
      earlyClose: false,
      lateOpen: false,
    });
    expect(nyse.session("2025-03-10")).toMatchObject({
      open: new Date("2025-03-10T13:30:00Z"),
      close: new Date("2025-03-10T20:00:00Z"),
    });
    expect(nyse.session("1990-01-02")?.open.toISOString()).toBe("1990-01-02T14:30:00.000Z");
  });

  it("is open from the open (inclusive) to the close (exclusive)", () => {
    expect(nyse.isOpen("2025-03-10T13:29:59.999Z")).toBe(false);
    expect(nyse.isOpen("2025-03-10T13:30:00Z")).toBe(true);
    expect(nyse.isOpen(Date.parse("2025-03-10T19:59:59.999Z"))).toBe(true);
    expect(nyse.isOpen(new Date("2025-03-10T20:00:00Z"))).toBe(false);
  });

  it("is closed after 13:00 on an early-close day and all day on a holiday", () => {
    expect(nyse.isOpen("2025-11-28T17:59:00Z")).toBe(true);
    expect(nyse.isOpen("2025-11-28T18:00:00Z")).toBe(false);
    expect(nyse.isOpen("2025-11-27T16:00:00Z")).toBe(false);
  });

  it("finds the next open and close across a holiday weekend", () => {
    // Friday 2025-04-18 is Good Friday.
    expect(nyse.nextOpen("2025-04-17T21:00:00Z")?.toISOString()).toBe("2025-04-21T13:30:00.000Z");
    expect(nyse.nextClose("2025-04-17T15:00:00Z")?.toISOString()).toBe("2025-04-17T20:00:00.000Z");
    expect(nyse.nextClose("2025-04-17T20:00:00Z")?.toISOString()).toBe("2025-04-21T20:00:00.000Z");
    expect(nyse.nextOpen("2025-04-21T13:30:00Z")?.toISOString()).toBe("2025-04-22T13:30:00.000Z");
  });

  it("returns null past the last date it knows", () => {
    expect(nyse.nextOpen("2100-12-31T21:00:00Z")).toBeNull();
    expect(nyse.nextSession("2100-12-31")).toBeNull();
    expect(nyse.previousSession("1990-01-02")).toBeNull();
  });
});

describe("XNYS sessions and trading-day arithmetic", () => {
  it("walks to the previous and next session over holidays", () => {
    expect(nyse.nextSession("2025-12-24")?.date).toBe("2025-12-26");
    expect(nyse.previousSession("2025-12-26")?.date).toBe("2025-12-24");
    expect(nyse.previousSession("2025-01-21")?.date).toBe("2025-01-17");
    expect(nyse.nextSession("2025-12-27")?.date).toBe("2025-12-29");
  });

  it("adds and subtracts sessions across year boundaries", () => {
    expect(nyse.addSessions("2025-12-30", 1)).toBe("2025-12-31");
    expect(nyse.addSessions("2025-12-30", 2)).toBe("2026-01-02");
    expect(nyse.addSessions("2026-01-02", -2)).toBe("2025-12-30");
    expect(nyse.addSessions("2025-12-27", 1)).toBe("2025-12-29"); // from a weekend
    expect(nyse.addSessions("2025-12-27", -1)).toBe("2025-12-26");
    expect(nyse.addSessions("2025-01-02", 250)).toBe("2026-01-02");
    expect(nyse.addSessions("2026-01-02", -250)).toBe("2025-01-02");
    expect(nyse.addSessions("2025-06-02", 0)).toBe("2025-06-02");
    expect(nyse.addSessions("2100-12-30", 5)).toBeNull();
  });

  it("lists sessions between two dates, both inclusive", () => {
    const week = nyse.sessionsBetween("2025-11-24", "2025-11-30").map((s) => s.date);
    expect(week).toEqual(["2025-11-24", "2025-11-25", "2025-11-26", "2025-11-28"]);
    expect(nyse.sessionsBetween("2025-11-27", "2025-11-27")).toEqual([]);
  });

  it("has a plausible number of sessions in every year 1990-2100 and none on a weekend", () => {
    const odd: string[] = [];
    for (let y = 1990; y <= 2100; y++) {
      const sessions = nyse.sessionsBetween(`${y}-01-01`, `${y}-12-31`);
      // 2001 lost four days to 9/11; every other year has 249-254 sessions.
      if (sessions.length < (y === 2001 ? 248 : 249) || sessions.length > 254)
        odd.push(`${y}: ${sessions.length}`);
      for (const s of sessions) {
        const weekday = new Date(`${s.date}T12:00:00Z`).getUTCDay();
        if (weekday === 0 || weekday === 6) odd.push(`${s.date} is a weekend session`);
      }
    }
    expect(odd).toEqual([]);
  });
});

describe("XNYS data tables", () => {
  it("passes the definition schema", () => {
    expect(() => calendarDefinitionSchema.parse(XNYS_DEFINITION)).not.toThrow();
  });

  it("lists each one-off day once, in date order, on a weekday", () => {
    const dates = XNYS_SPECIAL_DAYS.map((d) => d.date);
    expect([...new Set(dates)].sort()).toEqual(dates);
    for (const date of dates) expect([0, 6], date).not.toContain(new Date(`${date}T12:00:00Z`).getUTCDay());
  });

  it("gives every rule a first year and a name", () => {
    for (const rule of [...XNYS_HOLIDAYS, ...XNYS_EARLY_CLOSES]) {
      expect(rule.name.length).toBeGreaterThan(0);
      expect(rule.firstYear).toBeLessThanOrEqual(rule.lastYear ?? 9999);
    }
  });
});

describe("XNYS input validation", () => {
  const fieldOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return (error as ValidationError).field;
    }
    throw new Error("expected a ValidationError");
  };

  it("rejects malformed and impossible dates naming the field", () => {
    expect(fieldOf(() => nyse.isSession("2025-02-30"))).toBe("date");
    expect(fieldOf(() => nyse.session("20250101"))).toBe("date");
    expect(fieldOf(() => nyse.session(20250101 as unknown as string))).toBe("date");
    expect(fieldOf(() => nyse.sessionsBetween("2025-01-01", "2025-13-01"))).toBe("to");
    expect(fieldOf(() => nyse.sessionsBetween("2025-02-01", "2025-01-01"))).toBe("to");
  });

  it("rejects dates and instants outside 1990-2100", () => {
    expect(fieldOf(() => nyse.isSession("1989-12-29"))).toBe("date");
    expect(fieldOf(() => nyse.isSession("2101-01-03"))).toBe("date");
    expect(fieldOf(() => nyse.isOpen("1985-01-02T15:00:00Z"))).toBe("instant");
  });

  it("rejects instants without a zone and non-integer session counts", () => {
    expect(fieldOf(() => nyse.isOpen("2025-03-10T14:00:00"))).toBe("instant");
    expect(fieldOf(() => nyse.isOpen(Number.NaN))).toBe("instant");
    expect(fieldOf(() => nyse.nextOpen("tomorrow"))).toBe("after");
    expect(fieldOf(() => nyse.addSessions("2025-06-02", 1.5))).toBe("n");
    expect(fieldOf(() => nyse.addSessions("2025-06-01", 0))).toBe("date");
  });
});
