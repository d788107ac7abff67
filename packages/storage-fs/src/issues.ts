/**
 * The trust report of an open store (`Storage.issues`, which the scheduler's `health()` shows):
 * what the open could not trust and set aside, so that a person hears of it without reading the
 * quarantine folder. Torn tails are left out: a cut-off last line is the normal trace of a crash,
 * a write that was never acknowledged.
 */

import { basename, dirname, join } from "node:path";
import type { StorageIssue } from "@tradecron/core";
import type { StoreEngine } from "./engine.js";
import { CONTROL_FILE, SCHEDULES_DIR, scheduleIdOf } from "./layout.js";

/**
 * The files quarantined when the folder was opened, a control file that could not be read, and
 * the schedule states that failed their checks. A quarantined schedule is no longer listed once a schedule
 * with its id is stored again.
 */
export function storeIssues(e: StoreEngine): StorageIssue[] {
  const out: StorageIssue[] = [];
  const controlPath = join(e.dir, CONTROL_FILE);
  const control = e.schedules.unreadableControl;
  if (control !== null) {
    out.push({ subject: "control", id: null, kind: "invalid", reason: control, where: controlPath });
  }
  out.push(...e.executions.states.issues());
  for (const r of e.quarantine.reports) {
    if (r.kind === "torn-tail" || r.path === controlPath) continue;
    const id = dirname(r.path) === join(e.dir, SCHEDULES_DIR) ? scheduleIdOf(basename(r.path)) : null;
    if (id !== null && e.schedules.has(id)) continue;
    out.push({
      subject: id === null ? "file" : "schedule",
      id,
      kind: "quarantined",
      reason: `${r.kind}: ${r.reason}`,
      where: r.movedTo ?? r.path,
    });
  }
  return out;
}
