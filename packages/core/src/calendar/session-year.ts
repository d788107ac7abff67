/**
 * Computes one calendar year of sessions from the rules, the one-off table and the run-time
 * overrides, into typed arrays that the calendar binary-searches. A year is the unit of caching:
 * small enough to build on demand (about a millisecond), large enough that lookups rarely miss.
 */

import { localToInstant, zoneOffset } from "../time/zone.js";
import type { CalendarDefinition } from "./calendar-definition.js";
import { DAY_MS, dayOf, parseClock, parseDay, weekdayOf } from "./civil-date.js";
import { type EarlyCloseRule, type HolidayRule, observedHolidays, ruleEarlyCloses } from "./holiday-rules.js";

/** Flag bit: the session closes before its era's regular close. */
export const EARLY_CLOSE = 1;
/** Flag bit: the session opens after its era's regular open. */
export const LATE_OPEN = 2;

const MINUTE_MS = 60_000;
/** Days sampled either side of the year so every session has two neighbours on each side. */
const SAMPLE_MARGIN_DAYS = 3;
/** Offsets are sampled this many days apart, and daily only around a change. */
const SAMPLE_STEP_DAYS = 7;

/** A definition with its strings parsed once, as the builders need it. */
export interface CompiledRules {
  readonly timezone: string;
  /** Indexed by weekday (0 = Sunday). */
  readonly tradingWeekday: readonly boolean[];
  /** Hours eras, oldest first, in epoch days and minutes after local midnight. */
  readonly eras: readonly { readonly fromDay: number; readonly open: number; readonly close: number }[];
  readonly holidays: readonly HolidayRule[];
  readonly earlyCloses: readonly EarlyCloseRule[];
  /** One-off days by epoch day. */
  readonly specials: ReadonlyMap<number, ParsedSpecialDay>;
}

/** A one-off day with its times in minutes (null: the regular time). */
export interface ParsedSpecialDay {
  readonly closed: boolean;
  readonly open: number | null;
  readonly close: number | null;
  readonly reason: string;
}

/** The run-time overrides of one date. */
export interface DayOverride {
  /** Closed all day, with the reason. */
  readonly closed?: string;
  /** A later open. */
  readonly open?: { readonly minutes: number; readonly reason: string };
  /** An earlier close. */
  readonly close?: { readonly minutes: number; readonly reason: string };
}

/** What the rules and the one-off table (not the overrides) say about one date. */
export interface DayPlan {
  readonly session: boolean;
  /** Local open and close in minutes (meaningful when `session`). */
  readonly open: number;
  readonly close: number;
  /** The era's regular open and close in minutes. */
  readonly regularOpen: number;
  readonly regularClose: number;
  /** Why the day differs from a regular session, or null. */
  readonly reason: string | null;
}

/** One year of sessions, sorted by date. */
export interface SessionYear {
  readonly year: number;
  /** Epoch day of each session. */
  readonly days: Int32Array;
  /** Open instant (epoch ms) of each session. */
  readonly opens: Float64Array;
  /** Close instant (epoch ms) of each session. */
  readonly closes: Float64Array;
  /** {@link EARLY_CLOSE} | {@link LATE_OPEN} per session. */
  readonly flags: Uint8Array;
  /** Reason for each day that differs from a regular session (closed weekdays, short sessions). */
  readonly notes: ReadonlyMap<number, string>;
}

/** Parses a validated definition into {@link CompiledRules}. */
export function compileRules(definition: CalendarDefinition): CompiledRules {
  const tradingWeekday = [0, 1, 2, 3, 4, 5, 6].map((w) => definition.weekdays.includes(w));
  const eras = definition.hours.map((h) => ({
    fromDay: parseDay(h.from) ?? Number.NEGATIVE_INFINITY,
    open: parseClock(h.open) ?? 0,
    close: parseClock(h.close) ?? 0,
  }));
  const specials = new Map<number, ParsedSpecialDay>();
  for (const s of definition.specialDays) {
    const day = parseDay(s.date);
    if (day === null) continue;
    specials.set(
      day,
      s.kind === "closed"
        ? { closed: true, open: null, close: null, reason: s.reason }
        : {
            closed: false,
            open: s.open === undefined ? null : parseClock(s.open),
            close: s.close === undefined ? null : parseClock(s.close),
            reason: s.reason,
          },
    );
  }
  return {
    timezone: definition.timezone,
    tradingWeekday,
    eras,
    holidays: definition.holidays,
    earlyCloses: definition.earlyCloses,
    specials,
  };
}

/** The regular hours in force on `day`. */
export function eraOf(rules: CompiledRules, day: number): { open: number; close: number } {
  let era = rules.eras[0] ?? { open: 0, close: 0 };
  for (const e of rules.eras) {
    if (e.fromDay <= day) era = e;
    else break;
  }
  return era;
}

/** Observed holidays falling in `year`, including ones moved in from the neighbouring rule-years. */
function holidaysIn(rules: CompiledRules, year: number): Map<number, string> {
  const first = dayOf(year, 1, 1);
  const last = dayOf(year, 12, 31);
  const isTrading = (w: number) => rules.tradingWeekday[w] === true;
  const out = new Map<number, string>();
  for (const y of [year, year - 1, year + 1]) {
    for (const [day, name] of observedHolidays(rules.holidays, y, isTrading)) {
      if (day >= first && day <= last && !out.has(day)) out.set(day, name);
    }
  }
  return out;
}

function planFrom(
  rules: CompiledRules,
  day: number,
  holidays: ReadonlyMap<number, string>,
  earlies: ReadonlyMap<number, { close: string; name: string }>,
): DayPlan {
  const era = eraOf(rules, day);
  let session = rules.tradingWeekday[weekdayOf(day)] === true;
  let open = era.open;
  let close = era.close;
  let reason: string | null = null;
  const holiday = holidays.get(day);
  if (session && holiday !== undefined) {
    session = false;
    reason = holiday;
  }
  const early = earlies.get(day);
  if (session && early !== undefined) {
    close = Math.min(close, parseClock(early.close) ?? close);
    reason = early.name;
  }
  const special = rules.specials.get(day);
  if (special) {
    // Explicit one-off data wins over the rules, in both directions.
    reason = special.reason;
    if (special.closed) session = false;
    else {
      session = true;
      open = special.open ?? era.open;
      close = special.close ?? era.close;
    }
  }
  return { session, open, close, regularOpen: era.open, regularClose: era.close, reason };
}

/** What the rules and the one-off table say about `day`, ignoring overrides. */
export function planDay(rules: CompiledRules, day: number, year: number): DayPlan {
  return planFrom(rules, day, holidaysIn(rules, year), ruleEarlyCloses(rules.earlyCloses, year));
}

/**
 * Converts local wall times to instants for one year. The zone's offset is known for every day
 * (at 00:00 UTC); a day whose two neighbours on each side share its offset has no transition near
 * it, so its local times map by plain arithmetic. Days next to a transition go through
 * {@link localToInstant}, which resolves gaps and folds exactly.
 *
 * Offsets are sampled weekly and only the weeks whose ends differ are sampled daily: ~70 offset
 * lookups a year instead of several per session. This assumes no zone changes its offset and
 * changes it back within one week, which holds for every IANA zone in 1990-2100 we know of.
 */
function wallClock(zone: string, year: number): (day: number, minutes: number) => number {
  const base = dayOf(year, 1, 1) - SAMPLE_MARGIN_DAYS;
  const count = dayOf(year + 1, 1, 1) + SAMPLE_MARGIN_DAYS - base + 1;
  const offsets = new Float64Array(count).fill(Number.NaN);
  const sample = (i: number): number => {
    let o = offsets[i] as number;
    if (Number.isNaN(o)) {
      o = zoneOffset(zone, (base + i) * DAY_MS);
      offsets[i] = o;
    }
    return o;
  };
  for (let i = 0; i < count - 1; i += SAMPLE_STEP_DAYS) {
    const j = Math.min(i + SAMPLE_STEP_DAYS, count - 1);
    const same = sample(i) === sample(j);
    for (let k = i + 1; k < j; k++) {
      if (same) offsets[k] = offsets[i] as number;
      else sample(k);
    }
  }
  return (day, minutes) => {
    const local = day * DAY_MS + minutes * MINUTE_MS;
    const i = day - base;
    const o = offsets[i];
    if (
      o !== undefined &&
      offsets[i - 2] === o &&
      offsets[i - 1] === o &&
      offsets[i + 1] === o &&
      offsets[i + 2] === o
    ) {
      return local - o;
    }
    return localToInstant(zone, local);
  };
}

/** Builds the sessions of `year`, applying the run-time overrides last. */
export function buildSessionYear(
  rules: CompiledRules,
  year: number,
  overrides: ReadonlyMap<number, DayOverride>,
): SessionYear {
  const first = dayOf(year, 1, 1);
  const last = dayOf(year, 12, 31);
  const holidays = holidaysIn(rules, year);
  const earlies = ruleEarlyCloses(rules.earlyCloses, year);
  const toInstant = wallClock(rules.timezone, year);
  const size = last - first + 1;
  const days = new Int32Array(size);
  const opens = new Float64Array(size);
  const closes = new Float64Array(size);
  const flags = new Uint8Array(size);
  const notes = new Map<number, string>();
  let n = 0;
  for (let day = first; day <= last; day++) {
    const plan = planFrom(rules, day, holidays, earlies);
    let { session, open, close, reason } = plan;
    const override = overrides.get(day);
    if (override) {
      if (override.closed !== undefined) {
        session = false;
        reason = override.closed;
      } else if (session) {
        const why: string[] = [];
        if (override.open) {
          open = override.open.minutes;
          why.push(override.open.reason);
        }
        if (override.close) {
          close = override.close.minutes;
          why.push(override.close.reason);
        }
        reason = why.join("; ");
      }
    }
    if (reason !== null) notes.set(day, reason);
    if (!session) continue;
    days[n] = day;
    opens[n] = toInstant(day, open);
    closes[n] = toInstant(day, close);
    flags[n] = (close < plan.regularClose ? EARLY_CLOSE : 0) | (open > plan.regularOpen ? LATE_OPEN : 0);
    n++;
  }
  return {
    year,
    days: days.slice(0, n),
    opens: opens.slice(0, n),
    closes: closes.slice(0, n),
    flags: flags.slice(0, n),
    notes,
  };
}
