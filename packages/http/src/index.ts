/**
 * `@tradecron/http`: a mountable Express router with the REST API, the OpenAPI document, server-sent
 * events, `/health` `/status` `/metrics`, and the operations dashboard.
 *
 * @packageDocumentation
 */

/** The API's types generated from its OpenAPI document by openapi-typescript (for openapi-fetch clients). */
export type {
  components as ApiComponents,
  operations as ApiOperations,
  paths as ApiPaths,
} from "../generated/api.js";
export type { AnyRoute, ApiDeps, ApiRequest, ApiResult, Method, RouteDef, RouteSpec } from "./api/route.js";
export { eventEnvelopeSchema, jsonRoutes, type RouteTableOptions, streamRoutes } from "./api/routes.js";
export { Authenticator, type AuthHeaders, type AuthOutcome } from "./auth/authenticator.js";
export { type Identity, ROLES, type Role, roleAllows } from "./auth/roles.js";
export { SessionStore } from "./auth/sessions.js";
export { bearerToken, type TokenSpec, TokenVerifier } from "./auth/tokens.js";
export { HttpError, type HttpErrorCode } from "./errors.js";
export { type EventEnvelope, EventHub, type EventHubOptions, type EventSink } from "./events/event-hub.js";
export { SCHEDULER_EVENT_NAMES } from "./events/event-names.js";
export { createRouter, type TradecronRouter } from "./express/router.js";
export { type Served, type ServeOptions, serve } from "./express/serve.js";
export { ScheduleCounters } from "./gaps/schedule-counters.js";
export { SchedulerMetrics } from "./metrics/scheduler-metrics.js";
export { buildOpenApiDocument } from "./openapi/document.js";
export { MIN_TOKEN_LENGTH, type RouterOptions } from "./options.js";
export { PROBLEM_TYPE, type Problem, problemOf, statusOf } from "./problem.js";
export { VERSION } from "./version.js";
