/**
 * The whole API as one table: the JSON routes (mounted by an adapter, documented by the OpenAPI
 * generator) and the streaming routes (`/events`, `/metrics`, `/openapi.json`), which adapters
 * serve themselves but which are documented and authorised from the same specs.
 */

import { z } from "zod";
import { approvalGroupRoutes } from "./approval-groups.js";
import { approvalRoutes } from "./approvals.js";
import { controlRoutes } from "./controls.js";
import { executionRoutes } from "./executions.js";
import type { AnyRoute, RouteSpec } from "./route.js";
import { scheduleRoutes } from "./schedules.js";
import { systemRoutes } from "./system.js";
import { tradingRoutes } from "./trading.js";

/** Options that change the table. */
export interface RouteTableOptions {
  publicHealth: boolean;
  publicMetrics: boolean;
}

/** The JSON routes. */
export function jsonRoutes(options: RouteTableOptions): AnyRoute[] {
  return [
    ...systemRoutes(options.publicHealth),
    ...scheduleRoutes,
    ...executionRoutes,
    ...approvalRoutes,
    ...approvalGroupRoutes,
    ...tradingRoutes,
    ...controlRoutes,
  ];
}

/** The data of one server-sent event. */
export const eventEnvelopeSchema = z
  .object({
    id: z.string().meta({ description: "Also the SSE id: send it back as Last-Event-ID to resume" }),
    type: z.string().meta({
      description:
        "The scheduler event (run:succeeded, approval:requested, ...), or stream:open / stream:reset",
    }),
    at: z.iso.datetime(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: "EventEnvelope" });

/** Ids of the routes adapters serve themselves. */
export const STREAM_ROUTE_IDS = {
  events: "streamEvents",
  metrics: "getMetrics",
  openapi: "getOpenApi",
} as const;

/** The routes adapters serve themselves. */
export function streamRoutes(options: RouteTableOptions): RouteSpec[] {
  return [
    {
      id: STREAM_ROUTE_IDS.events,
      method: "get",
      path: "/events",
      tag: "system",
      summary: "Server-sent events of the scheduler (ids for Last-Event-ID resume, heartbeat comments)",
      role: "viewer",
      produces: "text/event-stream",
      query: z.strictObject({
        lastEventId: z.string().max(100).optional().meta({ description: "Same as the Last-Event-ID header" }),
      }),
      responses: {
        200: {
          description: "An event stream; each data line is an EventEnvelope",
          schema: eventEnvelopeSchema,
        },
      },
    },
    {
      id: STREAM_ROUTE_IDS.metrics,
      method: "get",
      path: "/metrics",
      tag: "system",
      summary: "Prometheus metrics",
      role: options.publicMetrics ? "public" : "viewer",
      produces: "text/plain",
      responses: { 200: { description: "Prometheus text exposition", schema: z.string() } },
    },
    {
      id: STREAM_ROUTE_IDS.openapi,
      method: "get",
      path: "/openapi.json",
      tag: "system",
      summary: "This document",
      role: "public",
      responses: {
        200: { description: "The OpenAPI 3.1 document", schema: z.record(z.string(), z.unknown()) },
      },
    },
  ];
}
