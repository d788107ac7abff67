/**
 * Approval groups: read one, approve or reject it as a unit. The decision is all or none (core
 * decides every member in one storage write); a group with a member no longer pending answers
 * 409 `APPROVAL_GROUP_NOT_PENDING` and nothing changes. After approval the orders go one by one:
 * each member's outcome is in `results` (a member the risk re-check refuses is `failed`).
 */

import { approvalGroupDto, approvalGroupSchema, groupDecisionSchema } from "../schemas/approval-groups.js";
import { decisionBody, idParams } from "../schemas/requests.js";
import { type AnyRoute, actorOf, ok, route } from "./route.js";

function decideGroup(kind: "approve" | "reject"): AnyRoute {
  return route({
    id: `${kind}ApprovalGroup`,
    method: "post",
    path: `/approval-groups/{id}/${kind}`,
    tag: "approvals",
    summary:
      kind === "approve"
        ? "Approve every order of a group at once, then submit them in order (each risk re-checked)"
        : "Reject every order of a group at once",
    role: "operator",
    params: idParams,
    body: decisionBody,
    responses: {
      200: { description: "Decided: the group and one result per member", schema: groupDecisionSchema },
    },
    async handle(req, deps) {
      const options = { actor: actorOf(req), ...(req.body?.reason ? { reason: req.body.reason } : {}) };
      const decision =
        kind === "approve"
          ? await deps.scheduler.approveGroup(req.params.id, options)
          : await deps.scheduler.rejectGroup(req.params.id, options);
      return ok({ group: approvalGroupDto(decision.group), results: decision.results });
    },
  });
}

/** The approval-group routes. */
export const approvalGroupRoutes: AnyRoute[] = [
  route({
    id: "getApprovalGroup",
    method: "get",
    path: "/approval-groups/{id}",
    tag: "approvals",
    summary: "One approval group: its members in proposal order and its derived status",
    role: "viewer",
    params: idParams,
    responses: { 200: { description: "The group", schema: approvalGroupSchema } },
    async handle({ params }, deps) {
      return ok(approvalGroupDto(await deps.scheduler.getApprovalGroup(params.id)));
    },
  }),
  decideGroup("approve"),
  decideGroup("reject"),
];
