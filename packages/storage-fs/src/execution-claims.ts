/**
 * The fire path: claiming fires, and every later write of a claimed execution (its outcome with
 * the schedule's state, lease renewals, cancellation, release, take-over of expired leases).
 * Each call decides in memory, synchronously, before anything changes, then appends its lines
 * to the live log (one group commit per call) and resolves once they are durable; a call that
 * writes nothing waits for the commit in flight instead, so it never reports what a crash could
 * take back.
 */

import {
  applyExecutionPatch,
  type ClaimResult,
  ConflictError,
  committedState,
  type ExecutionPatch,
  type ExecutionRecord,
  type FireClaim,
  isCorruptRecord,
  type ScheduleStateRecord,
  type StateCommit,
  ValidationError,
} from "@tradecron/core";
import type { LiveLog } from "./execution-live-log.js";
import { type ExecutionMemory, fireKey, materialize, materializeAll, putLine } from "./execution-memory.js";
import type { Located } from "./execution-query.js";
import { deepFreeze, EXECUTION_STATUSES, executionProblem, isOwnFire, snapshot } from "./records.js";
import type { ScheduleStates } from "./schedule-states.js";

/** Claims fires and writes the executions claimed. */
export class Claims {
  constructor(
    private readonly memory: ExecutionMemory,
    private readonly log: LiveLog,
    private readonly states: ScheduleStates,
  ) {}

  /** Claims a fire: creates the record unless (scheduleId, scheduledAt) exists. */
  async claimFire(
    execution: ExecutionRecord,
  ): Promise<{ claimed: true; execution: ExecutionRecord } | { claimed: false; existing: ExecutionRecord }> {
    const problem = executionProblem(execution);
    if (problem !== null) {
      throw new ValidationError([{ field: "execution", code: "VALIDATION", message: problem }], {
        component: "storage-fs",
      });
    }
    this.log.live();
    // Decide and record synchronously: no other claim can interleave between the check and the set.
    const found = this.memory.locateFire(execution.scheduleId, execution.scheduledAt);
    if (found) {
      const existing = await materialize(found);
      await this.log.settled();
      return { claimed: false, existing };
    }
    if (this.memory.locateId(execution.id)) {
      throw new ValidationError(
        [{ field: "execution.id", code: "VALIDATION", message: `execution id '${execution.id}' is taken` }],
        { component: "storage-fs" },
      );
    }
    const { json, record } = snapshot(execution);
    this.memory.applyPut(record, json);
    await this.log.write([putLine(json)]);
    return { claimed: true, execution: record };
  }

  /**
   * Claims a batch of fires (Storage.claimFires): every claim is checked and decided
   * synchronously, before anything changes (a bad record throws and claims none; no other call
   * interleaves), then the won records go to the log in one append, so the batch shares one
   * group commit. A second claim of a fire in the batch loses to the first.
   */
  async claimFires(claims: readonly FireClaim[]): Promise<ClaimResult[]> {
    for (const { execution } of claims) {
      const problem = executionProblem(execution);
      if (problem !== null) {
        throw new ValidationError([{ field: "execution", code: "VALIDATION", message: problem }], {
          component: "storage-fs",
        });
      }
    }
    this.log.live();
    const { memory } = this;
    /** Per claim: where its holder is (lost), the index of the batch's first claim of its fire, or null (won). */
    const holders = new Array<Located | number | null>(claims.length);
    const firstOf = new Map<string, number>();
    const ids = new Set<string>();
    claims.forEach(({ execution }, i) => {
      const key = fireKey(execution.scheduleId, execution.scheduledAt);
      const first = firstOf.get(key);
      if (first !== undefined) {
        holders[i] = first;
        return;
      }
      firstOf.set(key, i);
      const found = memory.locateFire(execution.scheduleId, execution.scheduledAt);
      if (found) {
        holders[i] = found;
        return;
      }
      if (ids.has(execution.id) || memory.locateId(execution.id)) {
        throw new ValidationError(
          [{ field: "execution.id", code: "VALIDATION", message: `execution id '${execution.id}' is taken` }],
          { component: "storage-fs" },
        );
      }
      ids.add(execution.id);
      holders[i] = null;
    });
    const results = new Array<ClaimResult>(claims.length);
    const lines: string[] = [];
    const lostAt: number[] = [];
    const lostTo: Located[] = [];
    claims.forEach((claim, i) => {
      const holder = holders[i];
      if (holder === null) {
        const { json, record } = snapshot(claim.execution);
        // Asked before the claim joins the active executions (earlier claims of the batch count).
        const othersActive =
          claim.withOverlap === true
            ? (memory.activeBySchedule.get(record.scheduleId)?.size ?? 0) > 0
            : undefined;
        memory.applyPut(record, json);
        lines.push(putLine(json));
        const won: ClaimResult = { claimed: true, execution: record };
        if (claim.withState === true) won.state = this.claimState(record.scheduleId);
        if (othersActive !== undefined) won.othersActive = othersActive;
        results[i] = won;
      } else if (holder !== undefined && typeof holder !== "number") {
        lostAt.push(i);
        lostTo.push(holder);
      }
    });
    const durable = lines.length > 0 ? this.log.write(lines) : undefined;
    // Awaited below; until then a failed commit must not count as an unhandled rejection.
    durable?.catch(() => {});
    const existing = lostTo.length > 0 ? await materializeAll(lostTo) : [];
    lostAt.forEach((i, k) => {
      results[i] = { claimed: false, existing: existing[k] as ExecutionRecord };
    });
    claims.forEach((_, i) => {
      const first = holders[i];
      if (typeof first !== "number") return;
      const outcome = results[first] as ClaimResult;
      results[i] = { claimed: false, existing: outcome.claimed ? outcome.execution : outcome.existing };
    });
    await durable;
    if (lostTo.length > 0 || lines.length === 0) await this.log.settled();
    return results;
  }

  /** The committed state a won claim hands back: undefined for one failing its checks (the claim stands). */
  private claimState(scheduleId: string): ScheduleStateRecord | null | undefined {
    try {
      return this.states.get(scheduleId);
    } catch (error) {
      if (isCorruptRecord(error)) return undefined;
      throw error;
    }
  }

  /**
   * Applies `patch` if `instanceId` still holds the execution; with `state`, commits the
   * schedule's state in the same log line (see Storage.updateExecution). `scheduleExists` says
   * whether the schedule is still stored (the state of a deleted one is not written).
   */
  async updateExecution(
    id: string,
    instanceId: string,
    patch: ExecutionPatch,
    state?: StateCommit,
    scheduleExists: (scheduleId: string) => boolean = () => true,
  ): Promise<ExecutionRecord | null> {
    this.log.live();
    const current = this.memory.active.get(id);
    if (!current || current.instanceId !== instanceId) {
      await this.log.settled();
      return null;
    }
    // Decided synchronously, before anything changes: a conflict writes neither.
    let committed: ScheduleStateRecord | null = null;
    if (state !== undefined && scheduleExists(current.scheduleId)) {
      const revision = this.states.revision(current.scheduleId);
      if (revision !== state.expectedRevision) {
        throw new ConflictError(
          "REVISION_CONFLICT",
          `the state of schedule '${current.scheduleId}' is at revision ${revision}, not ${state.expectedRevision}`,
          { field: "state", details: { current: revision, expected: state.expectedRevision } },
        );
      }
      committed = deepFreeze(committedState(current.scheduleId, id, structuredClone(state)));
    }
    const next = applyExecutionPatch(current, patch);
    if (!EXECUTION_STATUSES.includes(next.status)) {
      throw new ValidationError(
        [{ field: "status", code: "VALIDATION", message: `unknown status ${String(next.status)}` }],
        { component: "storage-fs" },
      );
    }
    const { json, record } = snapshot(next);
    this.memory.applyPut(record, json);
    if (committed) {
      this.states.set(committed.scheduleId, committed);
      // One line: the outcome and the state reach the disk together or not at all.
      await this.log.write([`{"op":"put","rec":${json},"state":${JSON.stringify(committed)}}`]);
    } else {
      await this.log.write([putLine(json)]);
    }
    return record;
  }

  /** Removes the states of these schedules (deleted ones), durably. */
  async deleteStates(scheduleIds: readonly string[]): Promise<void> {
    const lines: string[] = [];
    for (const id of scheduleIds) {
      if (this.states.delete(id)) lines.push(JSON.stringify({ op: "unstate", scheduleId: id }));
    }
    if (lines.length > 0) await this.log.write(lines);
  }

  /** Extends the leases `instanceId` still holds; returns their ids. */
  async renewLeases(instanceId: string, ids: string[], leaseExpiresAt: number): Promise<string[]> {
    this.log.live();
    const held: string[] = [];
    const lines: string[] = [];
    for (const id of ids) {
      const current = this.memory.active.get(id);
      if (!current || current.instanceId !== instanceId) continue;
      const { json, record } = snapshot({ ...current, leaseExpiresAt });
      this.memory.applyPut(record, json);
      lines.push(putLine(json));
      held.push(id);
    }
    if (lines.length > 0) await this.log.write(lines);
    else await this.log.settled();
    return held;
  }

  /** Finalises an active execution as cancelled, whoever holds it. */
  async cancelExecution(id: string, reason: string, endedAt: number): Promise<ExecutionRecord | null> {
    this.log.live();
    const current = this.memory.active.get(id);
    if (!current) {
      await this.log.settled();
      return null;
    }
    const { json, record } = snapshot({
      ...current,
      status: "cancelled" as const,
      reason,
      endedAt,
      leaseExpiresAt: null,
    });
    this.memory.applyPut(record, json);
    await this.log.write([putLine(json)]);
    return record;
  }

  /** Deletes a claimed (not started) execution held by `instanceId`. */
  async releaseClaim(id: string, instanceId: string): Promise<boolean> {
    this.log.live();
    const { memory } = this;
    const current = memory.active.get(id);
    if (!current || current.instanceId !== instanceId || current.status !== "claimed") {
      await this.log.settled();
      return false;
    }
    memory.dropActive(id);
    if (isOwnFire(current.kind) && memory.lastFire.get(current.scheduleId) === current.scheduledAt) {
      memory.recomputeLastFire(current.scheduleId);
    }
    await this.log.write([JSON.stringify({ op: "del", id })]);
    return true;
  }

  /** Takes over expired leases (see Storage.takeOverExpired). */
  async takeOverExpired(
    instanceId: string,
    now: number,
    leaseExpiresAt: number,
    limit: number,
    jobs?: readonly string[],
  ): Promise<ExecutionRecord[]> {
    this.log.live();
    const taken: ExecutionRecord[] = [];
    const lines: string[] = [];
    for (const current of [...this.memory.active.values()]) {
      if (taken.length >= limit) break;
      if (current.leaseExpiresAt === null || current.leaseExpiresAt >= now) continue;
      if (jobs && !jobs.includes(current.job)) continue;
      const { json, record } = snapshot({
        ...current,
        instanceId,
        leaseExpiresAt,
        status: "running" as const,
        attempts: current.attempts + 1,
      });
      this.memory.applyPut(record, json);
      lines.push(putLine(json));
      taken.push(record);
    }
    if (lines.length > 0) await this.log.write(lines);
    else await this.log.settled();
    return taken;
  }
}
