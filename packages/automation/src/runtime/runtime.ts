/**
 * The recipes' port to the two core capabilities they need and core does not have yet (issue 13,
 * "Core capability they need"): per-schedule state committed atomically with a run's outcome, and
 * group approval. Every use of either goes through {@link RecipeRuntime}; nothing else in this
 * package reads or writes recipe state or approves a plan.
 *
 * TEMPORARY (phase 1). {@link createRuntime} implements the port over what core has today:
 *
 * - State rides in the run's result. A handler returns `{ summary, state: { seq, value } }`; core
 *   stores that result in the same write that marks the run `succeeded`, in every storage, so the
 *   state is committed atomically with the outcome exactly as `ctx.setState` will be. A failed,
 *   retried or taken-over attempt stores no result, so the next attempt reads the state of the
 *   last succeeded run: nothing is lost, nothing applied twice. Reading it is a query for the
 *   schedule's latest succeeded executions (the highest `seq` wins, so a backfilled older fire
 *   does not roll the state back); with MemoryStorage, which is one process by construction,
 *   the last committed state is also cached from `run:succeeded` events, because its listing is
 *   a scan.
 * - A group is the approvals one fire proposed: proposed one by one with `ctx.propose` and
 *   decided together with `scheduler.approve` / `scheduler.reject` on all of them. Decisions are
 *   per approval underneath, so "all or none" holds for the decision but not for the outcome: the
 *   risk guard re-checks each approved order and may refuse one of them.
 *
 * Phase 2 replaces this file: `loadState` returns `ctx.state`, `commit` calls `ctx.setState(next)`
 * and returns the summary alone, `peekState` reads core's stored schedule state, `summaryOf`
 * reads the result as the summary, and the group methods call `ctx.proposeGroup`,
 * `scheduler.approveGroup` and `scheduler.rejectGroup`.
 */

import {
  type ApprovalRecord,
  type DecisionResult,
  type ExecutionRecord,
  type JobContext,
  type JsonValue,
  MemoryStorage,
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

interface Envelope {
  summary: RunSummary;
  state: { seq: number; value: JsonValue };
}

function envelopeOf(result: JsonValue | null | undefined): Envelope | null {
  if (!result || typeof result !== "object" || Array.isArray(result)) return null;
  const state = (result as { state?: unknown }).state;
  const summary = (result as { summary?: unknown }).summary;
  if (!state || typeof state !== "object" || typeof (state as { seq?: unknown }).seq !== "number")
    return null;
  if (!summary || typeof summary !== "object") return null;
  return result as unknown as Envelope;
}

/** Succeeded runs read when looking for the latest state (a backfill may have added older ones). */
const STATE_SCAN = 20;

type Committed = { seq: number; value: JsonValue };

/**
 * Last committed state per schedule, per MemoryStorage: every scheduler sharing one (as tests of
 * takeover do) feeds and reads the same cache, so none of them reads a state another has replaced.
 */
const memoryCaches = new WeakMap<MemoryStorage, Map<string, Committed>>();

class Phase1Runtime implements RecipeRuntime {
  private readonly cache: Map<string, Committed> | null;
  /** The seq each attempt read (keyed by its context), so its commit is the next one. */
  private readonly readSeq = new WeakMap<JobContext, number>();

  constructor(private readonly scheduler: Scheduler) {
    const storage = scheduler.storage;
    if (storage instanceof MemoryStorage) {
      this.cache = memoryCaches.get(storage) ?? new Map();
      memoryCaches.set(storage, this.cache);
    } else {
      this.cache = null;
    }
    scheduler.on("run:succeeded", ({ execution }) => this.observe(execution));
  }

  private observe(execution: ExecutionRecord): void {
    if (!this.cache) return;
    const env = envelopeOf(execution.result);
    if (!env) return;
    const known = this.cache.get(execution.scheduleId);
    if (!known || env.state.seq > known.seq) this.cache.set(execution.scheduleId, env.state);
  }

  private async latest(scheduleId: string): Promise<Committed | null> {
    const cached = this.cache?.get(scheduleId);
    if (cached) return cached;
    const page = await this.scheduler.listExecutions({ scheduleId, status: "succeeded", limit: STATE_SCAN });
    let best: Committed | null = null;
    for (const e of page.items) {
      const env = envelopeOf(e.result);
      if (env && (best === null || env.state.seq > best.seq)) best = env.state;
    }
    if (best && this.cache) this.cache.set(scheduleId, best);
    return best;
  }

  async loadState(ctx: JobContext): Promise<JsonValue | null> {
    const latest = await this.latest(ctx.fire.scheduleId);
    this.readSeq.set(ctx, latest?.seq ?? 0);
    return latest?.value ?? null;
  }

  commit(ctx: JobContext, next: JsonValue, summary: RunSummary): unknown {
    const seq = (this.readSeq.get(ctx) ?? 0) + 1;
    const envelope: Envelope = { summary, state: { seq, value: next } };
    return envelope;
  }

  async peekState(scheduleId: string): Promise<JsonValue | null> {
    return (await this.latest(scheduleId))?.value ?? null;
  }

  summaryOf(result: JsonValue | null): RunSummary | null {
    return envelopeOf(result)?.summary ?? null;
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
    runtime = new Phase1Runtime(scheduler);
    runtimes.set(scheduler, runtime);
  }
  return runtime;
}
