/** Health, status, the catalog of jobs and calendars, and the dashboard's sign-in. */

import { listCalendars } from "@tradecron/core";
import { iso, isoOrNull } from "../dto.js";
import { HttpError } from "../errors.js";
import { catalogSchema, healthSchema, sessionInfoSchema, statusSchema } from "../schemas/records.js";
import { emptyBody, signInBody } from "../schemas/requests.js";
import { type AnyRoute, ok, route } from "./route.js";

/** The system routes; `/health` is public when the host says so. */
export function systemRoutes(publicHealth: boolean): AnyRoute[] {
  return [
    route({
      id: "getHealth",
      method: "get",
      path: "/health",
      tag: "system",
      summary: "Health verdict: 200 when healthy or degraded, 503 when unhealthy, with reasons",
      role: publicHealth ? "public" : "viewer",
      responses: {
        200: { description: "Healthy or degraded", schema: healthSchema },
        503: { description: "Unhealthy", schema: healthSchema },
      },
      async handle(req, deps) {
        const h = deps.scheduler.health();
        // Reasons name schedules: only for callers with credentials.
        const body = {
          status: h.status,
          ...(req.identity ? { reasons: h.reasons } : {}),
          checkedAt: iso(h.checkedAt),
        };
        return { status: h.status === "unhealthy" ? 503 : 200, body };
      },
    }),
    route({
      id: "getStatus",
      method: "get",
      path: "/status",
      tag: "system",
      summary: "State, counters, and per-schedule last and next fire",
      role: "viewer",
      responses: { 200: { description: "The status", schema: statusSchema } },
      async handle(_req, deps) {
        const { scheduler } = deps;
        const s = await scheduler.status();
        const control = await scheduler.storage.getControl().catch(() => null);
        const broker = scheduler.broker;
        return ok({
          state: s.state,
          instanceId: s.instanceId,
          storage: s.storage,
          pausedAll: s.pausedAll,
          pausedAllBy: s.pausedAllBy,
          pausedAllReason: s.pausedAll ? (control?.reason ?? null) : null,
          startedAt: isoOrNull(s.startedAt),
          uptimeMs: s.uptimeMs,
          heartbeatAt: isoOrNull(s.heartbeatAt),
          counters: s.counters,
          approvalsPending: s.approvalsPending,
          broker: broker ? { name: broker.name, connected: broker.isConnected() } : null,
          schedules: s.schedules.map((x) => ({
            id: x.id,
            name: x.name,
            job: x.job,
            enabled: x.enabled,
            paused: x.paused,
            handled: x.handled,
            nextFireAt: isoOrNull(x.nextFireAt),
            lastStartAt: isoOrNull(x.lastStartAt),
            lastEndAt: isoOrNull(x.lastEndAt),
            lastStatus: x.lastStatus,
            lastSuccessAt: isoOrNull(x.lastSuccessAt),
            running: x.running,
          })),
        });
      },
    }),
    route({
      id: "getCatalog",
      method: "get",
      path: "/catalog",
      tag: "system",
      summary: "Registered jobs and known calendars (what a new schedule may name)",
      role: "viewer",
      responses: { 200: { description: "The catalog", schema: catalogSchema } },
      async handle(_req, deps) {
        return ok({
          jobs: deps.scheduler.jobNames().sort(),
          calendars: listCalendars().map((c) => ({ code: c.code, name: c.name, timezone: c.timezone })),
        });
      },
    }),
    route({
      id: "signIn",
      method: "post",
      path: "/auth/session",
      tag: "auth",
      summary: "Exchange a token for an HttpOnly SameSite=Strict session cookie (the dashboard's sign-in)",
      role: "public",
      body: signInBody,
      responses: { 201: { description: "Signed in; the cookie is set", schema: sessionInfoSchema } },
      async handle(req, deps) {
        if (deps.auth.insecure) {
          throw new HttpError(
            403,
            "FORBIDDEN",
            "authentication is switched off on this router: no session needed",
          );
        }
        const signedIn = deps.auth.signIn(req.body.token);
        if (!signedIn) throw new HttpError(401, "UNAUTHORIZED", "unknown token", { field: "token" });
        return {
          status: 201,
          body: {
            name: signedIn.identity.name,
            role: signedIn.identity.role,
            via: "session",
            csrfToken: signedIn.csrfToken,
            expiresAt: iso(signedIn.expiresAt),
          },
          session: { set: { value: signedIn.cookieValue, expiresAt: signedIn.expiresAt } },
        };
      },
    }),
    route({
      id: "getSession",
      method: "get",
      path: "/auth/session",
      tag: "auth",
      summary: "Who the caller is (and, for a session, its CSRF token)",
      role: "viewer",
      responses: { 200: { description: "The caller", schema: sessionInfoSchema } },
      async handle(req) {
        const id = req.identity;
        if (!id) throw new HttpError(401, "UNAUTHORIZED", "no credentials");
        return ok({
          name: id.name,
          role: id.role,
          via: id.via,
          ...(id.session ? { csrfToken: id.session.csrfToken, expiresAt: iso(id.session.expiresAt) } : {}),
        });
      },
    }),
    route({
      id: "signOut",
      method: "delete",
      path: "/auth/session",
      tag: "auth",
      summary: "End the dashboard session",
      role: "viewer",
      body: emptyBody,
      responses: { 204: { description: "Signed out; the cookie is cleared" } },
      async handle(req, deps) {
        if (req.identity) deps.auth.signOut(req.identity);
        return { status: 204, body: undefined, session: { clear: true } };
      },
    }),
  ];
}
