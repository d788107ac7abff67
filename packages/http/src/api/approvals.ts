/** Approvals: the pending count (the badge), list, get, approve and reject one or many. */

import type { DecisionResult, ErrorCode } from "@tradecron/core";
import { TradecronError } from "@tradecron/core";
import { z } from "zod";
import { approvalDto } from "../dto.js";
import { pageSchema } from "../schemas/common.js";
import { approvalSchema, decisionResultSchema } from "../schemas/records.js";
import { approvalListQuery, bulkDecisionBody, decisionBody, idParams } from "../schemas/requests.js";
import { type AnyRoute, type ApiDeps, type ApiRequest, actorOf, ok, route } from "./route.js";

const approvalPage = pageSchema(approvalSchema, "ApprovalPage");
const decisions = z.object({ results: z.array(decisionResultSchema) }).meta({ id: "DecisionResults" });
const pendingCount = z.object({ pending: z.number().int() }).meta({ id: "PendingCount" });

type Decide = "approve" | "reject";

function decide(
  deps: ApiDeps,
  kind: Decide,
  ids: string[],
  req: ApiRequest<unknown, unknown, { reason?: string }>,
) {
  const options = { actor: actorOf(req), ...(req.body?.reason ? { reason: req.body.reason } : {}) };
  return kind === "approve" ? deps.scheduler.approve(ids, options) : deps.scheduler.reject(ids, options);
}

/** A refused single decision as the error it is (404 unknown, 409 not pending, 422 risk, 503 broker). */
const REFUSALS = new Set([
  "NOT_FOUND",
  "APPROVAL_NOT_PENDING",
  "APPROVAL_IN_GROUP",
  "RISK_REJECTED",
  "BROKER_REJECTED",
  "BROKER_RATE_LIMITED",
]);

function refusal(result: DecisionResult): TradecronError {
  // Anything else came from the broker's transport (a socket code): the broker is unavailable.
  const code = (result.code && REFUSALS.has(result.code) ? result.code : "BROKER_UNAVAILABLE") as ErrorCode;
  return new TradecronError(code, result.reason ?? `approval '${result.id}' was not decided`, {
    field: "id",
  });
}

function single(kind: Decide): AnyRoute {
  return route({
    id: `${kind}Approval`,
    method: "post",
    path: `/approvals/{id}/${kind}`,
    tag: "approvals",
    summary:
      kind === "approve"
        ? "Approve one pending order (risk re-checked, then submitted)"
        : "Reject one pending order",
    role: "operator",
    params: idParams,
    body: decisionBody,
    responses: { 200: { description: "Decided", schema: decisionResultSchema } },
    async handle(req, deps) {
      const [result] = await decide(deps, kind, [req.params.id], req);
      if (!result)
        throw new TradecronError("NOT_FOUND", `approval '${req.params.id}' not found`, { field: "id" });
      if (!result.ok) throw refusal(result);
      return ok(result);
    },
  });
}

function bulk(kind: Decide): AnyRoute {
  return route({
    id: `${kind}Approvals`,
    method: "post",
    path: `/approvals/${kind}`,
    tag: "approvals",
    summary: `${kind === "approve" ? "Approve" : "Reject"} many pending orders; one result per id, in order`,
    role: "operator",
    body: bulkDecisionBody,
    responses: { 200: { description: "Per-item results", schema: decisions } },
    async handle(req, deps) {
      return ok({ results: await decide(deps, kind, req.body.ids, req) });
    },
  });
}

/** The approval routes. */
export const approvalRoutes: AnyRoute[] = [
  route({
    id: "countPendingApprovals",
    method: "get",
    path: "/approvals/pending-count",
    tag: "approvals",
    summary: "Number of approvals waiting for a decision (the badge)",
    role: "viewer",
    responses: { 200: { description: "The count", schema: pendingCount } },
    async handle(_req, deps) {
      return ok({ pending: await deps.scheduler.pendingApprovalCount() });
    },
  }),
  route({
    id: "listApprovals",
    method: "get",
    path: "/approvals",
    tag: "approvals",
    summary: "List approvals, newest first (filters: status, risk level, schedule)",
    role: "viewer",
    query: approvalListQuery,
    responses: { 200: { description: "A page of approvals", schema: approvalPage } },
    async handle({ query }, deps) {
      const page = await deps.scheduler.listApprovals({ ...query, limit: query.limit ?? 50 });
      return ok({ items: page.items.map(approvalDto), nextCursor: page.nextCursor });
    },
  }),
  route({
    id: "getApproval",
    method: "get",
    path: "/approvals/{id}",
    tag: "approvals",
    summary: "One approval with its intent, rationale and supporting data",
    role: "viewer",
    params: idParams,
    responses: { 200: { description: "The approval", schema: approvalSchema } },
    async handle({ params }, deps) {
      return ok(approvalDto(await deps.scheduler.getApproval(params.id)));
    },
  }),
  single("approve"),
  single("reject"),
  bulk("approve"),
  bulk("reject"),
];
