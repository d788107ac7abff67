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
  audit(actor: string, action: string, subjectId: string, details: JsonValue | null): Promise<void>;
  /** Schedule-specific risk rules by schedule id (null schedule: none). */
  rulesFor(scheduleId: string | null): readonly RiskRule[];
}

/** The approval id of a client order id: deterministic, so a retried fire does not propose twice. */
export function approvalIdOf(clientOrderId: string): string {
  return `ap-${createHash("sha256").update(clientOrderId).digest("base64url").slice(0, 24)}`;
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

  private resultOf(a: ApprovalRecord): ProposeResult {
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
  private async scheduleGone(scheduleId: string): Promise<boolean> {
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
    if (!approval || approval.status !== "pending") return this.notPending(id);
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

  /** Submits an approved approval and moves it to `submitted` or `failed`. */
  private async submitApproved(approved: ApprovalRecord, actor: string): Promise<DecisionResult> {
    const { storage, desk } = this.deps;
    const id = approved.id;
    try {
      const submitted = await desk.submit({
        intent: approved.intent as unknown as OrderIntent,
        clientOrderId: approved.clientOrderId,
        scheduleId: approved.scheduleId,
        executionId: approved.executionId,
        approvalId: id,
        checked: true,
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
      await storage.transitionApproval(id, "approved", {
        status: "failed",
        error: { message: submitted.reason, code: "BROKER_REJECTED", name: "BrokerRejectedError" },
      });
      await this.deps.audit(actor, "approval.submit_failed", id, {
        rule: submitted.rule,
        reason: submitted.reason,
      });
      return { id, ok: false, status: "failed", code: "BROKER_REJECTED", reason: submitted.reason };
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
   * Expires pending approvals past their expiry, and resubmits approved ones whose submission did
   * not go through (broker down at approval time). Returns the approvals it expired.
   */
  async sweep(): Promise<ApprovalRecord[]> {
    const { storage, clock } = this.deps;
    const now = clock.now();
    const expired: ApprovalRecord[] = [];
    for (const a of await storage.listExpiredApprovals(now, 500)) {
      const e = await this.expireOne(a, now);
      if (e) expired.push(e);
    }
    const stuck = await storage.listApprovals({ status: "approved", limit: 100 });
    for (const a of stuck.items) {
      if (a.decidedAt !== null && now - a.decidedAt >= RESUBMIT_AFTER_MS) {
        await this.submitApproved(a, a.decidedBy ?? "system");
      }
    }
    return expired;
  }
}
