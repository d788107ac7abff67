/**
 * `createRouter(scheduler, { auth })`: the whole HTTP surface as one Express 5 router to mount
 * where the host likes (`app.use("/scheduler", router)`). A facade: it validates the options,
 * builds the role-named parts (authenticator, event hub, metrics, per-schedule counters, the
 * OpenAPI document) and mounts the framework-neutral routes with the security middleware.
 */

import type { Scheduler } from "@tradecron/core";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import type { Registry } from "prom-client";
import type { ApiDeps, RouteSpec } from "../api/route.js";
import { jsonRoutes, STREAM_ROUTE_IDS, streamRoutes } from "../api/routes.js";
import { Authenticator } from "../auth/authenticator.js";
import { SessionStore } from "../auth/sessions.js";
import { TokenVerifier } from "../auth/tokens.js";
import { HttpError } from "../errors.js";
import { EventHub } from "../events/event-hub.js";
import { ScheduleCounters } from "../gaps/schedule-counters.js";
import { SchedulerMetrics } from "../metrics/scheduler-metrics.js";
import { buildOpenApiDocument } from "../openapi/document.js";
import { INSECURE_IDENTITY, type RouterOptions, resolveOptions } from "../options.js";
import { VERSION } from "../version.js";
import { dashboardFiles } from "./dashboard.js";
import { expressPath, type MountContext, mountRoute } from "./mount.js";
import { sendProblem } from "./respond.js";
import { authorize, isMutation, jsonBody, rateLimiters, requestError, securityHeaders } from "./security.js";
import { streamEvents } from "./sse.js";

/** The router `createRouter` returns: an Express router plus what a host may want from it. */
export type TradecronRouter = Router & {
  /** The prom-client registry `/metrics` renders (one per router). */
  readonly registry: Registry;
  /** The OpenAPI 3.1 document (paths relative to the mount point). */
  openapi(): Record<string, unknown>;
  /** Closes the event streams and stops listening to the scheduler. Idempotent. */
  close(): void;
};

/**
 * Builds the router. Throws a ValidationError naming the field when the options are wrong, and
 * refuses to build without auth unless the host passes `dangerouslyDisableAuth: true`.
 */
export function createRouter(scheduler: Scheduler, options: RouterOptions): TradecronRouter {
  const o = resolveOptions(options);
  const logger = o.logger ?? scheduler.logger;
  const clock = o.clock ?? scheduler.clock;
  const auth = new Authenticator({
    tokens: o.tokens ? new TokenVerifier(o.tokens) : null,
    sessions: new SessionStore({ clock, ttlMs: o.sessionTtlMs, maxSessions: o.maxSessions }),
    cookieName: o.cookieName,
    insecureIdentity: INSECURE_IDENTITY,
  });
  if (auth.insecure) {
    logger.warn({}, "http: authentication is OFF (dangerouslyDisableAuth): every caller acts as an admin");
  }
  const counters = new ScheduleCounters(scheduler);
  const deps: ApiDeps = {
    scheduler,
    counters,
    auth,
    lifecycleControl: o.lifecycleControl,
    publicHealth: o.publicHealth,
  };
  const table = { publicHealth: o.publicHealth, publicMetrics: o.publicMetrics };
  const routes = jsonRoutes(table);
  const streams = streamRoutes(table);
  const specs: RouteSpec[] = [...routes, ...streams];
  const metrics = new SchedulerMetrics(scheduler, {
    defaultMetrics: o.defaultMetrics,
    routeIds: specs.map((s) => s.id),
  });
  const hub = new EventHub(scheduler, {
    clock,
    replay: o.replay,
    heartbeatMs: o.heartbeatMs,
    maxClients: o.maxClients,
  });
  let doc: Record<string, unknown> | null = null;
  const openapi = () => {
    doc ??= buildOpenApiDocument(specs, { version: VERSION, cookieName: o.cookieName });
    return doc;
  };

  const router = express.Router({ strict: false, caseSensitive: true }) as TradecronRouter;
  const limiters = rateLimiters(o);
  const ctx: MountContext = {
    deps,
    cookie: { name: o.cookieName, secure: o.secureCookie },
    authorize: (spec) => authorize(spec, auth),
    limitersFor: (spec) =>
      spec.id === "signIn"
        ? [limiters.signIn]
        : spec.method === "get"
          ? []
          : spec.limit === "trigger"
            ? [limiters.mutation, limiters.trigger]
            : [limiters.mutation],
    body: jsonBody(o.bodyLimit),
  };

  router.use(securityHeaders());
  router.use((req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observeRequest(res.locals.tcRoute ?? "unmatched", req.method, res.statusCode, seconds);
    });
    next();
  });

  // Static segments before parameters (Express matches in order): /approvals/pending-count before /approvals/{id}.
  const ordered = [...routes].sort((a, b) => staticFirst(a.path, b.path));
  for (const r of ordered) mountRoute(router, r, ctx);

  const byId = new Map(streams.map((s) => [s.id, s]));
  const eventsSpec = byId.get(STREAM_ROUTE_IDS.events) as RouteSpec;
  router.get(expressPath(eventsSpec.path), ctx.authorize(eventsSpec), (req, res) => {
    streamEvents(hub, o.maxClients, req, res);
  });
  const metricsSpec = byId.get(STREAM_ROUTE_IDS.metrics) as RouteSpec;
  router.get(expressPath(metricsSpec.path), ctx.authorize(metricsSpec), async (_req, res) => {
    const text = await metrics.render();
    res.set("Cache-Control", "no-store").type(metrics.contentType).send(text);
  });
  const openapiSpec = byId.get(STREAM_ROUTE_IDS.openapi) as RouteSpec;
  router.get(expressPath(openapiSpec.path), ctx.authorize(openapiSpec), (req, res) => {
    res.set("Cache-Control", "no-cache").json({ ...openapi(), servers: [{ url: req.baseUrl || "/" }] });
  });

  if (o.dashboard) {
    router.get("/", (req, res, next) => {
      // Only the mount point itself; `app.use(router)` at the root leaves the host's `/` alone.
      if (!req.baseUrl) return next();
      res.redirect(302, `${req.baseUrl}/ui/`);
    });
    router.use(
      "/ui",
      (req, res, next) => {
        res.locals.tcRoute = "dashboard";
        if (isMutation(req))
          return next(
            new HttpError(405, "METHOD_NOT_ALLOWED", "the dashboard is read-only", {
              details: { allow: "GET, HEAD" },
            }),
          );
        next();
      },
      dashboardFiles(),
    );
  }

  // A known path with another method: 405 with Allow.
  const allowed = new Map<string, Set<string>>();
  for (const s of specs) {
    const set = allowed.get(s.path) ?? new Set<string>();
    set.add(s.method.toUpperCase());
    if (s.method === "get") set.add("HEAD");
    allowed.set(s.path, set);
  }
  for (const [path, methods] of allowed) {
    router.all(expressPath(path), (_req, _res, next) => {
      const allow = [...methods].join(", ");
      next(new HttpError(405, "METHOD_NOT_ALLOWED", `allowed: ${allow}`, { details: { allow } }));
    });
  }

  router.use((req: Request, _res: Response, next: NextFunction) => {
    // Mounted at the root, unknown paths are the host's to answer.
    if (!req.baseUrl) return next();
    next(new HttpError(404, "ROUTE_NOT_FOUND", `no route ${req.method} ${req.path}`));
  });
  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    sendProblem(req, res, requestError(error) ?? error, logger);
  });

  let closed = false;
  Object.defineProperty(router, "registry", { value: metrics.registry, enumerable: false });
  router.openapi = openapi;
  router.close = () => {
    if (closed) return;
    closed = true;
    hub.close();
    metrics.close();
    counters.close();
    limiters.close();
  };
  return router;
}

/** Orders paths so a static segment comes before a parameter at the same depth. */
function staticFirst(a: string, b: string): number {
  const pa = a.split("/");
  const pb = b.split("/");
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const da = (pa[i] as string).startsWith("{");
    const db = (pb[i] as string).startsWith("{");
    if (da !== db) return da ? 1 : -1;
  }
  return 0;
}
