/** Executions: list with filters and cursor pages, and one with its orders and approvals. */

import { approvalDto, executionDto, orderDto } from "../dto.js";
import { pageSchema } from "../schemas/common.js";
import { executionDetailSchema, executionSchema } from "../schemas/records.js";
import { executionListQuery, idParams } from "../schemas/requests.js";
import { type AnyRoute, ok, route } from "./route.js";

const executionPage = pageSchema(executionSchema, "ExecutionPage");
/** Orders and approvals shown with one execution. */
const DETAIL_LIMIT = 100;

/** The execution routes. */
export const executionRoutes: AnyRoute[] = [
  route({
    id: "listExecutions",
    method: "get",
    path: "/executions",
    tag: "executions",
    summary: "List executions, newest first (filters: schedule, status, kind, time window)",
    role: "viewer",
    query: executionListQuery,
    responses: { 200: { description: "A page of executions", schema: executionPage } },
    async handle({ query }, deps) {
      const page = await deps.scheduler.listExecutions({ ...query, limit: query.limit ?? 50 });
      return ok({ items: page.items.map(executionDto), nextCursor: page.nextCursor });
    },
  }),
  route({
    id: "getExecution",
    method: "get",
    path: "/executions/{id}",
    tag: "executions",
    summary: "One execution: attempts, error, result, and the orders and approvals of its fire",
    role: "viewer",
    params: idParams,
    responses: { 200: { description: "The execution", schema: executionDetailSchema } },
    async handle({ params }, deps) {
      const { scheduler } = deps;
      const execution = await scheduler.getExecution(params.id);
      const [orders, approvals] = await Promise.all([
        scheduler.listOrders({ executionId: execution.id, limit: DETAIL_LIMIT }),
        // Core's listApprovals has no executionId filter; its storage query has.
        scheduler.storage.listApprovals({ executionId: execution.id, limit: DETAIL_LIMIT }),
      ]);
      return ok({
        execution: executionDto(execution),
        orders: orders.items.map(orderDto),
        approvals: approvals.items.map(approvalDto),
      });
    },
  }),
];
