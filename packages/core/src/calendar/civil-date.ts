/**
 * Civil (calendar) dates as epoch day numbers: whole days since 1970-01-01, with no time zone.
 * Calendars do their date arithmetic on these integers and only turn them into 'YYYY-MM-DD'
 * strings at the edges, because integer comparison and typed arrays keep the hot paths fast.
 */

/** Milliseconds in a civil day (no leap seconds in epoch time). */
export const DAY_MS = 86_400_000;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const CLOCK_RE = /^(\d{2}):(\d{2})$/;

/** The epoch day of a calendar date (month 1-12). Out-of-range fields roll over, as in Date.UTC. */
export function dayOf(year: number, month: number, day: number): number {
  return Math.floor(Date.UTC(year, month - 1, day) / DAY_MS);
}

/** Parses a strict 'YYYY-MM-DD' string to its epoch day, or null if it is not a real date. */
export function parseDay(value: string): number | null {
  const m = DATE_RE.exec(value);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  const n = dayOf(year, month, day);
  // Date.UTC rolls 02-30 over to 03-02; a round trip catches every impossible day of month.
  const back = new Date(n * DAY_MS);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) {
    return null;
  }
  return n;
}

/** Formats an epoch day as 'YYYY-MM-DD' (years 0-9999). */
export function formatDay(day: number): string {
  const { year, month, day: d } = partsOf(day);
  return `${String(year).padStart(4, "0")}-${month < 10 ? "0" : ""}${month}-${d < 10 ? "0" : ""}${d}`;
}

/** Day of the week of an epoch day: 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday). */
export function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

/**
 * Year, month (1-12) and day of month of an epoch day, by integer arithmetic (H. Hinnant's
 * civil_from_days) rather than a Date, because listing sessions formats thousands of dates.
 */
export function partsOf(day: number): { year: number; month: number; day: number } {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day: d };
}

/** The year of an epoch day. */
export function yearOf(day: number): number {
  return partsOf(day).year;
}

/** The epoch day of the Monday that starts the ISO week containing `day`. */
export function weekStartOf(day: number): number {
  return day - ((weekdayOf(day) + 6) % 7);
}

/**
 * The `n`-th given weekday of a month: n = 1 is the first, n = -1 the last. Returns null when the
 * month has no such day (a fifth Monday).
 */
export function nthWeekdayOf(year: number, month: number, weekday: number, n: number): number | null {
  if (n > 0) {
    const first = dayOf(year, month, 1);
    const day = first + ((weekday - weekdayOf(first) + 7) % 7) + (n - 1) * 7;
    return partsOf(day).month === month ? day : null;
  }
  const last = dayOf(year, month + 1, 0);
  const day = last - ((weekdayOf(last) - weekday + 7) % 7) + (n + 1) * 7;
  return partsOf(day).month === month ? day : null;
}

/** Parses a strict 'HH:MM' clock time (00:00-24:00) to minutes after midnight, or null. */
export function parseClock(value: string): number | null {
  const m = CLOCK_RE.exec(value);
  if (!m) return null;
  const hours = Number(m[1]);
  const minutes = Number(m[2]);
  if (minutes > 59 || hours > 24 || (hours === 24 && minutes !== 0)) return null;
  return hours * 60 + minutes;
}

/** Formats minutes after midnight as 'HH:MM'. */
export function formatClock(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
}
