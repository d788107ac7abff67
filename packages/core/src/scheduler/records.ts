/**
 * The stored records a host reads: executions, a schedule's committed state, approvals (and the
 * decisions on them, which the trading side carries out), orders and the audit log. Every query
 * is checked here and handed to the storage without its absent fields.
 */

import { z } from "zod";
import { NotFoundError } from "../errors.js";
import type {
  ApprovalRecord,
  ApprovalStatus,
  AuditEntry,
  ExecutionRecord,
  ExecutionStatus,
  FireKind,
  OrderRecord,
  Page,
  RiskLevel,
} from "../storage/records.js";
import type { ScheduleStateRecord } from "../storage/schedule-state.js";
import type { Storage } from "../storage/storage.js";
import type { ApprovalGroup } from "../trading/approval-group.js";
import type { DecisionResult } from "../trading/approval-queue.js";
import type { GroupDecision } from "../trading/group-approvals.js";
import type { Trading } from "../trading/trading.js";
import { type InstantInput, instantSchema, parseInput } from "../validation.js";
import { type ActorOptions, definedOnly, idOf } from "./inputs.js";

/** Listing filters of `Scheduler.listExecutions`. */
export interface ExecutionListInput {
  scheduleId?: string;
  status?: ExecutionStatus | ExecutionStatus[];
  kind?: FireKind | FireKind[];
  from?: InstantInput;
  to?: InstantInput;
  /** Default 50, at most 1000. */
  limit?: number;
  cursor?: string | null;
}

/** Filters of `Scheduler.listApprovals`. */
export interface ApprovalListInput {
  status?: ApprovalStatus | ApprovalStatus[];
  riskLevel?: RiskLevel | RiskLevel[];
  scheduleId?: string;
  executionId?: string;
  /** Members of this approval group only. */
  groupId?: string;
  limit?: number;
  cursor?: string | null;
}

/** Filters of `Scheduler.listOrders`. */
export interface OrderListInput {
  scheduleId?: string;
  executionId?: string;
  symbol?: string;
  status?: string | string[];
  from?: InstantInput;
  to?: InstantInput;
  limit?: number;
  cursor?: string | null;
}

/** Filters of `Scheduler.listAudit`. */
export interface AuditListInput {
  actor?: string;
  action?: string;
  subjectType?: string;
  subjectId?: string;
  from?: InstantInput;
  to?: InstantInput;
  limit?: number;
  cursor?: string | null;
}

const statusEnum = z.enum(["claimed", "running", "succeeded", "failed", "timed_out", "skipped", "cancelled"]);
const kindEnum = z.enum(["scheduled", "catchup", "manual", "backfill"]);
const executionListSchema = z.strictObject({
  scheduleId: z.string().min(1).optional(),
  status: z.union([statusEnum, z.array(statusEnum)]).optional(),
  kind: z.union([kindEnum, z.array(kindEnum)]).optional(),
  from: instantSchema.optional(),
  to: instantSchema.optional(),
  limit: z.number().int().min(1).max(1000).default(50),
  cursor: z.string().nullable().optional(),
});
const approvalStatusEnum = z.enum(["pending", "approved", "rejected", "expired", "submitted", "failed"]);
const riskEnum = z.enum(["low", "medium", "high"]);
const approvalListSchema = z.strictObject({
  status: z.union([approvalStatusEnum, z.array(approvalStatusEnum)]).optional(),
  riskLevel: z.union([riskEnum, z.array(riskEnum)]).optional(),
  scheduleId: z.string().min(1).optional(),
  executionId: z.string().min(1).optional(),
  groupId: z.string().min(1).max(200).optional(),
  limit: z.number().int().min(1).max(1000).default(50),
  cursor: z.string().nullable().optional(),
});
const groupDecisionSchema = z.strictObject({
  groupId: z.string().min(1).max(200),
  actor: z.string().trim().min(1).max(200),
  reason: z.string().max(1000).optional(),
  allowRemovedSchedule: z.boolean().default(false),
});
const decisionSchema = z.strictObject({
  ids: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(1000)])
    .transform((ids) => (Array.isArray(ids) ? ids : [ids])),
  actor: z.string().trim().min(1).max(200),
  reason: z.string().max(1000).optional(),
});
const approveSchema = decisionSchema.extend({ allowRemovedSchedule: z.boolean().default(false) });
const orderListSchema = z.strictObject({
  scheduleId: z.string().min(1).optional(),
  executionId: z.string().min(1).optional(),
  symbol: z.string().min(1).optional(),
  status: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
  from: instantSchema.optional(),
  to: instantSchema.optional(),
  limit: z.number().int().min(1).max(1000).default(50),
  cursor: z.string().nullable().optional(),
});
const auditListSchema = z.strictObject({
  actor: z.string().min(1).optional(),
  action: z.string().min(1).optional(),
  subjectType: z.string().min(1).optional(),
  subjectId: z.string().min(1).optional(),
  from: instantSchema.optional(),
  to: instantSchema.optional(),
  limit: z.number().int().min(1).max(1000).default(50),
  cursor: z.string().nullable().optional(),
});

/** Options of an approval decision. */
export type DecisionOptions = ActorOptions & { reason?: string };
/** Options of an approval, which may also approve what a removed schedule proposed. */
export type ApproveOptions = DecisionOptions & { allowRemovedSchedule?: boolean };

/** Reads of the stored history, and approval decisions. */
export class Records {
  constructor(
    private readonly storage: Storage,
    private readonly trading: Trading,
  ) {}

  async listExecutions(input: ExecutionListInput): Promise<Page<ExecutionRecord>> {
    const q = parseInput(executionListSchema, input, "scheduler");
    return this.storage.listExecutions(definedOnly(q));
  }

  async getExecution(id: string): Promise<ExecutionRecord> {
    id = idOf(id);
    const e = await this.storage.getExecution(id);
    if (!e) throw new NotFoundError("NOT_FOUND", `execution '${id}' not found`, { field: "id" });
    return e;
  }

  async getScheduleState(scheduleId: string): Promise<ScheduleStateRecord | null> {
    return this.storage.getScheduleState(idOf(scheduleId, "scheduleId"));
  }

  async listApprovals(input: ApprovalListInput): Promise<Page<ApprovalRecord>> {
    const q = parseInput(approvalListSchema, input, "scheduler");
    return this.storage.listApprovals(definedOnly(q));
  }

  async getApproval(id: string): Promise<ApprovalRecord> {
    id = idOf(id);
    const a = await this.storage.getApproval(id);
    if (!a) throw new NotFoundError("NOT_FOUND", `approval '${id}' not found`, { field: "id" });
    return a;
  }

  async approve(ids: string | string[], options: ApproveOptions): Promise<DecisionResult[]> {
    const o = parseInput(approveSchema, { ...options, ids }, "scheduler");
    return this.trading.approvals.approve(o.ids, o.actor, o.reason ?? null, {
      allowRemovedSchedule: o.allowRemovedSchedule,
    });
  }

  async reject(ids: string | string[], options: DecisionOptions): Promise<DecisionResult[]> {
    const o = parseInput(decisionSchema, { ...options, ids }, "scheduler");
    return this.trading.approvals.reject(o.ids, o.actor, o.reason ?? null);
  }

  async getApprovalGroup(groupId: string): Promise<ApprovalGroup> {
    return this.trading.groups.get(idOf(groupId, "groupId"));
  }

  async approveGroup(groupId: string, options: ApproveOptions): Promise<GroupDecision> {
    const o = parseInput(groupDecisionSchema, { ...options, groupId }, "scheduler");
    return this.trading.groups.approve(o.groupId, o.actor, o.reason ?? null, {
      allowRemovedSchedule: o.allowRemovedSchedule,
    });
  }

  async rejectGroup(groupId: string, options: DecisionOptions): Promise<GroupDecision> {
    const o = parseInput(
      groupDecisionSchema.omit({ allowRemovedSchedule: true }),
      { ...options, groupId },
      "scheduler",
    );
    return this.trading.groups.reject(o.groupId, o.actor, o.reason ?? null);
  }

  async listOrders(input: OrderListInput): Promise<Page<OrderRecord>> {
    const q = parseInput(orderListSchema, input, "scheduler");
    return this.storage.listOrders(definedOnly(q));
  }

  async getOrder(clientOrderId: string): Promise<OrderRecord> {
    clientOrderId = idOf(clientOrderId, "clientOrderId");
    const o = await this.storage.getOrder(clientOrderId);
    if (!o)
      throw new NotFoundError("NOT_FOUND", `order '${clientOrderId}' not found`, { field: "clientOrderId" });
    return o;
  }

  async listAudit(input: AuditListInput): Promise<Page<AuditEntry>> {
    const q = parseInput(auditListSchema, input, "scheduler");
    return this.storage.listAudit(definedOnly(q));
  }
}
