/**
 * The approval queue (DESIGN.md promise 7): proposed orders wait for a named person to approve or
 * reject them, one by one or in bulk, until they expire (4 hours by default). Approving re-runs
 * the risk guard (limits may have changed since the proposal) and submits through the order desk.
 * Every state change is a compare-and-set in storage (two approvers cannot both win) and is
 * written to the audit log.
 */

import { createHash } from "node:crypto";
import { errorCode, toError } from "../errors.js";
import type { SchedulerEvents } from "../events.js";
import type { OrderIntent } from "../orders/intent.js";
import type { Counters } from "../scheduler/status.js";
import type { ApprovalRecord, ApprovalStatus, JsonValue } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import { groupOf } from "./approval-group.js";
import type { OrderDesk } from "./order-desk.js";
import type { RiskRule } from "./risk.js";

/** Default time an approval stays pending. */
export const DEFAULT_APPROVAL_EXPIRY_MS = 4 * 3_600_000;
/** An approved order not yet submitted this long after the decision is resubmitted by the sweeper. */
const RESUBMIT_AFTER_MS = 30_000;

/** Outcome of proposing one intent. */
export interface ProposeResult {
  status: ApprovalStatus;
  approvalId: string;
  clientOrderId: string;
  /** Set when the risk guard rejected the proposal outright. */
  rule?: string;
  reason?: string;
}

/** Outcome of one decision in an approve/reject call. */
export interface DecisionResult {
  id: string;
  /** False when nothing was decided (unknown id, not pending any more, broker down). */
  ok: boolean;
  /** The approval's status after the call. */
  status: ApprovalStatus | null;
  /** Why not, or why the order was refused. */
  code?: string;
  reason?: string;
  brokerOrderId?: string | null;
}

/** What the queue needs. */
export interface ApprovalQueueDeps {
  storage: Storage;
  clock: Clock;
  desk: OrderDesk;
  /** Counts orders refused (a proposal the risk guard rejects at once is one). */
  counters: Pick<Counters, "ordersRejected">;
  emit<K extends keyof SchedulerEvents>(name: K, payload: SchedulerEvents[K]): void;
  /** Writes an audit entry about an approval (or, with `subjectType`, about an approval group). */
  audit(
    actor: string,
    action: string,
    subjectId: string,
    details: JsonValue | null,
    subjectType?: "approval" | "approval_group",
  ): Promise<void>;
  /** Schedule-specific risk rules by schedule id (null schedule: none). */
  rulesFor(scheduleId: string | null): readonly RiskRule[];
}

/** The approval id of a client order id: deterministic, so a retried fire does not propose twice. */
export function approvalIdOf(clientOrderId: string): string {
  return `ap-${createHash("sha256").update(clientOrderId).digest("base64url").slice(0, 24)}`;
}

/** The refusal of a single decision on a member of a group: groups are decided as a unit. */
function inGroup(approval: ApprovalRecord): DecisionResult {
  return {
    id: approval.id,
    ok: false,
    status: approval.status,
    code: "APPROVAL_IN_GROUP",
    reason: `approval belongs to group '${approval.groupId}': approve or reject the group`,
  };
}

/** Creates, decides and expires approvals. */
export class ApprovalQueue {
  constructor(private readonly deps: ApprovalQueueDeps) {}

  /** Queues `intent` for approval (or records the risk guard's outright rejection). Idempotent per client order id. */
  async propose(input: {
    intent: OrderIntent;
    clientOrderId: string;
    intentIndex: number;
    scheduleId: string;
    executionId: string;
    fireKey: string;
    expiryMs: number;
  }): Promise<{ result: ProposeResult; record: ApprovalRecord; created: boolean }> {
    const { storage, clock } = this.deps;
    const id = approvalIdOf(input.clientOrderId);
    const existing = await storage.getApproval(id);
    if (existing) return { result: this.resultOf(existing), record: existing, created: false };
    const now = clock.now();
    const outcome = await this.deps.desk.check(
      input.intent,
      input.scheduleId,
      this.deps.rulesFor(input.scheduleId),
      "propose",
    );
    const record: ApprovalRecord = {
      id,
      scheduleId: input.scheduleId,
      executionId: input.executionId,
      fireKey: input.fireKey,
      intentIndex: input.intentIndex,
      clientOrderId: input.clientOrderId,
      intent: input.intent as unknown as JsonValue,
      status: outcome.ok ? "pending" : "rejected",
      riskLevel: input.intent.riskLevel,
      rationale: input.intent.rationale ?? null,
      confidence: input.intent.confidence ?? null,
      supportingData: input.intent.supportingData ?? null,
      createdAt: now,
      expiresAt: now + input.expiryMs,
      decidedAt: outcome.ok ? null : now,
      decidedBy: outcome.ok ? null : "risk-guard",
      decisionReason: outcome.ok ? null : `${outcome.rule}: ${outcome.reason}`,
      brokerOrderId: null,
      error: null,
    };
    try {
      await storage.insertApprovals([record]);
    } catch (error) {
      // Another attempt of the same fire got there first: report what it stored.
      const raced = await storage.getApproval(id);
      if (raced) return { result: this.resultOf(raced), record: raced, created: false };
      throw error;
    }
    if (outcome.ok) {
      this.deps.emit("approval:requested", { approval: record });
    } else {
      this.deps.counters.ordersRejected++;
      this.deps.emit("approval:decided", { approval: record, decision: "rejected", actor: "risk-guard" });
      await this.deps.audit("risk-guard", "approval.reject", id, {
        rule: outcome.rule,
        reason: outcome.reason,
      });
    }
    return { result: this.resultOf(record), record, created: true };
  }

  /** What `propose` reports for a stored approval (its status, and the risk guard's refusal if any). */
  resultOf(a: ApprovalRecord): ProposeResult {
    const base: ProposeResult = { status: a.status, approvalId: a.id, clientOrderId: a.clientOrderId };
    if (a.status === "rejected" && a.decidedBy === "risk-guard" && a.decisionReason) {
      const [rule, ...rest] = a.decisionReason.split(": ");
      return { ...base, rule: rule ?? "risk", reason: rest.join(": ") };
    }
    return base;
  }

  /**
   * Approves each pending approval: re-checks risk, then submits. Results in input order. An
   * approval whose schedule was removed meanwhile is rejected (code `SCHEDULE_NOT_FOUND`): nothing
   * stands behind its order any more. `allowRemovedSchedule` submits it anyway.
   */
  async approve(
    ids: readonly string[],
    actor: string,
    reason: string | null,
    options: { allowRemovedSchedule?: boolean } = {},
  ): Promise<DecisionResult[]> {
    const results: DecisionResult[] = [];
    for (const id of ids)
      results.push(await this.approveOne(id, actor, reason, options.allowRemovedSchedule ?? false));
    return results;
  }

  /** True when the approval's schedule is gone (an unreadable stored one still counts as there). */
  async scheduleGone(scheduleId: string): Promise<boolean> {
    try {
      return (await this.deps.storage.getSchedule(scheduleId)) === null;
    } catch (error) {
      if (errorCode(error) === "STORAGE_CORRUPT") return false;
      throw error;
    }
  }

  /** Records the refusal of an approval whose schedule was removed. */
  private async refuseOrphan(approval: ApprovalRecord, actor: string, now: number): Promise<DecisionResult> {
    const { id, scheduleId } = approval;
    const reason = `schedule '${scheduleId}' was removed; approve with allowRemovedSchedule to submit anyway`;
    const rejected = await this.deps.storage.transitionApproval(id, "pending", {
      status: "rejected",
      decidedAt: now,
      decidedBy: actor,
      decisionReason: `refused: ${reason}`,
    });
    if (!rejected) return this.notPending(id);
    await this.deps.audit(actor, "approval.approve_refused", id, { rule: "schedule_removed", reason });
    this.deps.emit("approval:decided", { approval: rejected, decision: "rejected", actor });
    return { id, ok: false, status: "rejected", code: "SCHEDULE_NOT_FOUND", reason };
  }

  private async notPending(id: string): Promise<DecisionResult> {
    const current = await this.deps.storage.getApproval(id);
    if (!current)
      return { id, ok: false, status: null, code: "NOT_FOUND", reason: `approval '${id}' not found` };
    return {
      id,
      ok: false,
      status: current.status,
      code: "APPROVAL_NOT_PENDING",
      reason: `approval is ${current.status}`,
    };
  }

  private async approveOne(
    id: string,
    actor: string,
    reason: string | null,
    allowRemovedSchedule: boolean,
  ): Promise<DecisionResult> {
    const { storage, clock, desk } = this.deps;
    const approval = await storage.getApproval(id);
    if (approval?.status !== "pending") return this.notPending(id);
    if (approval.groupId !== undefined) return inGroup(approval);
    const now = clock.now();
    if (approval.expiresAt <= now) {
      await this.expireOne(approval, now);
      return { id, ok: false, status: "expired", code: "APPROVAL_NOT_PENDING", reason: "approval expired" };
    }
    if (!allowRemovedSchedule && (await this.scheduleGone(approval.scheduleId))) {
      return this.refuseOrphan(approval, actor, now);
    }
    const intent = approval.intent as unknown as OrderIntent;
    let outcome: Awaited<ReturnType<OrderDesk["check"]>>;
    try {
      outcome = await desk.check(intent, approval.scheduleId, this.deps.rulesFor(approval.scheduleId));
    } catch (error) {
      // The re-check could not run (the broker is not connected, or its data could not be read):
      // nothing is decided, the approval stays pending, and approving again later goes through.
      const e = toError(error);
      const code = errorCode(e) ?? "BROKER_UNAVAILABLE";
      await this.deps.audit(actor, "approval.approve_failed", id, { code, reason: e.message });
      return { id, ok: false, status: "pending", code, reason: e.message };
    }
    if (!outcome.ok) {
      const rejected = await storage.transitionApproval(id, "pending", {
        status: "rejected",
        decidedAt: now,
        decidedBy: actor,
        decisionReason: `risk re-check failed: ${outcome.rule}: ${outcome.reason}`,
      });
      if (!rejected) return this.notPending(id);
      await this.deps.audit(actor, "approval.approve_refused", id, {
        rule: outcome.rule,
        reason: outcome.reason,
      });
      this.deps.emit("approval:decided", { approval: rejected, decision: "rejected", actor });
      return {
        id,
        ok: false,
        status: "rejected",
        code: "RISK_REJECTED",
        reason: `${outcome.rule}: ${outcome.reason}`,
      };
    }
    const approved = await storage.transitionApproval(id, "pending", {
      status: "approved",
      decidedAt: now,
      decidedBy: actor,
      decisionReason: reason,
    });
    if (!approved) return this.notPending(id);
    await this.deps.audit(actor, "approval.approve", id, { reason, clientOrderId: approved.clientOrderId });
    this.deps.emit("approval:decided", { approval: approved, decision: "approved", actor });
    return this.submitApproved(approved, actor);
  }

  /**
   * Submits an approved approval and moves it to `submitted` or `failed`. With `recheck` the risk
   * guard runs first (group members: their decision came before any check); a refusal is
   * `failed` with code `RISK_REJECTED`. Broker unreachable: it stays `approved` (the sweeper
   * resubmits it).
   */
  async submitApproved(
    approved: ApprovalRecord,
    actor: string,
    options: { recheck?: boolean } = {},
  ): Promise<DecisionResult> {
    const { storage, desk } = this.deps;
    const id = approved.id;
    try {
      const submitted = await desk.submit({
        intent: approved.intent as unknown as OrderIntent,
        clientOrderId: approved.clientOrderId,
        scheduleId: approved.scheduleId,
        executionId: approved.executionId,
        approvalId: id,
        checked: !options.recheck,
        extraRules: this.deps.rulesFor(approved.scheduleId),
      });
      if (submitted.status === "submitted") {
        const done = await storage.transitionApproval(id, "approved", {
          status: "submitted",
          brokerOrderId: submitted.order.brokerOrderId,
        });
        await this.deps.audit(actor, "approval.submit", id, { brokerOrderId: submitted.order.brokerOrderId });
        return {
          id,
          ok: true,
          status: done?.status ?? "submitted",
          brokerOrderId: submitted.order.brokerOrderId,
        };
      }
      const code = submitted.rule === "broker" ? "BROKER_REJECTED" : "RISK_REJECTED";
      const reason = code === "RISK_REJECTED" ? `${submitted.rule}: ${submitted.reason}` : submitted.reason;
      await storage.transitionApproval(id, "approved", {
        status: "failed",
        error: {
          message: reason,
          code,
          name: code === "BROKER_REJECTED" ? "BrokerRejectedError" : "RiskRejectedError",
        },
      });
      await this.deps.audit(actor, "approval.submit_failed", id, {
        rule: submitted.rule,
        reason: submitted.reason,
        ...(approved.groupId !== undefined ? { groupId: approved.groupId } : {}),
      });
      return { id, ok: false, status: "failed", code, reason };
    } catch (error) {
      // Broker unreachable: the approval stays approved and the sweeper resubmits it (same client order id).
      const e = toError(error);
      return {
        id,
        ok: false,
        status: "approved",
        code: errorCode(e) ?? "BROKER_UNAVAILABLE",
        reason: e.message,
      };
    }
  }

  /** Rejects each pending approval. */
  async reject(ids: readonly string[], actor: string, reason: string | null): Promise<DecisionResult[]> {
    const results: DecisionResult[] = [];
    const now = this.deps.clock.now();
    for (const id of ids) {
      const current = await this.deps.storage.getApproval(id);
      if (current?.groupId !== undefined && current.status === "pending") {
        results.push(inGroup(current));
        continue;
      }
      const rejected = await this.deps.storage.transitionApproval(id, "pending", {
        status: "rejected",
        decidedAt: now,
        decidedBy: actor,
        decisionReason: reason,
      });
      if (!rejected) {
        results.push(await this.notPending(id));
        continue;
      }
      await this.deps.audit(actor, "approval.reject", id, { reason });
      this.deps.emit("approval:decided", { approval: rejected, decision: "rejected", actor });
      results.push({ id, ok: true, status: "rejected" });
    }
    return results;
  }

  private async expireOne(approval: ApprovalRecord, now: number): Promise<ApprovalRecord | null> {
    if (approval.groupId !== undefined) {
      const members = await this.expireGroup(approval.groupId, now);
      if (members) return members.find((m) => m.id === approval.id) ?? null;
      // Not all pending any more (decided meanwhile, or members decided one by one by older code).
      if ((await this.deps.storage.getApproval(approval.id))?.status !== "pending") return null;
    }
    const expired = await this.deps.storage.transitionApproval(approval.id, "pending", {
      status: "expired",
      decidedAt: now,
      decidedBy: "system",
      decisionReason: "expired before a decision",
    });
    if (expired) {
      await this.deps.audit("system", "approval.expire", approval.id, { expiresAt: approval.expiresAt });
      this.deps.emit("approval:expired", { approval: expired });
    }
    return expired;
  }

  /**
   * Expires every member of a pending group at once (all or none). Returns the expired members,
   * or null when the group was not all pending.
   */
  async expireGroup(groupId: string, now: number): Promise<ApprovalRecord[] | null> {
    const expired = await this.deps.storage.transitionApprovalGroup(groupId, "pending", {
      status: "expired",
      decidedAt: now,
      decidedBy: "system",
      decisionReason: "expired before a decision",
    });
    if (!expired) return null;
    for (const a of expired) {
      await this.deps.audit("system", "approval.expire", a.id, { expiresAt: a.expiresAt, groupId });
      this.deps.emit("approval:expired", { approval: a });
    }
    await this.deps.audit(
      "system",
      "approval_group.expire",
      groupId,
      { approvalIds: expired.map((a) => a.id), expiresAt: (expired[0] as ApprovalRecord).expiresAt },
      "approval_group",
    );
    this.deps.emit("approval-group:expired", { group: groupOf(expired) });
    return expired;
  }

  /**
   * Submits a group's approved members in proposal order, re-checking each with the risk guard.
   * Stops at the first the broker could not take (broker unreachable): the later ones stay
   * `approved`, reported with that code, and the sweeper carries on in order later. A member the
   * guard or the broker refuses is `failed`; the others still go.
   */
  async submitGroupMembers(members: readonly ApprovalRecord[], actor: string): Promise<DecisionResult[]> {
    const results: DecisionResult[] = [];
    let blocked: DecisionResult | null = null;
    for (const m of [...members].sort((a, b) => a.intentIndex - b.intentIndex)) {
      if (m.status !== "approved") continue;
      if (blocked) {
        results.push({
          id: m.id,
          ok: false,
          status: "approved",
          ...(blocked.code !== undefined ? { code: blocked.code } : {}),
          reason: `not submitted yet: an earlier member of the group could not be (${blocked.reason ?? ""})`,
        });
        continue;
      }
      const r = await this.submitApproved(m, actor, { recheck: true });
      if (r.status === "approved") blocked = r;
      results.push(r);
    }
    return results;
  }

  /**
   * Expires pending approvals past their expiry (a group's members together), and resubmits
   * approved ones whose submission did not go through (broker down at approval time; a group's
   * in proposal order). Returns the approvals it expired.
   */
  async sweep(): Promise<ApprovalRecord[]> {
    const { storage, clock } = this.deps;
    const now = clock.now();
    const expired: ApprovalRecord[] = [];
    const groups = new Set<string>();
    for (const a of await storage.listExpiredApprovals(now, 500)) {
      if (a.groupId !== undefined) {
        // A group expires as a unit: once, however many of its members the listing holds.
        if (groups.has(a.groupId)) continue;
        groups.add(a.groupId);
        const members = await this.expireGroup(a.groupId, now);
        if (members) {
          expired.push(...members);
          continue;
        }
      }
      const e = await this.expireOne(a, now);
      if (e) expired.push(e);
    }
    const stuck = await storage.listApprovals({ status: "approved", limit: 100 });
    groups.clear();
    for (const a of stuck.items) {
      if (a.decidedAt === null || now - a.decidedAt < RESUBMIT_AFTER_MS) continue;
      if (a.groupId === undefined) {
        await this.submitApproved(a, a.decidedBy ?? "system");
      } else if (!groups.has(a.groupId)) {
        groups.add(a.groupId);
        const members = await storage.listApprovals({ groupId: a.groupId, status: "approved", limit: 1000 });
        await this.submitGroupMembers(members.items, a.decidedBy ?? "system");
      }
    }
    return expired;
  }
}
