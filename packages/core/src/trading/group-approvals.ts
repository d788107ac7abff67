/**
 * Group approval: the intents a handler proposes together (a rebalance plan) are approved or
 * rejected as one unit, all or none, by a named actor, with one expiry and one audit entry for
 * the decision. The decision is one atomic storage write of every member
 * (`Storage.transitionApprovalGroup`), so two deciders cannot split a group, and a group with a
 * member no longer pending cannot be decided at all.
 *
 * What cannot be all or none is the broker: after approval the members are submitted one by one,
 * in proposal order, each re-checked by the risk guard. A member the guard or the broker refuses
 * then is `failed` (codes `RISK_REJECTED`, `BROKER_REJECTED`) and the others still go; one the
 * broker cannot take now (unreachable) stays `approved` with the later ones, and the sweeper
 * submits them in order later. Every outcome is reported per member and audited.
 */

import { ConflictError, NotFoundError } from "../errors.js";
import type { OrderIntent } from "../orders/intent.js";
import type { ProposalOutcome } from "../scheduler/job.js";
import type { ApprovalRecord, JsonValue, RiskLevel } from "../storage/records.js";
import { type ApprovalGroup, approvalGroupIdOf, groupOf, MAX_GROUP_SIZE } from "./approval-group.js";
import {
  type ApprovalQueue,
  type ApprovalQueueDeps,
  approvalIdOf,
  type DecisionResult,
} from "./approval-queue.js";
import type { RiskOutcome } from "./risk.js";

/** What `ctx.proposeGroup` returns. */
export interface GroupProposal {
  groupId: string;
  /**
   * `pending`, or `rejected` when the risk guard refused at least one intent at proposal: then
   * the whole group is refused (all or none) and nothing waits for a decision.
   */
  status: ApprovalGroup["status"];
  /** One approval per intent, in order, each carrying `groupId`. */
  approvals: ApprovalRecord[];
  /** Per intent: pending, or rejected with the rule (`group_refused` for the members refused with another). */
  outcomes: ProposalOutcome[];
}

/** What deciding a group returns: the group after the call, and one result per member in proposal order. */
export interface GroupDecision {
  group: ApprovalGroup;
  results: DecisionResult[];
}

/** What group approval needs: what the single-approval queue needs, the queue itself, and a removal check. */
export interface GroupApprovalsDeps extends ApprovalQueueDeps {
  queue: ApprovalQueue;
  /** True when the schedule was removed (its orders have nothing behind them any more). */
  scheduleGone(scheduleId: string): Promise<boolean>;
}

/** Proposes, decides and reads approval groups. */
export class GroupApprovals {
  constructor(private readonly deps: GroupApprovalsDeps) {}

  /** The members of `groupId` in proposal order (empty when unknown). */
  async members(groupId: string): Promise<ApprovalRecord[]> {
    const page = await this.deps.storage.listApprovals({ groupId, limit: 1000 });
    return page.items.sort((a, b) => a.intentIndex - b.intentIndex);
  }

  /** The group; NotFoundError when no approval carries `groupId`. */
  async get(groupId: string): Promise<ApprovalGroup> {
    const members = await this.members(groupId);
    if (members.length === 0) {
      throw new NotFoundError("NOT_FOUND", `approval group '${groupId}' not found`, { field: "groupId" });
    }
    return groupOf(members);
  }

  /**
   * Proposes `intents` (already parsed, metadata merged) as one group. Idempotent per fire: a
   * retried attempt that proposes at the same position gets the stored group back unchanged.
   */
  async propose(input: {
    intents: readonly OrderIntent[];
    firstIndex: number;
    clientOrderIds: readonly string[];
    scheduleId: string;
    executionId: string;
    fireKey: string;
    expiryMs: number;
  }): Promise<{ proposal: GroupProposal; created: boolean }> {
    const { storage, clock, desk } = this.deps;
    if (input.intents.length > MAX_GROUP_SIZE) throw new RangeError("proposeGroup: too many intents");
    const groupId = approvalGroupIdOf(input.fireKey, input.firstIndex);
    const stored = await this.members(groupId);
    if (stored.length > 0) return { proposal: this.proposalOf(stored), created: false };
    const now = clock.now();
    const rules = this.deps.rulesFor(input.scheduleId);
    // Each intent on its own, against the same account: the guard sees the plan's orders one by one.
    const outcomes: RiskOutcome[] = [];
    for (const intent of input.intents)
      outcomes.push(await desk.check(intent, input.scheduleId, rules, "propose"));
    const refusedAt = outcomes.findIndex((o) => !o.ok);
    const refused = refusedAt >= 0;
    const firstRefusal = outcomes[refusedAt];
    const records: ApprovalRecord[] = input.intents.map((intent, i) => {
      const clientOrderId = input.clientOrderIds[i] as string;
      const outcome = outcomes[i];
      let decisionReason: string | null = null;
      if (outcome && !outcome.ok) decisionReason = `${outcome.rule}: ${outcome.reason}`;
      else if (refused && firstRefusal && !firstRefusal.ok) {
        decisionReason = `group_refused: intent ${refusedAt} (${input.intents[refusedAt]?.symbol}) was refused by ${firstRefusal.rule}`;
      }
      return {
        id: approvalIdOf(clientOrderId),
        scheduleId: input.scheduleId,
        executionId: input.executionId,
        fireKey: input.fireKey,
        intentIndex: input.firstIndex + i,
        clientOrderId,
        intent: intent as unknown as JsonValue,
        status: refused ? "rejected" : "pending",
        riskLevel: intent.riskLevel,
        rationale: intent.rationale ?? null,
        confidence: intent.confidence ?? null,
        supportingData: intent.supportingData ?? null,
        createdAt: now,
        expiresAt: now + input.expiryMs,
        decidedAt: refused ? now : null,
        decidedBy: refused ? "risk-guard" : null,
        decisionReason,
        brokerOrderId: null,
        error: null,
        groupId,
      };
    });
    try {
      await storage.insertApprovals(records);
    } catch (error) {
      // Another attempt of the same fire stored the group first: report what it stored.
      const raced = await this.members(groupId);
      if (raced.length > 0) return { proposal: this.proposalOf(raced), created: false };
      throw error;
    }
    const group = groupOf(records);
    if (!refused) {
      for (const a of records) this.deps.emit("approval:requested", { approval: a });
      this.deps.emit("approval-group:requested", { group });
    } else {
      this.deps.counters.ordersRejected += records.length;
      for (const a of records) {
        this.deps.emit("approval:decided", { approval: a, decision: "rejected", actor: "risk-guard" });
        await this.deps.audit("risk-guard", "approval.reject", a.id, { reason: a.decisionReason, groupId });
      }
      const why = firstRefusal && !firstRefusal.ok ? firstRefusal : null;
      await this.deps.audit(
        "risk-guard",
        "approval_group.reject",
        groupId,
        {
          approvalIds: records.map((a) => a.id),
          intentIndex: refusedAt,
          rule: why?.rule ?? null,
          reason: why?.reason ?? null,
        },
        "approval_group",
      );
      this.deps.emit("approval-group:decided", {
        group,
        decision: "rejected",
        actor: "risk-guard",
        reason: records[refusedAt]?.decisionReason ?? null,
      });
    }
    return { proposal: this.proposalOf(records), created: true };
  }

  private proposalOf(members: readonly ApprovalRecord[]): GroupProposal {
    const group = groupOf(members);
    return {
      groupId: group.id,
      status: group.status,
      approvals: group.members,
      outcomes: group.members.map((m) => this.deps.queue.resultOf(m)),
    };
  }

  /**
   * The group if every member is still pending and unexpired; otherwise the typed error (an
   * expired group is expired as a unit first, so the sweeper need not).
   */
  private async pendingGroup(groupId: string, now: number): Promise<ApprovalGroup> {
    const group = await this.get(groupId);
    if (group.status === "pending" && group.expiresAt <= now) {
      await this.deps.queue.expireGroup(groupId, now);
      throw notPending(groupId, "expired");
    }
    if (group.status !== "pending") throw notPending(groupId, group.status, group.counts);
    return group;
  }

  /** The error when the atomic write found the group no longer all pending (someone decided first). */
  private async lostRace(groupId: string): Promise<ConflictError> {
    const group = await this.get(groupId);
    return notPending(groupId, group.status, group.counts);
  }

  /**
   * Approves every member at once, then submits them in proposal order (see the file comment).
   * Throws NotFoundError for an unknown group and ConflictError `APPROVAL_GROUP_NOT_PENDING` when
   * any member is not pending (decided, expired) or the group has expired: nothing changes then.
   * A group whose schedule was removed is rejected as a unit (results with code
   * `SCHEDULE_NOT_FOUND`) unless `allowRemovedSchedule`.
   */
  async approve(
    groupId: string,
    actor: string,
    reason: string | null,
    options: { allowRemovedSchedule?: boolean } = {},
  ): Promise<GroupDecision> {
    const now = this.deps.clock.now();
    const group = await this.pendingGroup(groupId, now);
    if (!options.allowRemovedSchedule && (await this.deps.scheduleGone(group.scheduleId))) {
      const why = `schedule '${group.scheduleId}' was removed; approve with allowRemovedSchedule to submit anyway`;
      const decided = await this.decide(
        groupId,
        "rejected",
        actor,
        `refused: ${why}`,
        now,
        "approve_refused",
        {
          rule: "schedule_removed",
          reason: why,
        },
      );
      return {
        group: groupOf(decided),
        results: decided.map((m) => ({
          id: m.id,
          ok: false,
          status: m.status,
          code: "SCHEDULE_NOT_FOUND",
          reason: why,
        })),
      };
    }
    const approved = await this.decide(groupId, "approved", actor, reason, now, "approve", { reason });
    const results = await this.deps.queue.submitGroupMembers(approved, actor);
    const failed = results.filter((r) => !r.ok);
    await this.deps.audit(
      actor,
      "approval_group.submit",
      groupId,
      {
        submitted: results.filter((r) => r.ok).map((r) => r.id),
        notSubmitted: failed.map((r) => ({
          id: r.id,
          status: r.status,
          code: r.code ?? null,
          reason: r.reason ?? null,
        })),
      },
      "approval_group",
    );
    return { group: await this.get(groupId), results };
  }

  /** Rejects every member at once; the same errors as {@link GroupApprovals.approve}. */
  async reject(groupId: string, actor: string, reason: string | null): Promise<GroupDecision> {
    const now = this.deps.clock.now();
    await this.pendingGroup(groupId, now);
    const rejected = await this.decide(groupId, "rejected", actor, reason, now, "reject", { reason });
    return {
      group: groupOf(rejected),
      results: rejected.map((m) => ({ id: m.id, ok: true, status: m.status })),
    };
  }

  /** The atomic decision, its audit (one group entry, one per member) and its events. */
  private async decide(
    groupId: string,
    status: "approved" | "rejected",
    actor: string,
    reason: string | null,
    now: number,
    verb: "approve" | "reject" | "approve_refused",
    details: { [key: string]: JsonValue },
  ): Promise<ApprovalRecord[]> {
    const members = await this.deps.storage.transitionApprovalGroup(groupId, "pending", {
      status,
      decidedAt: now,
      decidedBy: actor,
      decisionReason: reason,
    });
    if (!members) throw await this.lostRace(groupId);
    const approvalIds = members.map((m) => m.id);
    await this.deps.audit(
      actor,
      `approval_group.${verb}`,
      groupId,
      { ...details, approvalIds },
      "approval_group",
    );
    for (const m of members) {
      await this.deps.audit(actor, `approval.${verb}`, m.id, {
        ...details,
        clientOrderId: m.clientOrderId,
        groupId,
      });
      this.deps.emit("approval:decided", { approval: m, decision: status, actor });
    }
    this.deps.emit("approval-group:decided", { group: groupOf(members), decision: status, actor, reason });
    return members;
  }
}

function notPending(
  groupId: string,
  status: string,
  counts?: Partial<Record<string, number>>,
): ConflictError {
  const what =
    status === "mixed" && counts
      ? Object.entries(counts)
          .map(([s, n]) => `${n} ${s}`)
          .join(", ")
      : status;
  return new ConflictError(
    "APPROVAL_GROUP_NOT_PENDING",
    `approval group '${groupId}' is ${what}: only a group whose every member is pending can be decided`,
    { field: "groupId", details: { groupId, status, ...(counts ? { counts } : {}) } },
  );
}

/** Merges group metadata into an intent: the intent's own rationale and data win; the group's risk level applies to all. */
export function withGroupMeta<
  T extends { rationale?: string; riskLevel?: RiskLevel; supportingData?: unknown },
>(intent: T, meta: { rationale?: string; riskLevel?: RiskLevel; supportingData?: JsonValue }): T {
  return {
    ...intent,
    ...(meta.rationale !== undefined && intent.rationale === undefined ? { rationale: meta.rationale } : {}),
    ...(meta.riskLevel !== undefined ? { riskLevel: meta.riskLevel } : {}),
    ...(meta.supportingData !== undefined && intent.supportingData === undefined
      ? { supportingData: meta.supportingData }
      : {}),
  };
}
