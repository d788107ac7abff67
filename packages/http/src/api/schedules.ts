/** Schedules: list, get, create, update, delete, pause, resume, trigger, backfill, preview. */

import { buildScheduleRecord, type ScheduleInput, type ScheduleRecord } from "@tradecron/core";
import { z } from "zod";
import { executionDto, iso } from "../dto.js";
import { marketSkipDetail } from "../gaps/preview.js";
import { listSchedulesPage } from "../gaps/schedule-page.js";
import { pageSchema } from "../schemas/common.js";
import {
  backfillResultSchema,
  executionSchema,
  previewFireSchema,
  scheduleSchema,
} from "../schemas/records.js";
import {
  backfillBody,
  createScheduleBody,
  emptyBody,
  idParams,
  previewBody,
  previewQuery,
  scheduleListQuery,
  triggerBody,
  updateScheduleBody,
} from "../schemas/requests.js";
import { type AnyRoute, type ApiDeps, actorOf, ok, route } from "./route.js";
import { scheduleView, scheduleViews } from "./schedule-views.js";

const schedulePage = pageSchema(scheduleSchema, "SchedulePage");
const previewResult = z.object({ fires: z.array(previewFireSchema) }).meta({ id: "Preview" });

async function previewOf(
  deps: ApiDeps,
  record: ScheduleRecord,
  target: string | ScheduleInput,
  count: number,
  from: number | undefined,
) {
  const fires = await deps.scheduler.preview(target, { count, ...(from === undefined ? {} : { from }) });
  return {
    fires: fires.map((f) => ({
      at: iso(f.at),
      local: f.local,
      skip: f.skip,
      marketSkip: f.marketSkip,
      skipDetail: marketSkipDetail(record, f.at),
    })),
  };
}

/** Pause or resume one schedule. */
function pauseRoute(kind: "pause" | "resume"): AnyRoute {
  return route({
    id: `${kind}Schedule`,
    method: "post",
    path: `/schedules/{id}/${kind}`,
    tag: "schedules",
    summary: kind === "pause" ? "Pause one schedule" : "Resume one schedule",
    role: "operator",
    params: idParams,
    body: emptyBody,
    responses: {
      200: {
        description: kind === "pause" ? "The paused schedule" : "The resumed schedule",
        schema: scheduleSchema,
      },
    },
    async handle(req, deps) {
      const options = { actor: actorOf(req) };
      const record =
        kind === "pause"
          ? await deps.scheduler.pauseSchedule(req.params.id, options)
          : await deps.scheduler.resumeSchedule(req.params.id, options);
      return ok(await scheduleView(deps, record));
    },
  });
}

/** The schedule routes. */
export const scheduleRoutes: AnyRoute[] = [
  route({
    id: "listSchedules",
    method: "get",
    path: "/schedules",
    tag: "schedules",
    summary: "List schedules (filters: tag, job, enabled, paused; cursor pages by id)",
    role: "viewer",
    query: scheduleListQuery,
    responses: { 200: { description: "A page of schedules", schema: schedulePage } },
    async handle({ query }, deps) {
      const page = await listSchedulesPage(deps.scheduler, {
        ...(query.tag ? { tag: query.tag } : {}),
        ...(query.job === undefined ? {} : { job: query.job }),
        ...(query.enabled === undefined ? {} : { enabled: query.enabled }),
        ...(query.paused === undefined ? {} : { paused: query.paused }),
        limit: query.limit ?? 50,
        ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      });
      return ok({ items: await scheduleViews(deps, page.items), nextCursor: page.nextCursor });
    },
  }),
  route({
    id: "createSchedule",
    method: "post",
    path: "/schedules",
    tag: "schedules",
    summary: "Create a schedule",
    role: "admin",
    body: createScheduleBody,
    responses: { 201: { description: "Created", schema: scheduleSchema } },
    async handle(req, deps) {
      const record = await deps.scheduler.createSchedule(req.rawBody as ScheduleInput, {
        actor: actorOf(req),
      });
      return {
        status: 201,
        body: await scheduleView(deps, record),
        headers: { Location: `schedules/${encodeURIComponent(record.id)}` },
      };
    },
  }),
  route({
    id: "getSchedule",
    method: "get",
    path: "/schedules/{id}",
    tag: "schedules",
    summary: "One schedule with its next fire (and, when paused, the next fire once resumed)",
    role: "viewer",
    params: idParams,
    responses: { 200: { description: "The schedule", schema: scheduleSchema } },
    async handle({ params }, deps) {
      return ok(await scheduleView(deps, await deps.scheduler.getSchedule(params.id)));
    },
  }),
  route({
    id: "updateSchedule",
    method: "patch",
    path: "/schedules/{id}",
    tag: "schedules",
    summary: "Update a schedule (with expectedRevision: only if nobody changed it since)",
    role: "admin",
    params: idParams,
    body: updateScheduleBody,
    responses: { 200: { description: "The updated schedule", schema: scheduleSchema } },
    async handle(req, deps) {
      const { expectedRevision, ...update } = (req.rawBody ?? {}) as Record<string, unknown>;
      const record = await deps.scheduler.updateSchedule(req.params.id, update, {
        actor: actorOf(req),
        ...(typeof expectedRevision === "number" ? { expectedRevision } : {}),
      });
      return ok(await scheduleView(deps, record));
    },
  }),
  route({
    id: "deleteSchedule",
    method: "delete",
    path: "/schedules/{id}",
    tag: "schedules",
    summary: "Delete a schedule (its history stays)",
    role: "admin",
    params: idParams,
    responses: { 204: { description: "Deleted" } },
    async handle(req, deps) {
      await deps.scheduler.removeSchedule(req.params.id, { actor: actorOf(req) });
      return { status: 204, body: undefined };
    },
  }),
  pauseRoute("pause"),
  pauseRoute("resume"),
  route({
    id: "triggerSchedule",
    method: "post",
    path: "/schedules/{id}/trigger",
    tag: "schedules",
    summary: "Run a schedule now (a manual fire, audited with the caller)",
    role: "operator",
    limit: "trigger",
    params: idParams,
    body: triggerBody,
    responses: {
      200: { description: "The run has ended (wait: true)", schema: executionSchema },
      202: { description: "The fire is claimed and runs", schema: executionSchema },
    },
    async handle(req, deps) {
      const wait = req.body?.wait ?? false;
      const execution = await deps.scheduler.trigger(req.params.id, { actor: actorOf(req), wait });
      return { status: wait ? 200 : 202, body: executionDto(execution) };
    },
  }),
  route({
    id: "backfillSchedule",
    method: "post",
    path: "/schedules/{id}/backfill",
    tag: "schedules",
    summary: "Run the schedule's fires of a past window now (fires already run are left alone)",
    role: "operator",
    limit: "trigger",
    params: idParams,
    body: backfillBody,
    responses: { 200: { description: "What ran", schema: backfillResultSchema } },
    async handle(req, deps) {
      const result = await deps.scheduler.backfill(req.params.id, {
        actor: actorOf(req),
        from: req.body.from,
        to: req.body.to,
        ...(req.body.maxFires === undefined ? {} : { maxFires: req.body.maxFires }),
      });
      return ok({ ...result, executions: result.executions.map(executionDto) });
    },
  }),
  route({
    id: "previewSchedule",
    method: "get",
    path: "/schedules/{id}/preview",
    tag: "schedules",
    summary: "The next N fires, with the ones that would be skipped and why",
    role: "viewer",
    params: idParams,
    query: previewQuery,
    responses: { 200: { description: "The coming fires", schema: previewResult } },
    async handle({ params, query }, deps) {
      const record = await deps.scheduler.getSchedule(params.id);
      return ok(await previewOf(deps, record, params.id, query.count ?? 10, query.from));
    },
  }),
  route({
    id: "previewInput",
    method: "post",
    path: "/preview",
    tag: "schedules",
    summary: "The next N fires of a schedule not saved yet (for a create form)",
    role: "viewer",
    body: previewBody,
    responses: { 200: { description: "The coming fires", schema: previewResult } },
    async handle(req, deps) {
      const raw = req.rawBody as { schedule: ScheduleInput };
      const record = buildScheduleRecord(raw.schedule, deps.scheduler.clock.now());
      return ok(await previewOf(deps, record, raw.schedule, req.body.count ?? 10, req.body.from));
    },
  }),
];
