/**
 * Time-zone arithmetic on epoch milliseconds, as pure functions over the platform's IANA data
 * (Intl). "Local" times are represented as *floating* milliseconds: the wall-clock fields of the
 * zone encoded as if they were UTC (`Date.UTC(y, m, d, h, mi, s)`).
 */

import { ValidationError } from "../errors.js";

const HOUR = 3_600_000;
/** Offsets are sampled this far before and after a local time to find the two offsets around a transition. */
const TRANSITION_PROBE_MS = 36 * HOUR;
/** Offset cache granularity. Zone transitions fall on quarter hours, so a bucket never straddles one. */
const BUCKET_MS = 15 * 60_000;
/** Bounds the offset cache of one zone; a long-running process cycles through buckets slowly. */
const MAX_CACHED_BUCKETS = 200_000;

interface ZoneInfo {
  /** Fixed offset in ms for zones without transitions we know of (UTC), else null. */
  readonly fixed: number | null;
  readonly format: Intl.DateTimeFormat | null;
  readonly cache: Map<number, number>;
}

const zones = new Map<string, ZoneInfo>();
const UTC_NAMES = new Set([
  "UTC",
  "Etc/UTC",
  "Etc/GMT",
  "GMT",
  "Etc/Zulu",
  "Zulu",
  "Etc/Universal",
  "Universal",
]);

function zoneInfo(zone: string): ZoneInfo {
  let info = zones.get(zone);
  if (info) return info;
  if (UTC_NAMES.has(zone)) {
    info = { fixed: 0, format: null, cache: new Map() };
  } else {
    // Throws RangeError for names the platform's tz database does not know.
    const format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      era: "short",
    });
    info = { fixed: null, format, cache: new Map() };
  }
  zones.set(zone, info);
  return info;
}

/** True if `zone` is an IANA time-zone name this runtime knows. */
export function isValidTimeZone(zone: string): boolean {
  if (typeof zone !== "string" || zone.length === 0) return false;
  try {
    zoneInfo(zone);
    return true;
  } catch {
    return false;
  }
}

/**
 * The canonical IANA name of a zone this runtime knows, as its time-zone data spells it:
 * `america/new_york` and `US/Eastern` are `America/New_York`, `Etc/UTC` and `GMT` are `UTC`.
 * Throws a RangeError for an unknown zone (check with {@link isValidTimeZone} first).
 */
export function canonicalTimeZone(zone: string): string {
  let name = canonicalNames.get(zone);
  if (name === undefined) {
    // Building a DateTimeFormat costs a tenth of a millisecond: asked once per spelling.
    name = new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
    if (canonicalNames.size >= 10_000) canonicalNames.clear();
    canonicalNames.set(zone, name);
  }
  return name;
}

const canonicalNames = new Map<string, string>();

/** Throws a typed error naming `field` unless `zone` is a known IANA time-zone name. */
export function assertTimeZone(zone: string, field = "timezone"): void {
  if (!isValidTimeZone(zone)) {
    throw new ValidationError([
      {
        field,
        code: "UNKNOWN_TIMEZONE",
        message: `unknown time zone '${zone}' (expected an IANA name such as America/New_York)`,
      },
    ]);
  }
}

function computeOffset(format: Intl.DateTimeFormat, instant: number): number {
  const whole = Math.floor(instant / 1000) * 1000;
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let bc = false;
  for (const part of format.formatToParts(whole)) {
    switch (part.type) {
      case "year":
        year = Number(part.value);
        break;
      case "month":
        month = Number(part.value);
        break;
      case "day":
        day = Number(part.value);
        break;
      case "hour":
        hour = Number(part.value);
        break;
      case "minute":
        minute = Number(part.value);
        break;
      case "second":
        second = Number(part.value);
        break;
      case "era":
        bc = part.value === "BC" || part.value === "B";
        break;
    }
  }
  const local = Date.UTC(bc ? 1 - year : year, month - 1, day, hour, minute, second);
  // Date.UTC maps years 0-99 to 1900-1999; fix those rare dates explicitly.
  const fixed = year < 100 && !bc ? new Date(local).setUTCFullYear(year) : local;
  return fixed - whole;
}

/** The zone's UTC offset in ms at `instant` (local = instant + offset). */
export function zoneOffset(zone: string, instant: number): number {
  const info = zoneInfo(zone);
  if (info.fixed !== null) return info.fixed;
  const bucket = Math.floor(instant / BUCKET_MS);
  let offset = info.cache.get(bucket);
  if (offset === undefined) {
    offset = computeOffset(info.format as Intl.DateTimeFormat, bucket * BUCKET_MS);
    if (info.cache.size >= MAX_CACHED_BUCKETS) info.cache.clear();
    info.cache.set(bucket, offset);
  }
  return offset;
}

/** The floating local time of `instant` in `zone`. */
export function toLocal(zone: string, instant: number): number {
  return instant + zoneOffset(zone, instant);
}

/** How a local wall time maps to instants in a zone. */
export type LocalResolution =
  /** The local time exists once. */
  | { kind: "single"; instant: number }
  /** The local time occurs twice (clocks fall back); `first` < `second`. */
  | { kind: "fold"; first: number; second: number }
  /** The local time does not exist (clocks spring forward); `shifted` is it moved forward by the gap. */
  | { kind: "gap"; shifted: number };

/** Resolves a floating local time to the instants at which the zone's clocks show it. */
export function resolveLocal(zone: string, local: number): LocalResolution {
  const before = zoneOffset(zone, local - TRANSITION_PROBE_MS);
  const after = zoneOffset(zone, local + TRANSITION_PROBE_MS);
  if (before === after) return { kind: "single", instant: local - before };
  const a = local - before;
  const b = local - after;
  const aValid = zoneOffset(zone, a) === before;
  const bValid = zoneOffset(zone, b) === after;
  if (aValid && bValid)
    return a < b ? { kind: "fold", first: a, second: b } : { kind: "fold", first: b, second: a };
  if (aValid) return { kind: "single", instant: a };
  if (bValid) return { kind: "single", instant: b };
  // Interpreting the missing wall time with the offset in force before the jump moves it
  // forward by exactly the gap (02:30 EST on a spring-forward night is 03:30 EDT).
  return { kind: "gap", shifted: a };
}

/** Largest difference between the zone's offsets around `local` (0 when no transition is near). */
export function transitionSpan(zone: string, local: number): number {
  return Math.abs(
    zoneOffset(zone, local - TRANSITION_PROBE_MS) - zoneOffset(zone, local + TRANSITION_PROBE_MS),
  );
}

/** Both offsets in force around `local`: the larger one bounds how early any of its instants can be. */
export function maxOffsetAround(zone: string, local: number): number {
  return Math.max(
    zoneOffset(zone, local - TRANSITION_PROBE_MS),
    zoneOffset(zone, local + TRANSITION_PROBE_MS),
  );
}

/** Splits a floating local time into its calendar fields. */
export function localParts(local: number): {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
} {
  const d = new Date(local);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
  };
}

/**
 * The instant at which a local wall time occurs in `zone`: the first occurrence when it occurs
 * twice, shifted forward by the gap when it does not exist. The usual rule for "this date at HH:MM".
 */
export function localToInstant(zone: string, local: number): number {
  const r = resolveLocal(zone, local);
  return r.kind === "single" ? r.instant : r.kind === "fold" ? r.first : r.shifted;
}
