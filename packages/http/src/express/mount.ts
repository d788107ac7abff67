/** Mounts framework-neutral routes on an Express router: parse, call the handler, answer. */

import type { Request, RequestHandler, Response, Router } from "express";
import type { AnyRoute, ApiDeps, RouteSpec } from "../api/route.js";
import { parseOrThrow } from "../validation.js";
import { type CookieSettings, sendResult } from "./respond.js";

/** `/schedules/{id}` as Express spells it: `/schedules/:id`. */
export function expressPath(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, ":$1");
}

/** The handler that validates a request with the route's schemas and runs its logic. */
function handlerOf(route: AnyRoute, deps: ApiDeps, cookie: CookieSettings): RequestHandler {
  return async (req: Request, res: Response) => {
    // Express hands the params over on a prototype-less object; copy to a plain one for zod.
    const params = route.params ? parseOrThrow(route.params, { ...req.params }, "http") : {};
    const query = route.query ? parseOrThrow(route.query, { ...(req.query as object) }, "http") : {};
    const raw = req.body === undefined ? {} : req.body;
    const body = route.body ? parseOrThrow(route.body, raw, "http") : undefined;
    const result = await route.handle(
      { params, query, body, rawBody: raw, identity: res.locals.identity ?? null },
      deps,
    );
    sendResult(req, res, result, cookie);
  };
}

/** What every route's middleware chain is built from. */
export interface MountContext {
  deps: ApiDeps;
  cookie: CookieSettings;
  /** Authentication, role, CSRF and Origin checks of a route. */
  authorize(spec: RouteSpec): RequestHandler;
  /** Rate limiters that apply to a route (in order). */
  limitersFor(spec: RouteSpec): RequestHandler[];
  /** Body parsing for routes that take a body. */
  body: RequestHandler[];
}

/** Mounts one JSON route. */
export function mountRoute(router: Router, route: AnyRoute, ctx: MountContext): void {
  const chain: RequestHandler[] = [ctx.authorize(route), ...ctx.limitersFor(route)];
  if (route.body) chain.push(...ctx.body);
  chain.push(handlerOf(route, ctx.deps, ctx.cookie));
  router[route.method](expressPath(route.path), ...chain);
}
