/**
 * A compiled cron pattern that answers "the first matching wall time after t" in O(fields),
 * working on floating local milliseconds (see time/zone.ts). cron-parser parses and validates
 * the expression; this module only walks the expanded field sets, because per-fire speed matters
 * (cron-parser's own iterator costs tens to hundreds of microseconds per step in a zone).
 */

import { CronExpressionParser } from "cron-parser";
import { ValidationError } from "../errors.js";

const DAY_MS = 86_400_000;
/** A pattern that has not matched within this many years never will (covers the 28-year calendar cycle). */
const MAX_SEARCH_YEARS = 30;

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

/** Builds a table t[x] = smallest allowed value >= x, or -1 when none is left in the range. */
function nextTable(allowed: readonly number[], size: number, offset = 0): Int8Array {
  const table = new Int8Array(size + 1).fill(-1);
  const set = new Set(allowed);
  let next = -1;
  for (let x = size - 1; x >= 0; x--) {
    if (set.has(x + offset)) next = x + offset;
    table[x] = next;
  }
  return table;
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
  const fixedTimeOfDay = !steps(secondSrc) && !steps(minuteSrc) && !steps(hourSrc);

  const seconds = nextTable(fields.second.values as number[], 60);
  const minutes = nextTable(fields.minute.values as number[], 60);
  const hours = nextTable(fields.hour.values as number[], 24);
  const months = nextTable(fields.month.values as number[], 12, 1);

  const domValues = fields.dayOfMonth.values as (number | string)[];
  const domSet = new Uint8Array(32);
  let domLast = false;
  for (const v of domValues) {
    if (v === "L") domLast = true;
    else if (typeof v === "number") domSet[v] = 1;
  }
  const dowSet = new Uint8Array(7);
  const dowLast = new Uint8Array(7);
  for (const v of fields.dayOfWeek.values as (number | string)[]) {
    if (typeof v === "number") dowSet[v % 7] = 1;
    else if (typeof v === "string" && v.endsWith("L")) dowLast[Number(v.slice(0, -1)) % 7] = 1;
  }
  const nth = (fields.dayOfWeek as { nthDay?: number }).nthDay ?? 0;
  const domWild = fields.dayOfMonth.isWildcard && !domLast;
  const dowWild = fields.dayOfWeek.isWildcard && nth === 0 && !dowLast.some(Boolean);

  const dayMatches = (year: number, month: number, day: number, dayStart: number): boolean => {
    if (domWild && dowWild) return true;
    const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
    const domOk = domSet[day] === 1 || (domLast && day === lastDay);
    const weekday = (((Math.floor(dayStart / DAY_MS) + 4) % 7) + 7) % 7;
    const dowOk =
      (dowSet[weekday] === 1 && (nth === 0 || Math.ceil(day / 7) === nth)) ||
      (dowLast[weekday] === 1 && day + 7 > lastDay);
    if (domWild) return dowOk;
    if (dowWild) return domOk;
    // Classic cron: when both day fields are restricted, either one matching is enough.
    return domOk || dowOk;
  };

  const nextLocal = (local: number): number | null => {
    let t = Math.floor(local / 1000) * 1000 + 1000;
    const limitYear = new Date(t).getUTCFullYear() + MAX_SEARCH_YEARS;
    for (;;) {
      const d = new Date(t);
      const year = d.getUTCFullYear();
      if (year > limitYear) return null;
      const month = d.getUTCMonth() + 1;
      const nm = months[month - 1] as number;
      if (nm === -1) {
        t = Date.UTC(year + 1, 0, 1);
        continue;
      }
      if (nm !== month) {
        t = Date.UTC(year, nm - 1, 1);
        continue;
      }
      const day = d.getUTCDate();
      const dayStart = Date.UTC(year, month - 1, day);
      if (!dayMatches(year, month, day, dayStart)) {
        t = dayStart + DAY_MS;
        continue;
      }
      const hour = d.getUTCHours();
      const nh = hours[hour] as number;
      if (nh === -1) {
        t = dayStart + DAY_MS;
        continue;
      }
      if (nh !== hour) {
        t = dayStart + nh * 3_600_000;
        continue;
      }
      const minute = d.getUTCMinutes();
      const nmin = minutes[minute] as number;
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
      const ns = seconds[second] as number;
      const minuteStart = hourStart + minute * 60_000;
      if (ns === -1) {
        t = minuteStart + 60_000;
        continue;
      }
      return minuteStart + ns * 1000;
    }
  };

  return { source: expression, fixedTimeOfDay, nextLocal };
}
