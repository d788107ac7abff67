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

/** Splits an expression into its fields: on single spaces without a regular expression when it can. */
function fieldsOf(expanded: string): string[] {
  if (OTHER_SPACE.test(expanded) || expanded.includes("  ")) return expanded.split(/\s+/);
  return expanded.split(" ");
}

/** White space other than the plain space (tabs, line breaks, Unicode spaces). */
const OTHER_SPACE = /[^\S ]/;

/** Parses and compiles a 5-field (minute first) or 6-field (second first) cron expression or an @alias. */
export function compileCron(expression: string): CronMatcher {
  if (typeof expression !== "string" || expression.trim() === "") {
    throw invalid(String(expression), "expected a non-empty string");
  }
  const trimmed = expression.trim();
  const expanded = trimmed.startsWith("@") ? (ALIASES[trimmed.toLowerCase()] ?? trimmed) : trimmed;
  if (expanded.startsWith("@")) throw invalid(expression, `unknown alias ${expanded}`);
  const parts = fieldsOf(expanded);
  if (parts.length !== 5 && parts.length !== 6) {
    throw invalid(
      expression,
      `expected 5 fields (minute hour day month weekday) or 6 (with seconds first), got ${parts.length}`,
    );
  }
  // A plain pattern has no letters, so it cannot hold the H token refused below.
  let masks = plainCronMasks(parts);
  if (masks === null) {
    if (/[hH]/.test(expanded.replace(/[a-zA-Z]{3}/g, ""))) {
      // cron-parser's H picks a random value unless seeded; fires must be the same on every instance.
      throw invalid(
        expression,
        "the H (hash) token is not supported: fires must be identical on every instance",
      );
    }
    masks = parserCronMasks(expression, expanded);
  }
  const [secondSrc, minuteSrc, hourSrc] = parts.length === 6 ? parts : ["0", ...parts];
  const steps = (src: string | undefined) =>
    src === undefined || src.includes("*") || src.includes("/") || src === "?";
  return new CompiledCron(expression, !steps(secondSrc) && !steps(minuteSrc) && !steps(hourSrc), masks);
}

/** The fields of a cron pattern as the bit sets {@link CompiledCron} searches. */
export interface CronMasks {
  secLo: number;
  secHi: number;
  minLo: number;
  minHi: number;
  hours: number;
  months: number;
  dom: number;
  domLast: boolean;
  dow: number;
  dowLast: number;
  nth: number;
  domWild: boolean;
  dowWild: boolean;
}

/** The masks of an expression as cron-parser expands it (every form it accepts); throws INVALID_CRON. */
export function parserCronMasks(expression: string, expanded: string): CronMasks {
  let fields: ReturnType<typeof CronExpressionParser.parse>["fields"];
  try {
    fields = CronExpressionParser.parse(expanded, { strict: false }).fields;
  } catch (error) {
    throw invalid(expression, error instanceof Error ? error.message : String(error), error);
  }
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
  return {
    secLo: maskOf(seconds, 0, 30),
    secHi: maskOf(seconds, 30, 30),
    minLo: maskOf(minutes, 0, 30),
    minHi: maskOf(minutes, 30, 30),
    hours: maskOf(fields.hour.values as number[], 0, 24),
    months: maskOf(fields.month.values as number[], 1, 12),
    dom: maskOf(domValues, 1, 31),
    domLast,
    dow,
    dowLast,
    nth,
    domWild: fields.dayOfMonth.isWildcard && !domLast,
    dowWild: fields.dayOfWeek.isWildcard && nth === 0 && dowLast === 0,
  };
}

/**
 * The masks of a pattern whose every field is `*` or a list of distinct plain numbers in range
 * (`0 30 9 * * 1,3,5`: the common case, and what a config with one time of day per schedule
 * holds), computed without cron-parser, which costs tens of microseconds per expression: arming
 * 100,000 schedules with their own times of day spent most of its time there. Anything else
 * (ranges, steps, names, `L`, `#`, `?`, a leading zero, a weekday 7, a repeated value, any month
 * but `*`: cron-parser fits the days of the month to the months listed) returns null and takes
 * cron-parser's path, so errors and every other form stay cron-parser's. The two paths are
 * checked to agree value for value (cron-matcher.test.ts).
 */
export function plainCronMasks(parts: readonly string[]): CronMasks | null {
  const six = parts.length === 6;
  const at = (i: number) => (six ? parts[i] : i === 0 ? "0" : parts[i - 1]) as string;
  if (at(4) !== "*") return null;
  const s = plainField(at(0), 0, 59);
  if (s === null) return null;
  const m = plainField(at(1), 0, 59);
  if (m === null) return null;
  const h = plainField(at(2), 0, 23);
  if (h === null) return null;
  const d = plainField(at(3), 1, 31);
  if (d === null) return null;
  const w = plainField(at(5), 0, 6);
  if (w === null) return null;
  return {
    secLo: s[0],
    secHi: s[1],
    minLo: m[0],
    minHi: m[1],
    hours: h[0],
    months: 0xfff,
    // Bit d-1 for day d.
    dom: (d[0] >>> 1) | (d[1] << 29),
    domLast: false,
    dow: w[0],
    dowLast: 0,
    nth: 0,
    domWild: at(3) === "*",
    dowWild: at(5) === "*",
  };
}

/**
 * The values of a plain field as two 30-bit words (bit v of the first for v < 30, bit v - 30 of
 * the second for the rest), or null when the field is not plain (see {@link plainCronMasks}).
 * One pass over the characters: this runs once per schedule of a bulk create.
 */
function plainField(src: string, min: number, max: number): [number, number] | null {
  if (src === "*") {
    let lo = 0;
    let hi = 0;
    for (let v = min; v <= max; v++) {
      if (v < 30) lo |= 1 << v;
      else hi |= 1 << (v - 30);
    }
    return [lo, hi];
  }
  let lo = 0;
  let hi = 0;
  let i = 0;
  const n = src.length;
  while (i <= n) {
    // One value: 0, or 1-2 digits without a leading zero.
    const start = i;
    let v = 0;
    while (i < n) {
      const c = src.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 2 || (digits === 2 && src.charCodeAt(start) === 48)) return null;
    if (v < min || v > max) return null;
    const word = v < 30 ? lo : hi;
    const bit = 1 << (v < 30 ? v : v - 30);
    // A repeated value: cron-parser's path gives its own message.
    if ((word & bit) !== 0) return null;
    if (v < 30) lo |= bit;
    else hi |= bit;
    if (i === n) return [lo, hi];
    if (src.charCodeAt(i) !== 44) return null; // anything but a comma
    i++;
  }
  return null;
}

/** Bits of {@link CompiledCron}'s `hoursFlags` above the 24 hour bits. */
const FIXED_TIME = 1 << 24;
const DOM_LAST = 1 << 25;
const DOM_WILD = 1 << 26;
const DOW_WILD = 1 << 27;

/**
 * A compiled pattern: each field a bit set in a small integer, the search in shared methods. The
 * sets are packed into 7 integers (88 bytes an object; one field each took 144): a bulk create
 * of 100,000 schedules at distinct times of day holds one per schedule. Lookup tables and
 * closures, before, took about 2 KB.
 */
class CompiledCron implements CronMatcher {
  private readonly secLo: number;
  private readonly secHi: number;
  private readonly minLo: number;
  private readonly minHi: number;
  /** Hours in bits 0-23; the flags FIXED_TIME, DOM_LAST, DOM_WILD, DOW_WILD above them. */
  private readonly hoursFlags: number;
  /** Bit d-1 for day of month d. */
  private readonly dom: number;
  /** Months (bit m-1 for month m) in bits 0-11, weekdays (bit w, 0 = Sunday) in 12-18, last weekdays of the month in 19-25, the `#n` week in 26-28. */
  private readonly calendar: number;

  constructor(
    readonly source: string,
    fixedTimeOfDay: boolean,
    m: CronMasks,
  ) {
    this.secLo = m.secLo;
    this.secHi = m.secHi;
    this.minLo = m.minLo;
    this.minHi = m.minHi;
    this.hoursFlags =
      m.hours |
      (fixedTimeOfDay ? FIXED_TIME : 0) |
      (m.domLast ? DOM_LAST : 0) |
      (m.domWild ? DOM_WILD : 0) |
      (m.dowWild ? DOW_WILD : 0);
    this.dom = m.dom;
    this.calendar = m.months | (m.dow << 12) | (m.dowLast << 19) | (m.nth << 26);
  }

  get fixedTimeOfDay(): boolean {
    return (this.hoursFlags & FIXED_TIME) !== 0;
  }

  private get hours(): number {
    return this.hoursFlags & 0xffffff;
  }

  private get domLast(): boolean {
    return (this.hoursFlags & DOM_LAST) !== 0;
  }

  private get domWild(): boolean {
    return (this.hoursFlags & DOM_WILD) !== 0;
  }

  private get dowWild(): boolean {
    return (this.hoursFlags & DOW_WILD) !== 0;
  }

  private get months(): number {
    return this.calendar & 0xfff;
  }

  private get dow(): number {
    return (this.calendar >>> 12) & 0x7f;
  }

  private get dowLast(): number {
    return (this.calendar >>> 19) & 0x7f;
  }

  private get nth(): number {
    return (this.calendar >>> 26) & 0x7;
  }

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
