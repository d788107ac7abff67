/**
 * A {@link MarketCalendar} computed from a {@link CalendarDefinition}. Sessions are built one year at
 * a time on first use and kept in typed arrays, so `isOpen` is a constant-time year lookup and one
 * binary search over ~250 opens, with no allocation. Overrides invalidate only the year they touch.
 */

import { localToInstant } from "../time/zone.js";
import { parseInput } from "../validation.js";
import {
  type CalendarDefinition,
  type CalendarDefinitionInput,
  calendarDefinitionSchema,
} from "./calendar-definition.js";
import { invalid, reasonSchema, sessionCountSchema, toClock, toDay, toMs } from "./calendar-input.js";
import { dayOf, formatClock, formatDay, weekdayOf, yearOf } from "./civil-date.js";
import type { CalendarOverride, DayInfo, MarketCalendar, Session } from "./market-calendar.js";
import {
  buildSessionYear,
  type CompiledRules,
  compileRules,
  type DayOverride,
  EARLY_CLOSE,
  LATE_OPEN,
  planDay,
  type SessionYear,
} from "./session-year.js";

/** Mean Gregorian year in ms: a first guess of the year an instant falls in, corrected by at most one step. */
const MEAN_YEAR_MS = 365.2425 * 86_400_000;

/** Index of the first element > x, or the length when there is none. */
function firstAbove(values: Float64Array | Int32Array, x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Index of the element equal to x in a sorted array, or -1. */
function indexOf(values: Int32Array, x: number): number {
  const i = firstAbove(values, x) - 1;
  return i >= 0 && values[i] === x ? i : -1;
}

/** Validates a definition (filling defaults) and returns the calendar it describes. */
export function createCalendar(definition: CalendarDefinitionInput | CalendarDefinition): MarketCalendar {
  return new RuleCalendar(parseInput(calendarDefinitionSchema, definition, "calendar"));
}

/** A calendar computed from rules. Use {@link createCalendar}, which validates the definition. */
export class RuleCalendar implements MarketCalendar {
  readonly code: string;
  readonly name: string;
  readonly timezone: string;
  readonly dataVersion: string;
  readonly firstDate: string;
  readonly lastDate: string;

  readonly #rules: CompiledRules;
  readonly #component: string;
  readonly #firstYear: number;
  readonly #firstDay: number;
  readonly #lastDay: number;
  /** Local midnight of January 1st of each year, and of the year after the last: year boundaries as instants. */
  readonly #yearStarts: Float64Array;
  readonly #years: (SessionYear | undefined)[];
  readonly #overrides = new Map<number, DayOverride>();

  constructor(definition: CalendarDefinition) {
    this.code = definition.code;
    this.name = definition.name;
    this.timezone = definition.timezone;
    this.dataVersion = definition.dataVersion;
    this.#rules = compileRules(definition);
    this.#component = `calendar ${definition.code}`;
    this.#firstYear = definition.firstYear;
    this.#firstDay = dayOf(definition.firstYear, 1, 1);
    this.#lastDay = dayOf(definition.lastYear, 12, 31);
    this.firstDate = formatDay(this.#firstDay);
    this.lastDate = formatDay(this.#lastDay);
    const count = definition.lastYear - definition.firstYear + 1;
    this.#years = new Array<SessionYear | undefined>(count).fill(undefined);
    this.#yearStarts = new Float64Array(count + 1);
    for (let i = 0; i <= count; i++) {
      this.#yearStarts[i] = localToInstant(this.timezone, Date.UTC(definition.firstYear + i, 0, 1));
    }
  }

  isSession(date: string): boolean {
    const day = this.#day(date, "date");
    return indexOf(this.#yearOfDay(day).days, day) >= 0;
  }

  isOpen(instant: Date | number | string): boolean {
    const t = toMs(instant, "instant", this.#component);
    const year = this.#year(this.#yearIndexOf(t, "instant"));
    const i = firstAbove(year.opens, t) - 1;
    return i >= 0 && t < (year.closes[i] as number);
  }

  session(date: string): Session | null {
    const day = this.#day(date, "date");
    const year = this.#yearOfDay(day);
    const i = indexOf(year.days, day);
    return i >= 0 ? sessionAt(year, i) : null;
  }

  sessionsBetween(from: string, to: string): Session[] {
    const start = this.#day(from, "from");
    const end = this.#day(to, "to");
    if (end < start) throw invalid("to", `'${to}' is before from '${from}'`, this.#component);
    const out: Session[] = [];
    for (let y = yearOf(start) - this.#firstYear; y <= yearOf(end) - this.#firstYear; y++) {
      const year = this.#year(y);
      for (let i = firstAbove(year.days, start - 1); i < year.days.length; i++) {
        if ((year.days[i] as number) > end) break;
        out.push(sessionAt(year, i));
      }
    }
    return out;
  }

  nextOpen(after: Date | number | string): Date | null {
    const t = toMs(after, "after", this.#component);
    const next = this.#nextEvent(t, this.#yearIndexOf(t, "after"), "opens");
    return next === null ? null : new Date(next);
  }

  nextClose(after: Date | number | string): Date | null {
    const t = toMs(after, "after", this.#component);
    const next = this.#nextEvent(t, this.#yearIndexOf(t, "after"), "closes");
    return next === null ? null : new Date(next);
  }

  nextSession(date: string): Session | null {
    const day = this.#day(date, "date");
    for (let y = yearOf(day) - this.#firstYear; y < this.#years.length; y++) {
      const year = this.#year(y);
      const i = firstAbove(year.days, day);
      if (i < year.days.length) return sessionAt(year, i);
    }
    return null;
  }

  previousSession(date: string): Session | null {
    const day = this.#day(date, "date");
    for (let y = yearOf(day) - this.#firstYear; y >= 0; y--) {
      const year = this.#year(y);
      const i = firstAbove(year.days, day - 1) - 1;
      if (i >= 0) return sessionAt(year, i);
    }
    return null;
  }

  addSessions(date: string, n: number): string | null {
    const day = this.#day(date, "date");
    const count = Number.isInteger(n) ? n : parseInput(sessionCountSchema, n, this.#component, "n");
    let y = yearOf(day) - this.#firstYear;
    let year = this.#year(y);
    if (count === 0) {
      if (indexOf(year.days, day) >= 0) return date;
      throw invalid(
        "date",
        `'${date}' is not a session of ${this.code}, so it cannot be 0 sessions away`,
        this.#component,
      );
    }
    if (count > 0) {
      let i = firstAbove(year.days, day);
      let remaining = count - 1;
      for (;;) {
        if (i + remaining < year.days.length) return formatDay(year.days[i + remaining] as number);
        remaining -= year.days.length - i;
        if (++y >= this.#years.length) return null;
        year = this.#year(y);
        i = 0;
      }
    }
    let i = firstAbove(year.days, day - 1) - 1;
    let remaining = -count - 1;
    for (;;) {
      if (i - remaining >= 0) return formatDay(year.days[i - remaining] as number);
      remaining -= i + 1;
      if (--y < 0) return null;
      year = this.#year(y);
      i = year.days.length - 1;
    }
  }

  dayInfo(date: string): DayInfo {
    const day = this.#day(date, "date");
    const year = this.#yearOfDay(day);
    const i = indexOf(year.days, day);
    const weekday = weekdayOf(day);
    const note = year.notes.get(day);
    const reason = note ?? (i >= 0 ? null : this.#rules.tradingWeekday[weekday] ? "closed" : "weekend");
    return { date: formatDay(day), weekday, session: i >= 0 ? sessionAt(year, i) : null, reason };
  }

  addClosure(date: string, reason: string): void {
    const day = this.#day(date, "date");
    const why = parseInput(reasonSchema, reason, this.#component, "reason");
    this.#scheduledSession(day, date);
    this.#setOverride(day, { closed: why });
  }

  addEarlyClose(date: string, closeTime: string, reason: string): void {
    const day = this.#day(date, "date");
    const minutes = toClock(closeTime, "closeTime", this.#component);
    const why = parseInput(reasonSchema, reason, this.#component, "reason");
    const plan = this.#scheduledSession(day, date);
    const current = this.#overrides.get(day);
    const open = current?.open?.minutes ?? plan.open;
    if (minutes <= open || minutes >= plan.regularClose) {
      throw invalid(
        "closeTime",
        `an early close on ${date} must be after the open (${formatClock(open)}) and before the regular close (${formatClock(plan.regularClose)})`,
        this.#component,
      );
    }
    // A later announcement replaces an earlier closure of the same day; a late open stays.
    this.#setOverride(day, {
      ...(current?.open ? { open: current.open } : {}),
      close: { minutes, reason: why },
    });
  }

  addLateOpen(date: string, openTime: string, reason: string): void {
    const day = this.#day(date, "date");
    const minutes = toClock(openTime, "openTime", this.#component);
    const why = parseInput(reasonSchema, reason, this.#component, "reason");
    const plan = this.#scheduledSession(day, date);
    const current = this.#overrides.get(day);
    const close = current?.close?.minutes ?? plan.close;
    if (minutes <= plan.regularOpen || minutes >= close) {
      throw invalid(
        "openTime",
        `a late open on ${date} must be after the regular open (${formatClock(plan.regularOpen)}) and before the close (${formatClock(close)})`,
        this.#component,
      );
    }
    this.#setOverride(day, {
      ...(current?.close ? { close: current.close } : {}),
      open: { minutes, reason: why },
    });
  }

  removeOverride(date: string): boolean {
    const day = this.#day(date, "date");
    const had = this.#overrides.delete(day);
    if (had) this.#years[yearOf(day) - this.#firstYear] = undefined;
    return had;
  }

  overrides(): CalendarOverride[] {
    const out: CalendarOverride[] = [];
    for (const day of [...this.#overrides.keys()].sort((a, b) => a - b)) {
      const o = this.#overrides.get(day) as DayOverride;
      const date = formatDay(day);
      if (o.closed !== undefined) out.push({ date, kind: "closure", reason: o.closed });
      if (o.open)
        out.push({ date, kind: "late_open", time: formatClock(o.open.minutes), reason: o.open.reason });
      if (o.close) {
        out.push({ date, kind: "early_close", time: formatClock(o.close.minutes), reason: o.close.reason });
      }
    }
    return out;
  }

  /** Parses and range-checks a date input. */
  #day(value: unknown, field: string): number {
    const day = toDay(value, field, this.#component);
    if (day < this.#firstDay || day > this.#lastDay) {
      throw invalid(
        field,
        `'${String(value)}' is outside the range of ${this.code} (${this.firstDate} to ${this.lastDate})`,
        this.#component,
      );
    }
    return day;
  }

  /** Index of the calendar year containing instant `t`, or a ValidationError naming `field`. */
  #yearIndexOf(t: number, field: string): number {
    const starts = this.#yearStarts;
    const last = starts.length - 1;
    if (!(t >= (starts[0] as number) && t < (starts[last] as number))) {
      throw invalid(
        field,
        `${new Date(t).toISOString()} is outside the range of ${this.code} (${this.firstDate} to ${this.lastDate})`,
        this.#component,
      );
    }
    let i = Math.min(last - 1, Math.max(0, Math.floor((t - (starts[0] as number)) / MEAN_YEAR_MS)));
    while (t < (starts[i] as number)) i--;
    while (t >= (starts[i + 1] as number)) i++;
    return i;
  }

  #yearOfDay(day: number): SessionYear {
    return this.#year(yearOf(day) - this.#firstYear);
  }

  #year(index: number): SessionYear {
    let year = this.#years[index];
    if (year === undefined) {
      year = buildSessionYear(this.#rules, this.#firstYear + index, this.#overrides);
      this.#years[index] = year;
    }
    return year;
  }

  /** The first open or close strictly after `t`, searching from year `index` on. */
  #nextEvent(t: number, index: number, which: "opens" | "closes"): number | null {
    for (let y = index; y < this.#years.length; y++) {
      const events = this.#year(y)[which];
      const i = firstAbove(events, t);
      if (i < events.length) return events[i] as number;
    }
    return null;
  }

  /** What the rules say about `day`, which must be a session for an override to apply to it. */
  #scheduledSession(day: number, date: string) {
    const plan = planDay(this.#rules, day, yearOf(day));
    if (!plan.session) {
      throw invalid(
        "date",
        `'${date}' is not a session of ${this.code}${plan.reason ? ` (${plan.reason})` : " (weekend)"}; nothing to override`,
        this.#component,
      );
    }
    return plan;
  }

  #setOverride(day: number, override: DayOverride): void {
    this.#overrides.set(day, override);
    this.#years[yearOf(day) - this.#firstYear] = undefined;
  }
}

function sessionAt(year: SessionYear, i: number): Session {
  const flags = year.flags[i] as number;
  return {
    date: formatDay(year.days[i] as number),
    open: new Date(year.opens[i] as number),
    close: new Date(year.closes[i] as number),
    earlyClose: (flags & EARLY_CLOSE) !== 0,
    lateOpen: (flags & LATE_OPEN) !== 0,
  };
}
