/** The API shapes of approval groups: a group with its members, and the outcome of deciding one. */

import type { ApprovalGroup } from "@tradecron/core";
import { z } from "zod";
import { approvalDto, iso, isoOrNull } from "../dto.js";
import { approvalStatusEnum, isoInstant, isoInstantOrNull, riskLevelEnum } from "./common.js";
import { approvalSchema, decisionResultSchema } from "./records.js";

/** A group of approvals decided as one unit (a rebalance plan). */
export const approvalGroupSchema = z
  .object({
    id: z.string(),
    scheduleId: z.string(),
    executionId: z.string(),
    fireKey: z.string(),
    status: z.enum(["pending", "approved", "rejected", "expired", "mixed"]).meta({
      description:
        "Derived from the members': pending while all wait; approved once approved (members then approved, submitted or failed); rejected or expired when all are; mixed otherwise",
    }),
    riskLevel: riskLevelEnum.meta({ description: "The highest of its members" }),
    createdAt: isoInstant,
    expiresAt: isoInstant,
    decidedAt: isoInstantOrNull,
    decidedBy: z.string().nullable(),
    decisionReason: z.string().nullable(),
    counts: z.partialRecord(approvalStatusEnum, z.number().int()).meta({ description: "Members by status" }),
    members: z.array(approvalSchema).meta({ description: "In proposal order" }),
  })
  .meta({ id: "ApprovalGroup" });

/** The group after a decision, and one result per member in proposal order. */
export const groupDecisionSchema = z
  .object({ group: approvalGroupSchema, results: z.array(decisionResultSchema) })
  .meta({ id: "GroupDecision" });

/** The API form of a group. */
export type ApprovalGroupDto = z.output<typeof approvalGroupSchema>;

/** An approval group. */
export function approvalGroupDto(g: ApprovalGroup): ApprovalGroupDto {
  return {
    id: g.id,
    scheduleId: g.scheduleId,
    executionId: g.executionId,
    fireKey: g.fireKey,
    status: g.status,
    riskLevel: g.riskLevel,
    createdAt: iso(g.createdAt),
    expiresAt: iso(g.expiresAt),
    decidedAt: isoOrNull(g.decidedAt),
    decidedBy: g.decidedBy,
    decisionReason: g.decisionReason,
    counts: { ...g.counts },
    members: g.members.map(approvalDto),
  };
}
