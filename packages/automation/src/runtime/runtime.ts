/**
 * The recipes' port to the two core capabilities they need (issue 13, "Core capability they
 * need"): per-schedule state committed atomically with a run's outcome, and group approval.
 * Every use of either goes through {@link RecipeRuntime}; nothing else in this package reads or
 * writes recipe state or approves a plan.
 *
 * State is core's schedule state (phase 2): `loadState` is `ctx.state`, `commit` stages the next
 * state with `ctx.setState` and returns the summary as the run's result, `peekState` reads
 * `scheduler.getScheduleState`. Core commits the staged state in the same storage write that
 * records the run as succeeded, fenced by the claim; a failed, retried or taken-over attempt
 * commits nothing, so the next attempt reads the state of the last committed run: nothing is
 * lost, nothing applied twice.
 *
 * TEMPORARY (phase 1) for groups: a group is the approvals one fire proposed, proposed one by one
 * with `ctx.propose` and decided together with `scheduler.approve` / `scheduler.reject` on all
 * of them. Decisions are per approval underneath, so "all or none" holds for the decision but not
 * for the outcome: the risk guard re-checks each approved order and may refuse one of them. The
 * group methods will call `ctx.proposeGroup`, `scheduler.approveGroup` and `scheduler.rejectGroup`
 * once core has group approval.
 */

import type {
  ApprovalRecord,
  DecisionResult,
  JobContext,
  JsonValue,
  OrderIntentInput,
  ProposalOutcome,
  RiskLevel,
  Scheduler,
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
  groupId: string;
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
  /** Proposes `intents` as one group for approval. Idempotent per fire, as `ctx.propose` is. */
  proposeGroup(ctx: JobContext, intents: OrderIntentInput[], meta: GroupMeta): Promise<GroupProposal>;
  /** Approves (or rejects) every pending approval of a group, in proposal order. */
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
    const outcomes: ProposalOutcome[] = [];
    for (const intent of intents) {
      outcomes.push(
        await ctx.propose({
          ...intent,
          ...(meta.rationale !== undefined && intent.rationale === undefined
            ? { rationale: meta.rationale }
            : {}),
          ...(meta.riskLevel !== undefined ? { riskLevel: meta.riskLevel } : {}),
          ...(meta.supportingData !== undefined && intent.supportingData === undefined
            ? { supportingData: meta.supportingData }
            : {}),
        }),
      );
    }
    const approvals = await Promise.all(outcomes.map((o) => this.scheduler.getApproval(o.approvalId)));
    return { groupId: ctx.fire.idempotencyKey, approvals, outcomes };
  }

  async decideGroup(
    scheduleId: string,
    groupId: string,
    decision: "approve" | "reject",
    options: { actor: string; reason?: string },
  ): Promise<DecisionResult[]> {
    const pending: ApprovalRecord[] = [];
    let cursor: string | null = null;
    do {
      const page = await this.scheduler.listApprovals({ scheduleId, status: "pending", limit: 1000, cursor });
      pending.push(...page.items.filter((a) => a.fireKey === groupId));
      cursor = page.nextCursor;
    } while (cursor);
    if (pending.length === 0) throw new PlanNotFoundError(groupId);
    const ids = pending.sort((a, b) => a.intentIndex - b.intentIndex).map((a) => a.id);
    const o = { actor: options.actor, ...(options.reason !== undefined ? { reason: options.reason } : {}) };
    return decision === "approve" ? this.scheduler.approve(ids, o) : this.scheduler.reject(ids, o);
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
