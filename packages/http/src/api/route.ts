/**
 * The framework-neutral shape of an API route: what it accepts (zod schemas for path params, query
 * and body), who may call it, and a handler that takes the parsed request and returns a result.
 * The Express adapter mounts these; the OpenAPI document is generated from the same definitions.
 */

import type { Scheduler } from "@tradecron/core";
import type { z } from "zod";
import type { Authenticator } from "../auth/authenticator.js";
import type { Identity, Role } from "../auth/roles.js";
import type { ScheduleCounters } from "../gaps/schedule-counters.js";

/** HTTP methods the API uses. */
export type Method = "get" | "post" | "patch" | "delete";

/** What the route logic needs, built once per router. */
export interface ApiDeps {
  scheduler: Scheduler;
  counters: ScheduleCounters;
  auth: Authenticator;
  /** Whether the host lets the API start, stop, pause and resume the scheduler itself. */
  lifecycleControl: boolean;
  /** Whether `/health` answers without credentials. */
  publicHealth: boolean;
}

/** A parsed, authorised request. */
export interface ApiRequest<P = unknown, Q = unknown, B = unknown> {
  params: P;
  query: Q;
  body: B;
  /** The body as sent (validated by `body`): handed to core as is, which validates it again. */
  rawBody: unknown;
  /** The caller; its name is the audit actor of every change it makes. Null on public routes without credentials. */
  identity: Identity | null;
}

/** What a handler returns: a status and a JSON body. */
export interface ApiResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Set or clear the dashboard session cookie. */
  session?: { set: { value: string; expiresAt: number } } | { clear: true };
}

/** One documented response. */
export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
}

/** Which rate limit a route falls under, besides the per-token limit on every mutation. */
export type LimitClass = "mutation" | "trigger";

/** What every route declares besides its handler; the streaming routes have only this. */
export interface RouteSpec {
  /** The OpenAPI operationId; also the route's label in metrics. */
  id: string;
  method: Method;
  path: string;
  tag: string;
  summary: string;
  description?: string;
  /** The least role that may call it; `public` needs no credentials. */
  role: Role | "public";
  /** Rate-limit class (mutations default to `mutation`). */
  limit?: LimitClass;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Success responses by status. */
  responses: Record<number, ResponseSpec>;
  /** Media type of the success response. Default `application/json`. */
  produces?: string;
}

/** A JSON route. `path` uses OpenAPI's `{param}` form. */
export interface RouteDef<P = unknown, Q = unknown, B = unknown> extends RouteSpec {
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  handle(req: ApiRequest<P, Q, B>, deps: ApiDeps): Promise<ApiResult>;
}

/** A route of any shape, as the adapters and the document generator see it. */
// biome-ignore lint/suspicious/noExplicitAny: the route table holds routes of many request shapes.
export type AnyRoute = RouteDef<any, any, any>;

/**
 * Defines a route with its handler's request typed from its schemas (the schemas' output types,
 * so the handler sees parsed values).
 */
export function route<
  PS extends z.ZodType = z.ZodType<Record<string, never>>,
  QS extends z.ZodType = z.ZodType<Record<string, never>>,
  BS extends z.ZodType = z.ZodType<undefined>,
>(
  def: Omit<RouteDef<z.output<PS>, z.output<QS>, z.output<BS>>, "params" | "query" | "body"> & {
    params?: PS;
    query?: QS;
    body?: BS;
  },
): AnyRoute {
  return def as AnyRoute;
}

/** A 200 with `body`. */
export const ok = (body: unknown): ApiResult => ({ status: 200, body });

/** The audit actor of a request: the caller's token name. */
export function actorOf(req: ApiRequest): string {
  return req.identity?.name ?? "anonymous";
}
