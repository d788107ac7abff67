/**
 * Schedule states: one JSON value per schedule, committed with a run's succeeded outcome.
 *
 * Atomicity with the outcome comes from the execution log: a commit is the *same line* as the
 * execution's terminal put (`{"op":"put","rec":{...},"state":{...}}`), so a kill -9 keeps both
 * or neither (a torn line is cut off at open). A schedule's state is removed by a line of its
 * own (`{"op":"unstate","scheduleId":...}`).
 *
 * Logs are deleted once sealed, so the states are compacted into `executions/schedule-state.json`
 * at every seal: the states as of the end of the sealed logs, with `through` (the last log they
 * cover). It is written before the seal's checkpoint, so it always covers at least the logs the
 * checkpoint lets go; opening loads it and replays the state lines of the logs after `through`,
 * in order. The in-memory map is the latest committed state per schedule.
 */

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  checkStoredScheduleState,
  isCorruptRecord,
  type ScheduleStateRecord,
  type StorageIssue,
} from "@tradecron/core";
import { writeFileAtomic } from "./atomic-write.js";
import { ioError, sysCode } from "./errors.js";
import { STATE_FILE } from "./layout.js";
import type { Quarantine } from "./quarantine.js";

interface StateFile {
  format: 1;
  /** The last log whose state lines this file includes. */
  through: number;
  states: Record<string, unknown>;
}

/** The state lines of a log (besides the execution puts they ride on). */
export type UnstateLine = { op: "unstate"; scheduleId: string };

/** Null if a log line's `state` is storable (full checks run when it is read), else why not. */
export function stateLineProblem(state: unknown): string | null {
  if (state === undefined) return null;
  if (
    !state ||
    typeof state !== "object" ||
    typeof (state as { scheduleId?: unknown }).scheduleId !== "string"
  )
    return "a state without a scheduleId";
  return null;
}

/** The committed schedule states of one store. */
export class ScheduleStates {
  /** Latest state per schedule, as stored (checked on read). */
  private readonly states = new Map<string, unknown>();
  private readonly invalid = new Map<string, StorageIssue>();

  private constructor(
    private readonly dir: string,
    /** Logs up to this number are in the state file: their state lines are not replayed. */
    readonly through: number,
  ) {}

  /** Loads the state file of the executions folder `dir` (a damaged one is quarantined). */
  static async open(dir: string, quarantine: Quarantine): Promise<ScheduleStates> {
    const path = join(dir, STATE_FILE);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if (sysCode(error) === "ENOENT") return new ScheduleStates(dir, 0);
      throw ioError("read", path, error);
    }
    let file: StateFile;
    try {
      file = JSON.parse(text) as StateFile;
      if (
        file?.format !== 1 ||
        !Number.isInteger(file.through) ||
        typeof file.states !== "object" ||
        file.states === null
      )
        throw new Error("not a schedule state file of format 1");
    } catch (error) {
      // Replaced only by rename, so this is damage from outside: the states it held are gone
      // (the logs since still replay); the report says so.
      await quarantine.moveFile(
        path,
        "corrupt",
        `${(error as Error).message}; the schedule states committed before the last seal are lost`,
      );
      return new ScheduleStates(dir, 0);
    }
    const out = new ScheduleStates(dir, file.through);
    for (const [id, state] of Object.entries(file.states)) out.states.set(id, state);
    return out;
  }

  /** Applies a state line of a replayed log (`no`) or of a write. */
  set(scheduleId: string, state: unknown): void {
    this.states.set(scheduleId, state);
  }

  /** Removes a schedule's state (a deleted schedule). True if it had one. */
  delete(scheduleId: string): boolean {
    this.invalid.delete(scheduleId);
    return this.states.delete(scheduleId);
  }

  /** Ids of schedules with a state. */
  ids(): string[] {
    return [...this.states.keys()];
  }

  /** The revision of the stored state (0: none), for the compare-and-set of a commit. */
  revision(scheduleId: string): number {
    const state = this.states.get(scheduleId) as { revision?: unknown } | undefined;
    if (state === undefined) return 0;
    // An unreadable revision never matches what a run read: its commit conflicts.
    return typeof state.revision === "number" ? state.revision : Number.NaN;
  }

  /** The state of `scheduleId` checked with core's record checks; throws `STORAGE_CORRUPT`. */
  get(scheduleId: string): ScheduleStateRecord | null {
    const state = this.states.get(scheduleId);
    if (state === undefined) return null;
    try {
      const record = checkStoredScheduleState("file", scheduleId, state);
      this.invalid.delete(scheduleId);
      // Frozen once stored: handing it out never exposes stored state to mutation.
      return structuredClone(record);
    } catch (error) {
      if (isCorruptRecord(error)) {
        const reason = (error.details as { reason?: unknown } | undefined)?.reason;
        this.invalid.set(scheduleId, {
          subject: "state",
          id: scheduleId,
          kind: "invalid",
          reason: typeof reason === "string" ? reason : error.message,
          where: join(this.dir, STATE_FILE),
        });
      }
      throw error;
    }
  }

  /** A copy of every state, taken at a log boundary for the next compaction. */
  snapshot(): Map<string, unknown> {
    return new Map(this.states);
  }

  /** Writes `states` (a snapshot) as the state file covering logs up to `through`. */
  async compact(states: Map<string, unknown>, through: number): Promise<void> {
    const file: StateFile = { format: 1, through, states: Object.fromEntries(states) };
    await writeFileAtomic(join(this.dir, STATE_FILE), JSON.stringify(file));
  }

  /** States that failed their checks when last read. */
  issues(): StorageIssue[] {
    return [...this.invalid.values()];
  }
}
