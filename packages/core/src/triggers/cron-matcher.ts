/**
 * A compiled cron pattern that answers "the first matching wall time after t" in O(fields),
 * working on floating local milliseconds (see time/zone.ts). cron-parser parses and validates
 * the expression; this module only walks the expanded field sets, because per-fire speed matters
 * (cron-parser's own iterator costs tens to hundreds of microseconds per step in a zone).
 */

import { CronExpressionParser } from "cron-parser";
import { ValidationError } from "../errors.js";

const DAY_MS = 86_400_000;
/**
 * How far the search looks before it concludes a pattern never matches again: one whole Gregorian
 * cycle. Which dates a pattern matches depends only on the month, the day, the weekday and the
 * month's length, and that mapping repeats exactly every 400 years (146,097 days = 20,871 weeks),
 * so a pattern with no match in 400 years has none at all. (The rarest pattern cron-parser accepts,
 * a fifth weekday of February such as `0 0 * 2 1#5`, is a leap day on that weekday: its longest gap
 * is 40 years, across a century year that is not a leap year, 2072 to 2112 for Mondays. A 28-year
 * cycle holds only between century years.) Searching far costs nothing when a fire is found sooner.
 */
const MAX_SEARCH_YEARS = 400;
/** The last instant a Date can hold (ECMAScript: 8.64e15 ms); no fire can be later. */
const MAX_DATE_MS = 8.64e15;

/** Expanded, lookup-friendly cron fields. */
export interface CronMatcher {
  /** The expression as written. */
  readonly source: string;
  /**
   * True if the second, minute and hour fields name fixed values (no `*`, no `/` step):
   * such a time of day fires once per day across DST changes. Stepping patterns follow
   * elapsed time instead.
   */
  readonly fixedTimeOfDay: boolean;
  /** The first matching floating local time strictly after `local` (second resolution), or null. */
  nextLocal(local: number): number | null;
}

const ALIASES: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
  "@minutely": "* * * * *",
  "@secondly": "* * * * * *",
};

/** A bit set of the allowed values of a field: bit (v - offset) for each v below offset + limit (limit <= 31). */
function maskOf(values: readonly (number | string)[], offset: number, limit: number): number {
  let mask = 0;
  for (const v of values) {
    if (typeof v !== "number") continue;
    const bit = v - offset;
    if (bit >= 0 && bit < limit) mask |= 1 << bit;
  }
  return mask;
}

/** The lowest set bit of `mask` at or above `from` (0-31), or -1. */
function nextBit(mask: number, from: number): number {
  if (from > 31) return -1;
  const m = from === 0 ? mask : mask & ~((1 << from) - 1);
  if (m === 0) return -1;
  return 31 - Math.clz32(m & -m);
}

/** The number of days of `month` (1-12) in `year`. */
function lastDayOf(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Smallest allowed value >= x of a 0-59 field kept as two 30-bit words, or -1. */
function nextOf60(lo: number, hi: number, x: number): number {
  if (x < 30) {
    const a = nextBit(lo, x);
    if (a !== -1) return a;
    const b = nextBit(hi, 0);
    return b === -1 ? -1 : b + 30;
  }
  const b = nextBit(hi, x - 30);
  return b === -1 ? -1 : b + 30;
}

function invalid(expression: string, message: string, cause?: unknown): ValidationError {
  return new ValidationError(
    [
      {
        field: "expression",
        code: "INVALID_CRON",
        message: `invalid cron expression '${expression}': ${message}`,
      },
    ],
    { cause, component: "cron" },
  );
}

/** Parses and compiles a 5-field (minute first) or 6-field (second first) cron expression or an @alias. */
export function compileCron(expression: string): CronMatcher {
  if (typeof expression !== "string" || expression.trim() === "") {
    throw invalid(String(expression), "expected a non-empty string");
  }
  const trimmed = expression.trim();
  const expanded = ALIASES[trimmed.toLowerCase()] ?? trimmed;
  if (expanded.startsWith("@")) throw invalid(expression, `unknown alias ${expanded}`);
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    throw invalid(
      expression,
      `expected 5 fields (minute hour day month weekday) or 6 (with seconds first), got ${parts.length}`,
    );
  }
  if (/[hH]/.test(expanded.replace(/[a-zA-Z]{3}/g, ""))) {
    // cron-parser's H picks a random value unless seeded; fires must be the same on every instance.
    throw invalid(
      expression,
      "the H (hash) token is not supported: fires must be identical on every instance",
    );
  }
  let fields: ReturnType<typeof CronExpressionParser.parse>["fields"];
  try {
    fields = CronExpressionParser.parse(expanded, { strict: false }).fields;
  } catch (error) {
    throw invalid(expression, error instanceof Error ? error.message : String(error), error);
  }
  const [secondSrc, minuteSrc, hourSrc] = parts.length === 6 ? parts : ["0", ...parts];
  const steps = (src: string | undefined) =>
    src === undefined || src.includes("*") || src.includes("/") || src === "?";
  const domValues = fields.dayOfMonth.values as (number | string)[];
  const dowValues = fields.dayOfWeek.values as (number | string)[];
  let dow = 0;
  let dowLast = 0;
  for (const v of dowValues) {
    if (typeof v === "number") dow |= 1 << (v % 7);
    else if (typeof v === "string" && v.endsWith("L")) dowLast |= 1 << (Number(v.slice(0, -1)) % 7);
  }
  const seconds = fields.second.values as number[];
  const minutes = fields.minute.values as number[];
  const nth = (fields.dayOfWeek as { nthDay?: number }).nthDay ?? 0;
  const domLast = domValues.includes("L");
  return new CompiledCron(
    expression,
    !steps(secondSrc) && !steps(minuteSrc) && !steps(hourSrc),
    maskOf(seconds, 0, 30),
    maskOf(seconds, 30, 30),
    maskOf(minutes, 0, 30),
    maskOf(minutes, 30, 30),
    maskOf(fields.hour.values as number[], 0, 24),
    maskOf(fields.month.values as number[], 1, 12),
    maskOf(domValues, 1, 31),
    domLast,
    dow,
    dowLast,
    nth,
    fields.dayOfMonth.isWildcard && !domLast,
    fields.dayOfWeek.isWildcard && nth === 0 && dowLast === 0,
  );
}

/**
 * A compiled pattern: each field a bit set in a small integer, the search in shared methods. About
 * 100 bytes per distinct expression (lookup tables and closures took about 2 KB), which matters
 * when thousands of schedules each have their own time of day.
 */
class CompiledCron implements CronMatcher {
  constructor(
    readonly source: string,
    readonly fixedTimeOfDay: boolean,
    private readonly secLo: number,
    private readonly secHi: number,
    private readonly minLo: number,
    private readonly minHi: number,
    private readonly hours: number,
    /** Bit m-1 for month m. */
    private readonly months: number,
    /** Bit d-1 for day of month d. */
    private readonly dom: number,
    private readonly domLast: boolean,
    /** Bit w for weekday w (0 = Sunday). */
    private readonly dow: number,
    /** Bit w: the last weekday w of the month. */
    private readonly dowLast: number,
    private readonly nth: number,
    private readonly domWild: boolean,
    private readonly dowWild: boolean,
  ) {}

  private dayMatches(year: number, month: number, day: number, dayStart: number): boolean {
    if (this.domWild && this.dowWild) return true;
    const lastDay = lastDayOf(year, month);
    const domOk = (this.dom & (1 << (day - 1))) !== 0 || (this.domLast && day === lastDay);
    const weekday = (((Math.floor(dayStart / DAY_MS) + 4) % 7) + 7) % 7;
    const bit = 1 << weekday;
    const dowOk =
      ((this.dow & bit) !== 0 && (this.nth === 0 || Math.ceil(day / 7) === this.nth)) ||
      ((this.dowLast & bit) !== 0 && day + 7 > lastDay);
    if (this.domWild) return dowOk;
    if (this.dowWild) return domOk;
    // Classic cron: when both day fields are restricted, either one matching is enough.
    return domOk || dowOk;
  }

  /**
   * The start of the next day after a day that did not match that could match. A pattern that
   * restricts only the day of the month jumps to its next listed day (or the next month), so
   * monthly and yearly patterns do not walk the month a day at a time; others take the next day.
   */
  private nextCandidateDay(year: number, month: number, day: number, dayStart: number): number {
    if (this.dowWild && !this.domLast) {
      // Bit d-1 is day d, so searching from bit `day` finds the first listed day after `day`.
      const next = nextBit(this.dom, day);
      if (next === -1 || next + 1 > lastDayOf(year, month)) return Date.UTC(year, month, 1);
      return Date.UTC(year, month - 1, next + 1);
    }
    if (this.domWild && this.nth > 0 && this.dowLast === 0) {
      // `w#n` can only match in the n-th week of the month: days 7n-6 to 7n.
      const first = 7 * this.nth - 6;
      if (day + 1 > first + 6 || first > lastDayOf(year, month)) return Date.UTC(year, month, 1);
      if (day + 1 < first) return Date.UTC(year, month - 1, first);
    }
    return dayStart + DAY_MS;
  }

  nextLocal(local: number): number | null {
    let t = Math.floor(local / 1000) * 1000 + 1000;
    const limitYear = new Date(t).getUTCFullYear() + MAX_SEARCH_YEARS;
    for (;;) {
      // Past the Date range every field reads NaN and the walk would never end.
      if (!(t <= MAX_DATE_MS)) return null;
      const d = new Date(t);
      const year = d.getUTCFullYear();
      if (year > limitYear) return null;
      const month = d.getUTCMonth() + 1;
      const nmBit = nextBit(this.months, month - 1);
      if (nmBit === -1) {
        t = Date.UTC(year + 1, 0, 1);
        continue;
      }
      if (nmBit + 1 !== month) {
        t = Date.UTC(year, nmBit, 1);
        continue;
      }
      const day = d.getUTCDate();
      const dayStart = Date.UTC(year, month - 1, day);
      if (!this.dayMatches(year, month, day, dayStart)) {
        t = this.nextCandidateDay(year, month, day, dayStart);
        continue;
      }
      const hour = d.getUTCHours();
      const nh = nextBit(this.hours, hour);
      if (nh === -1) {
        t = dayStart + DAY_MS;
        continue;
      }
      if (nh !== hour) {
        t = dayStart + nh * 3_600_000;
        continue;
      }
      const minute = d.getUTCMinutes();
      const nmin = nextOf60(this.minLo, this.minHi, minute);
      const hourStart = dayStart + hour * 3_600_000;
      if (nmin === -1) {
        t = hourStart + 3_600_000;
        continue;
      }
      if (nmin !== minute) {
        t = hourStart + nmin * 60_000;
        continue;
      }
      const second = d.getUTCSeconds();
      const ns = nextOf60(this.secLo, this.secHi, second);
      const minuteStart = hourStart + minute * 60_000;
      if (ns === -1) {
        t = minuteStart + 60_000;
        continue;
      }
      return minuteStart + ns * 1000;
    }
  }
}
