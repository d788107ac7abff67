/**
 * Controls: the emergency pause-all (with reason, optionally cancelling open orders) and
 * resume-all; and, where the host allows it, the instance's own start/stop/pause/resume.
 */

import { z } from "zod";
import { isoOrNull } from "../dto.js";
import { HttpError } from "../errors.js";
import { controlsSchema } from "../schemas/records.js";
import { emptyBody, pauseAllBody, stopBody } from "../schemas/requests.js";
import { type AnyRoute, type ApiDeps, actorOf, ok, route } from "./route.js";

async function controls(deps: ApiDeps) {
  const { scheduler } = deps;
  const c = await scheduler.storage.getControl();
  return {
    pausedAll: c.pausedAll,
    pausedAt: isoOrNull(c.pausedAt),
    pausedBy: c.pausedBy,
    reason: c.reason,
    revision: c.revision,
    state: scheduler.state,
    lifecycleControl: deps.lifecycleControl,
  };
}

const pauseAllResult = controlsSchema
  .extend({
    cancelledOrders: z
      .object({
        cancelled: z.number().int(),
        failed: z.array(z.object({ id: z.string(), error: z.string() })),
      })
      .nullable(),
  })
  .meta({ id: "PauseAllResult" });

function lifecycle(
  id: string,
  path: string,
  summary: string,
  role: "operator" | "admin",
  act: (deps: ApiDeps, body: { timeoutMs?: number }) => Promise<void> | void,
  body = emptyBody as typeof emptyBody | typeof stopBody,
): AnyRoute {
  return route({
    id,
    method: "post",
    path,
    tag: "controls",
    summary: `${summary} (only where the host allows lifecycle control; 403 LIFECYCLE_DISABLED otherwise)`,
    role,
    body,
    responses: { 200: { description: "The controls after the change", schema: controlsSchema } },
    async handle(req, deps) {
      if (!deps.lifecycleControl) {
        throw new HttpError(
          403,
          "LIFECYCLE_DISABLED",
          "the host does not allow lifecycle control through the API",
        );
      }
      await act(deps, (req.body ?? {}) as { timeoutMs?: number });
      deps.scheduler.logger.info({ actor: actorOf(req), action: id }, `http: ${id} by ${actorOf(req)}`);
      return ok(await controls(deps));
    },
  });
}

/** The control routes. */
export const controlRoutes: AnyRoute[] = [
  route({
    id: "getControls",
    method: "get",
    path: "/controls",
    tag: "controls",
    summary: "The emergency switch and the instance's state",
    role: "viewer",
    responses: { 200: { description: "The controls", schema: controlsSchema } },
    async handle(_req, deps) {
      return ok(await controls(deps));
    },
  }),
  route({
    id: "pauseAll",
    method: "post",
    path: "/controls/pause-all",
    tag: "controls",
    summary: "Emergency pause of every schedule on every instance (persisted), with a reason",
    role: "operator",
    body: pauseAllBody,
    responses: { 200: { description: "Paused", schema: pauseAllResult } },
    async handle(req, deps) {
      const { scheduler } = deps;
      const actor = actorOf(req);
      await scheduler.pauseAll({
        actor,
        ...(req.body?.reason ? { reason: req.body.reason } : {}),
        abortRunning: req.body?.abortRunning ?? false,
      });
      // Cancelled here rather than through pauseAll's option, so the response can say what it did.
      const cancelled =
        req.body?.cancelOpenOrders && scheduler.broker ? await scheduler.cancelOpenOrders({ actor }) : null;
      return ok({ ...(await controls(deps)), cancelledOrders: cancelled });
    },
  }),
  route({
    id: "resumeAll",
    method: "post",
    path: "/controls/resume-all",
    tag: "controls",
    summary: "Lift the emergency pause; missed fires follow each schedule's misfire policy",
    role: "operator",
    body: emptyBody,
    responses: { 200: { description: "Resumed", schema: controlsSchema } },
    async handle(req, deps) {
      await deps.scheduler.resumeAll({ actor: actorOf(req) });
      return ok(await controls(deps));
    },
  }),
  lifecycle("startScheduler", "/controls/start", "Start the scheduler instance", "admin", (d) =>
    d.scheduler.start(),
  ),
  lifecycle(
    "stopScheduler",
    "/controls/stop",
    "Stop the scheduler instance (running handlers get timeoutMs to finish)",
    "admin",
    (d, b) => d.scheduler.stop(b.timeoutMs === undefined ? {} : { timeoutMs: b.timeoutMs }),
    stopBody,
  ),
  lifecycle("pauseScheduler", "/controls/pause", "Pause this instance (not persisted)", "operator", (d) =>
    d.scheduler.pause(),
  ),
  lifecycle("resumeScheduler", "/controls/resume", "Resume this instance", "operator", (d) =>
    d.scheduler.resume(),
  ),
];
