import { describe, expect, it } from "vitest";
import { calendarDefinitionSchema } from "./calendar-definition.js";
import { getCalendar } from "./registry.js";
import { XLON_SPECIAL_DAYS } from "./special-days.js";
import { XLON_DEFINITION } from "./xlon.js";

const lse = getCalendar("XLON");

function closedWeekdays(year: number): string[] {
  const out: string[] = [];
  for (let t = Date.UTC(year, 0, 1); t <= Date.UTC(year, 11, 31); t += 86_400_000) {
    const d = new Date(t);
    const date = d.toISOString().slice(0, 10);
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6 && !lse.isSession(date)) out.push(date);
  }
  return out;
}

function londonTime(d: Date): string {
  return d.toLocaleTimeString("en-GB", { timeZone: "Europe/London", hour: "2-digit", minute: "2-digit" });
}

// England and Wales bank holidays as proclaimed (gov.uk "UK bank holidays"), substitute days included.
const BANK_HOLIDAYS: Record<number, string[]> = {
  2018: ["01-01", "03-30", "04-02", "05-07", "05-28", "08-27", "12-25", "12-26"],
  2019: ["01-01", "04-19", "04-22", "05-06", "05-27", "08-26", "12-25", "12-26"],
  2020: ["01-01", "04-10", "04-13", "05-08", "05-25", "08-31", "12-25", "12-28"],
  2021: ["01-01", "04-02", "04-05", "05-03", "05-31", "08-30", "12-27", "12-28"],
  2022: ["01-03", "04-15", "04-18", "05-02", "06-02", "06-03", "08-29", "09-19", "12-26", "12-27"],
  2023: ["01-02", "04-07", "04-10", "05-01", "05-08", "05-29", "08-28", "12-25", "12-26"],
  2024: ["01-01", "03-29", "04-01", "05-06", "05-27", "08-26", "12-25", "12-26"],
  2025: ["01-01", "04-18", "04-21", "05-05", "05-26", "08-25", "12-25", "12-26"],
  2026: ["01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"],
  2027: ["01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28"],
};

describe("XLON bank holidays 2018-2027", () => {
  for (const [year, days] of Object.entries(BANK_HOLIDAYS)) {
    it(`closes on exactly the England and Wales bank holidays of ${year}`, () => {
      expect(closedWeekdays(Number(year))).toEqual(days.map((d) => `${year}-${d}`));
    });
  }

  it("names substitute days", () => {
    expect(lse.dayInfo("2021-12-27").reason).toBe("Christmas Day (observed)");
    expect(lse.dayInfo("2021-12-28").reason).toBe("Boxing Day (observed)");
    expect(lse.dayInfo("2022-12-27").reason).toBe("Christmas Day (observed)");
    expect(lse.dayInfo("2022-01-03").reason).toBe("New Year's Day (observed)");
  });

  it("stays open on Scottish-only bank holidays", () => {
    expect(lse.isSession("2025-01-02")).toBe(true);
    expect(lse.isSession("2025-12-01")).toBe(true); // St Andrew's Day substitute in Scotland
  });
});

describe("XLON moved and extra bank holidays", () => {
  it("moved the Early May bank holiday to VE Day in 1995 and 2020", () => {
    expect(lse.isSession("1995-05-01")).toBe(true);
    expect(lse.isSession("1995-05-08")).toBe(false);
    expect(lse.isSession("2020-05-04")).toBe(true);
    expect(lse.isSession("2020-05-08")).toBe(false);
    expect(lse.dayInfo("2020-05-08").reason).toBe("Early May bank holiday (moved)");
  });

  it("moved the Spring bank holiday for the Golden, Diamond and Platinum Jubilees and added a day", () => {
    expect(closedWeekdays(2002).filter((d) => d.startsWith("2002-05") || d.startsWith("2002-06"))).toEqual([
      "2002-05-06",
      "2002-06-03",
      "2002-06-04",
    ]);
    expect(closedWeekdays(2012).filter((d) => d.startsWith("2012-05") || d.startsWith("2012-06"))).toEqual([
      "2012-05-07",
      "2012-06-04",
      "2012-06-05",
    ]);
    expect(lse.isSession("2022-05-30")).toBe(true);
    expect(lse.dayInfo("2022-06-03").reason).toMatch(/Platinum Jubilee/);
  });

  it("closed for the royal wedding, the millennium, the Queen's funeral and the coronation", () => {
    expect(lse.dayInfo("2011-04-29").reason).toMatch(/Wedding/);
    expect(lse.dayInfo("1999-12-31").reason).toMatch(/Millennium/);
    expect(lse.dayInfo("2022-09-19").reason).toMatch(/funeral/);
    expect(lse.dayInfo("2023-05-08").reason).toMatch(/Coronation/);
    expect(lse.isSession("2023-05-01")).toBe(false); // the Early May bank holiday was still held
  });
});

describe("XLON half days", () => {
  const close = (date: string) => {
    const s = lse.session(date);
    return s ? londonTime(s.close) : "closed";
  };

  it("closes at 12:30 on Christmas Eve and New Year's Eve when they are weekdays", () => {
    expect(close("2025-12-24")).toBe("12:30");
    expect(close("2025-12-31")).toBe("12:30");
    expect(close("2021-12-24")).toBe("12:30"); // a Friday
    expect(lse.session("2025-12-24")?.earlyClose).toBe(true);
  });

  it("moves the half day to the Friday before when the eve falls on a weekend", () => {
    expect(close("2022-12-23")).toBe("12:30");
    expect(close("2022-12-30")).toBe("12:30");
    expect(close("2023-12-22")).toBe("12:30");
    expect(close("2023-12-29")).toBe("12:30");
    expect(close("2023-12-21")).toBe("16:30");
  });

  it("had no half day on 1999-12-31, which was a bank holiday", () => {
    expect(close("1999-12-31")).toBe("closed");
    expect(close("1999-12-24")).toBe("12:30");
  });
});

describe("XLON hours", () => {
  it("trades 08:00-16:30 London time in GMT and in BST", () => {
    expect(lse.session("2025-01-06")).toMatchObject({
      open: new Date("2025-01-06T08:00:00Z"),
      close: new Date("2025-01-06T16:30:00Z"),
    });
    expect(lse.session("2025-07-07")).toMatchObject({
      open: new Date("2025-07-07T07:00:00Z"),
      close: new Date("2025-07-07T15:30:00Z"),
    });
  });

  it("is reachable through its LSE alias", () => {
    expect(getCalendar("lse")).toBe(lse);
    expect(lse.timezone).toBe("Europe/London");
  });
});

describe("XLON data tables", () => {
  it("passes the definition schema", () => {
    expect(() => calendarDefinitionSchema.parse(XLON_DEFINITION)).not.toThrow();
  });

  it("lists each extra bank holiday once, in date order, on a weekday", () => {
    const dates = XLON_SPECIAL_DAYS.map((d) => d.date);
    expect([...new Set(dates)].sort()).toEqual(dates);
    for (const date of dates) expect([0, 6], date).not.toContain(new Date(`${date}T12:00:00Z`).getUTCDay());
  });
});
