/**
 * What this scheduler could not trust: schedules it refused to arm (a stored record failing its
 * checks, a trigger that does not compile) and a control record it could not read. Each is kept
 * until the record is fixed, so health names it as long as it matters.
 */

import type { ControlRecord } from "../storage/records.js";
import type { StorageIssue } from "../storage/storage.js";

/** Who stands in the control record the scheduler builds when the stored one cannot be read. */
export const FAIL_SAFE_ACTOR = "tradecron";

/** Most health reasons listed for one kind of problem before the rest are counted. */
const MAX_LISTED = 10;

/** The paused-all control record a scheduler comes up with when the stored one cannot be read. */
export function failSafeControl(known: ControlRecord, problem: string, now: number): ControlRecord {
  if (known.pausedAll && known.pausedBy === FAIL_SAFE_ACTOR) return known;
  return {
    pausedAll: true,
    pausedAt: now,
    pausedBy: FAIL_SAFE_ACTOR,
    reason: `the control record cannot be read (${problem}): every schedule stays paused until an actor calls resumeAll()`,
    // The last revision seen: a write lifting the pause goes past it.
    revision: known.revision,
  };
}

/** Records this scheduler refused, by schedule id, and the state of the control record. */
export class TrustReport {
  /** Stored schedules that failed their checks, by id. */
  private readonly invalid = new Map<string, string>();
  /** Schedules whose trigger did not compile, by id. */
  private readonly uncompilable = new Map<string, string>();
  /** Why the control record could not be read, or null when it could. */
  controlProblem: string | null = null;

  /** Notes that schedule `id` failed its checks; true when that is news (worth reporting once). */
  refuse(id: string, reason: string): boolean {
    const news = this.invalid.get(id) !== reason;
    this.invalid.set(id, reason);
    this.uncompilable.delete(id);
    return news;
  }

  /** Notes that the trigger of schedule `id` does not compile. */
  cannotCompile(id: string, reason: string): void {
    this.uncompilable.set(id, reason);
  }

  /** Schedule `id` is fine now (adopted with a compiled trigger, or gone). */
  clear(id: string): void {
    this.invalid.delete(id);
    this.uncompilable.delete(id);
  }

  /** Forgets refused schedules that are not in `present` any more. */
  retain(present: ReadonlySet<string>): void {
    for (const id of [...this.invalid.keys()]) if (!present.has(id)) this.invalid.delete(id);
    for (const id of [...this.uncompilable.keys()]) if (!present.has(id)) this.uncompilable.delete(id);
  }

  /** Why schedule `id` is not armed, if this report knows. */
  problemOf(id: string): string | null {
    return this.invalid.get(id) ?? this.uncompilable.get(id) ?? null;
  }

  /** Health reasons: the control record, refused schedules, and what the storage reports. */
  reasons(storageIssues: readonly StorageIssue[]): string[] {
    const out: string[] = [];
    if (this.controlProblem !== null) {
      out.push(`control record unreadable (${this.controlProblem}): paused until an actor calls resumeAll()`);
    }
    const listed = (items: string[]) => {
      out.push(...items.slice(0, MAX_LISTED));
      if (items.length > MAX_LISTED) out.push(`... and ${items.length - MAX_LISTED} more`);
    };
    const refused = new Set(this.invalid.keys());
    listed(
      [...this.invalid].map(([id, reason]) => `schedule ${id} not armed: stored record invalid: ${reason}`),
    );
    listed(
      [...this.uncompilable].map(
        ([id, reason]) => `schedule ${id} not armed: trigger cannot compile: ${reason}`,
      ),
    );
    listed(
      storageIssues
        .filter((i) => !(i.subject === "schedule" && i.id !== null && refused.has(i.id)))
        .filter((i) => !(i.subject === "control" && this.controlProblem !== null))
        .map(
          (i) =>
            `storage: ${i.kind} ${i.subject}${i.id === null ? "" : ` ${i.id}`}${i.where ? ` (${i.where})` : ""}: ${i.reason}`,
        ),
    );
    return out;
  }
}
