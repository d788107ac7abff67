/**
 * Cron trigger: next fire = f(expression, zone, after), pure. DST rules ("time is explicit"):
 * - a fixed time of day that does not exist (spring forward) fires once, shifted forward by the gap;
 * - a fixed time of day that occurs twice (fall back) fires once, at its first occurrence;
 * - stepping patterns (`*`, `/` in second, minute or hour) follow elapsed time: wall times inside
 *   the gap do not exist and are not fired, repeated wall times fire in both passes.
 */

import { assertTimeZone, maxOffsetAround, resolveLocal, transitionSpan, zoneOffset } from "../time/zone.js";
import { type CronMatcher, compileCron } from "./cron-matcher.js";
import type { Trigger } from "./trigger.js";

/**
 * The compiled patterns, shared between schedules: by expression, the trigger of the first zone
 * it was asked for (most schedules of an expression share a zone), whose matcher serves every
 * zone. One entry per expression, so sharing the trigger costs no more than sharing the matcher.
 */
const cache = new Map<string, CronTrigger>();
/** Bound the cache so arbitrary input cannot grow it forever. */
const MAX_CACHED_MATCHERS = 10_000;

/**
 * The cached trigger of `expression`, made in `zone` if new. A check of the expression alone
 * ({@link cachedMatcher}) caches it with no zone (`""`): the first {@link cronTrigger} takes it
 * for its zone, since no schedule holds it yet. Throws like {@link compileCron}.
 */
function cached(expression: string, zone: string): CronTrigger {
  let trigger = cache.get(expression);
  if (trigger === undefined) {
    trigger = new CronTrigger(compileCron(expression), zone);
    if (cache.size >= MAX_CACHED_MATCHERS) cache.clear();
    cache.set(expression, trigger);
  }
  return trigger;
}

/** The compiled matcher of `expression`, shared by every schedule that uses it. Throws like {@link compileCron}. */
export function cachedMatcher(expression: string): CronMatcher {
  return cached(expression, "").matcher;
}

/** The first fire of `matcher` in `zone` strictly after the instant `after`, or null if there is none. */
export function nextCronFire(matcher: CronMatcher, zone: string, after: number): number | null {
  const offsetNow = zoneOffset(zone, after);
  const local = after + offsetNow;
  // Near a transition, a wall time earlier than `local` can still map to an instant after `after`
  // (the second pass of a fold, or a gap time shifted forward), so the search starts earlier.
  const span = transitionSpan(zone, local);
  let m = matcher.nextLocal(local - span - 1000);
  let best = Number.POSITIVE_INFINITY;
  while (m !== null) {
    const r = resolveLocal(zone, m);
    if (r.kind === "single") {
      if (r.instant > after && r.instant < best) best = r.instant;
    } else if (r.kind === "fold") {
      if (r.first > after && r.first < best) best = r.first;
      else if (!matcher.fixedTimeOfDay && r.second > after && r.second < best) best = r.second;
    } else if (matcher.fixedTimeOfDay && r.shifted > after && r.shifted < best) {
      best = r.shifted;
    }
    // No later wall time can map to an instant earlier than (wall time - largest nearby offset).
    if (best !== Number.POSITIVE_INFINITY && m - maxOffsetAround(zone, m) >= best) break;
    m = matcher.nextLocal(m);
  }
  return best === Number.POSITIVE_INFINITY ? null : best;
}

/**
 * The last answers of the triggers, four of them: the fires due together at an instant are mostly
 * schedules of a few expressions sharing a trigger ({@link cronTrigger}), so each after the first
 * asks one of them the same question. Kept here rather than on each trigger, whose two boxed
 * numbers would cost every armed schedule of a distinct expression 50 bytes.
 */
const MEMO = 4;
const memoTrigger: (CronTrigger | null)[] = [null, null, null, null];
const memoAfter = new Float64Array(MEMO);
/** NaN for "no next fire" (an instant is never NaN). */
const memoNext = new Float64Array(MEMO);
let memoPos = 0;

/** A cron trigger: a class rather than a closure, so each armed schedule holds one small object. */
class CronTrigger implements Trigger {
  constructor(
    readonly matcher: CronMatcher,
    /** Set once: "" only while cached for a check of the expression, before any schedule holds it. */
    public timezone: string,
  ) {}

  next(after: number): number | null {
    // `next` is a pure function of the instant, so the memo can only answer what it would compute.
    for (let i = 0; i < MEMO; i++) {
      if (memoTrigger[i] === this && memoAfter[i] === after) {
        const next = memoNext[i] as number;
        return Number.isNaN(next) ? null : next;
      }
    }
    const next = nextCronFire(this.matcher, this.timezone, after);
    memoTrigger[memoPos] = this;
    memoAfter[memoPos] = after;
    memoNext[memoPos] = next ?? Number.NaN;
    memoPos = (memoPos + 1) % MEMO;
    return next;
  }
}

/**
 * Compiles a cron trigger, shared by every schedule of the same expression in the zone it was
 * first asked for. Throws a typed error naming the field for a bad expression or zone.
 */
export function cronTrigger(expression: string, timezone = "UTC"): Trigger {
  assertTimeZone(timezone, "timezone");
  const trigger = cached(expression, timezone);
  if (trigger.timezone === "") trigger.timezone = timezone;
  return trigger.timezone === timezone ? trigger : new CronTrigger(trigger.matcher, timezone);
}
