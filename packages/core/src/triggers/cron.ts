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

const matchers = new Map<string, CronMatcher>();
/** Compiled patterns are shared between schedules; bound the cache so arbitrary input cannot grow it forever. */
const MAX_CACHED_MATCHERS = 10_000;

/** The compiled matcher of `expression`, shared by every schedule that uses it. Throws like {@link compileCron}. */
export function cachedMatcher(expression: string): CronMatcher {
  let m = matchers.get(expression);
  if (!m) {
    m = compileCron(expression);
    if (matchers.size >= MAX_CACHED_MATCHERS) matchers.clear();
    matchers.set(expression, m);
  }
  return m;
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
 * A cron trigger: a class rather than a closure, so each armed schedule holds one small object.
 * Immutable apart from a one-entry memo of its last answer: the schedules of one expression and
 * zone share one trigger ({@link cronTrigger}), and the fires due together at an instant are
 * mostly such schedules, so each of them after the first asks the same question.
 */
class CronTrigger implements Trigger {
  private lastAfter = Number.NaN;
  private lastNext: number | null = null;

  constructor(
    private readonly matcher: CronMatcher,
    private readonly timezone: string,
  ) {}

  next(after: number): number | null {
    // `next` is a pure function of the instant, so the memo can only answer what it would compute.
    if (after === this.lastAfter) return this.lastNext;
    const next = nextCronFire(this.matcher, this.timezone, after);
    this.lastAfter = after;
    this.lastNext = next;
    return next;
  }
}

const triggers = new Map<string, CronTrigger>();

/**
 * Compiles a cron trigger, shared by every schedule of the same expression and zone (bounded
 * like the matchers). Throws a typed error naming the field for a bad expression or zone.
 */
export function cronTrigger(expression: string, timezone = "UTC"): Trigger {
  const key = `${timezone} ${expression}`;
  let trigger = triggers.get(key);
  if (trigger === undefined) {
    assertTimeZone(timezone, "timezone");
    trigger = new CronTrigger(cachedMatcher(expression), timezone);
    if (triggers.size >= MAX_CACHED_MATCHERS) triggers.clear();
    triggers.set(key, trigger);
  }
  return trigger;
}
