/**
 * How stored schedules compare to the config's declaration, for `tradecron schedules`: a pure
 * function over core's `planDeclaration`, shared by both kinds of operations.
 */

import { DECLARED_TAG, planDeclaration, type ScheduleInput, type ScheduleRecord } from "@tradecron/core";
import type { DeclaredState } from "./operations.js";

/** One schedule, stored or only declared, and how it compares. */
export interface DeclaredEntry {
  id: string;
  schedule: ScheduleRecord | null;
  declared: DeclaredState;
  changed: string[];
}

/**
 * The stored schedules (in their order) and then the declared ones not stored yet. Without a
 * declaration (a remote command with no config at hand) every stored schedule is `unknown`.
 */
export function declaredEntries(
  stored: readonly ScheduleRecord[],
  declaration: readonly ScheduleInput[] | null,
  now: number,
): DeclaredEntry[] {
  if (declaration === null) {
    return stored.map((schedule) => ({ id: schedule.id, schedule, declared: "unknown", changed: [] }));
  }
  const plan = planDeclaration(stored, declaration, { tag: DECLARED_TAG, removeMissing: false }, now);
  const steps = new Map(plan.map((s) => [s.id, s]));
  const entries: DeclaredEntry[] = stored.map((schedule) => {
    const step = steps.get(schedule.id);
    let declared: DeclaredState = schedule.tags.includes(DECLARED_TAG) ? "undeclared" : "external";
    if (step?.action === "unchanged") declared = "in_sync";
    if (step?.action === "update") declared = "differs";
    return { id: schedule.id, schedule, declared, changed: step?.action === "update" ? step.changed : [] };
  });
  for (const step of plan) {
    if (step.action === "create")
      entries.push({ id: step.id, schedule: null, declared: "missing", changed: [] });
  }
  return entries;
}
