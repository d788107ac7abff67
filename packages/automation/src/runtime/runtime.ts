/**
 * The recipes' port to the two core capabilities they need (issue 13, "Core capability they
 * need"): per-schedule state committed atomically with a run's outcome, and group approval.
 * Every use of either goes through {@link RecipeRuntime}; nothing else in this package reads or
 * writes recipe state or approves a plan.
 *
 * State is core's schedule state: `loadState` is `ctx.state`, `commit` stages the next
 * state with `ctx.setState` and returns the summary as the run's result, `peekState` reads
 * `scheduler.getScheduleState`. Core commits the staged state in the same storage write that
 * records the run as succeeded, fenced by the claim; a failed, retried or taken-over attempt
 * commits nothing, so the next attempt reads the state of the last committed run: nothing is
 * lost, nothing applied twice.
 *
 * Groups are core's approval groups: `proposeGroup` is `ctx.proposeGroup` (one approval per
 * intent, stored in one write, the whole group refused when the risk guard refuses any intent),
 * and `decideGroup` is `scheduler.approveGroup` / `rejectGroup`, one atomic decision of every
 * member with one `approval_group` audit entry. The group id is core's (`apg-...`), the same on
 * every attempt of a fire.
 */

import {
  type ApprovalGroup,
  type ApprovalRecord,
  type DecisionResult,
  type JobContext,
  type JsonValue,
  NotFoundError,
  type OrderIntentInput,
  type ProposalOutcome,
  type RiskLevel,
  type Scheduler,
} from "@tradecron/core";
import { PlanNotFoundError } from "../errors.js";
import type { RunSummary } from "./summary.js";

/** Metadata of a proposed group (a rebalance plan, an auto-invest purchase). */
export interface GroupMeta {
  rationale?: string;
  riskLevel?: RiskLevel;
  supportingData?: JsonValue;
}

/** A proposed group: its id and one approval per intent, in order. */
export interface GroupProposal {
  /** Core's group id (`apg-...`), the same on every attempt of the fire. */
  groupId: string;
  /** `pending`, or `rejected` when the risk guard refused an intent (then the whole group is refused). */
  status: ApprovalGroup["status"];
  approvals: ApprovalRecord[];
  /** The per-intent outcome (pending, or rejected by the risk guard at once). */
  outcomes: ProposalOutcome[];
}

/** The port. One per scheduler; recipes get it from {@link runtimeFor}. */
export interface RecipeRuntime {
  /** The state of the fire's schedule as of its last committed run (null before any). */
  loadState(ctx: JobContext): Promise<JsonValue | null>;
  /**
   * Stages `next` as the schedule's state, committed with this run's outcome, and returns what the
   * handler must return. Call it once, as the handler's last act.
   */
  commit(ctx: JobContext, next: JsonValue, summary: RunSummary): unknown;
  /** The committed state of a schedule, read outside a run (for `status()`). */
  peekState(scheduleId: string): Promise<JsonValue | null>;
  /** The run summary inside a stored execution result (null when the run left none). */
  summaryOf(result: JsonValue | null): RunSummary | null;
  /** Proposes `intents` as one approval group (`ctx.proposeGroup`). Idempotent per fire. */
  proposeGroup(ctx: JobContext, intents: OrderIntentInput[], meta: GroupMeta): Promise<GroupProposal>;
  /**
   * Approves (or rejects) a group of schedule `scheduleId` as one unit; results per member, in
   * proposal order. Throws {@link PlanNotFoundError} when the group does not exist or belongs to
   * another schedule, and core's ConflictError `APPROVAL_GROUP_NOT_PENDING` when it was already
   * decided or has expired.
   */
  decideGroup(
    scheduleId: string,
    groupId: string,
    decision: "approve" | "reject",
    options: { actor: string; reason?: string },
  ): Promise<DecisionResult[]>;
}

class CoreRuntime implements RecipeRuntime {
  constructor(private readonly scheduler: Scheduler) {}

  async loadState(ctx: JobContext): Promise<JsonValue | null> {
    return ctx.state;
  }

  commit(ctx: JobContext, next: JsonValue, summary: RunSummary): unknown {
    ctx.setState(next);
    return summary;
  }

  async peekState(scheduleId: string): Promise<JsonValue | null> {
    return (await this.scheduler.getScheduleState(scheduleId))?.value ?? null;
  }

  summaryOf(result: JsonValue | null): RunSummary | null {
    if (!result || typeof result !== "object" || Array.isArray(result)) return null;
    return typeof (result as { outcome?: unknown }).outcome === "string"
      ? (result as unknown as RunSummary)
      : null;
  }

  async proposeGroup(ctx: JobContext, intents: OrderIntentInput[], meta: GroupMeta): Promise<GroupProposal> {
    const { groupId, status, approvals, outcomes } = await ctx.proposeGroup(intents, {
      ...(meta.rationale !== undefined ? { rationale: meta.rationale } : {}),
      ...(meta.riskLevel !== undefined ? { riskLevel: meta.riskLevel } : {}),
      ...(meta.supportingData !== undefined ? { supportingData: meta.supportingData } : {}),
    });
    return { groupId, status, approvals, outcomes };
  }

  async decideGroup(
    scheduleId: string,
    groupId: string,
    decision: "approve" | "reject",
    options: { actor: string; reason?: string },
  ): Promise<DecisionResult[]> {
    let group: ApprovalGroup;
    try {
      group = await this.scheduler.getApprovalGroup(groupId);
    } catch (error) {
      if (error instanceof NotFoundError) throw new PlanNotFoundError(groupId, { cause: error });
      throw error;
    }
    // A recipe decides its own plans only: another schedule's group is not one of them.
    if (group.scheduleId !== scheduleId) throw new PlanNotFoundError(groupId);
    const o = { actor: options.actor, ...(options.reason !== undefined ? { reason: options.reason } : {}) };
    const { results } =
      decision === "approve"
        ? await this.scheduler.approveGroup(groupId, o)
        : await this.scheduler.rejectGroup(groupId, o);
    return results;
  }
}

const runtimes = new WeakMap<Scheduler, RecipeRuntime>();

/** The runtime of `scheduler` (one per scheduler, shared by every recipe on it). */
export function runtimeFor(scheduler: Scheduler): RecipeRuntime {
  let runtime = runtimes.get(scheduler);
  if (!runtime) {
    runtime = new CoreRuntime(scheduler);
    runtimes.set(scheduler, runtime);
  }
  return runtime;
}
