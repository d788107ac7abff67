/** Turns a stored trigger spec into a {@link Trigger}. */

import { marketTrigger } from "../calendar/market-trigger.js";
import type { TriggerSpec } from "../schedule/policies.js";
import { cronTrigger } from "./cron.js";
import { intervalTrigger, onceTrigger } from "./interval.js";
import type { Trigger } from "./trigger.js";

/** Compiles a canonical trigger spec; `seed` (the schedule id) spreads interval jitter. */
export function compileTrigger(spec: TriggerSpec, seed: string): Trigger {
  switch (spec.type) {
    case "cron":
      return cronTrigger(spec.expression, spec.timezone);
    case "interval":
      return intervalTrigger({ every: spec.every, anchor: spec.anchor, jitter: spec.jitter, seed });
    case "once":
      return onceTrigger(spec.at);
    case "market":
      return marketTrigger(spec);
  }
}

/** The next `count` fires of a trigger strictly after `after`. */
export function nextFires(trigger: Trigger, after: number, count: number): number[] {
  const out: number[] = [];
  let t: number | null = after;
  while (out.length < count) {
    t = trigger.next(t);
    if (t === null) break;
    out.push(t);
  }
  return out;
}
