/** The read-only commands: schedules, preview, history, status, validate. */

import { type ExecutionRecord, type ExecutionStatus, FINAL_STATUSES, ValidationError } from "@tradecron/core";
import { checkBroker } from "../build/brokers.js";
import { describeStorage } from "../build/storage.js";
import { CliError, ConfigError, EXIT, type ExitCode } from "../errors.js";
import { describeTrigger, duration, when } from "../render/format.js";
import { table } from "../render/table.js";
import { httpTokens } from "../service/http-auth.js";
import type { CommandContext } from "./context.js";

const lastRunText = (e: ExecutionRecord | null) =>
  e ? `${e.status} ${when(e.startedAt ?? e.scheduledAt)}` : "-";

/** `tradecron schedules`. */
export function schedulesCommand(ctx: CommandContext): Promise<ExitCode> {
  return ctx.withOperations(async (ops) => {
    const views = await ops.schedules();
    if (ctx.json) {
      ctx.printJson(views);
      return EXIT.OK;
    }
    if (views.length === 0) {
      ctx.print("no schedules");
      return EXIT.OK;
    }
    const state = (v: (typeof views)[number]) =>
      !v.schedule ? "-" : !v.schedule.enabled ? "disabled" : v.schedule.paused ? "paused" : "active";
    const config = (v: (typeof views)[number]) =>
      v.declared === "differs" ? `differs (${v.changed.join(", ")})` : v.declared.replace("_", " ");
    ctx.print(
      table(
        ["ID", "JOB", "TRIGGER", "STATE", "NEXT FIRE", "LAST RUN", "CONFIG"],
        views.map((v) => [
          v.id,
          v.schedule?.job ?? "-",
          v.schedule ? describeTrigger(v.schedule.trigger) : "-",
          state(v),
          v.next ? `${when(v.next.at)}${v.next.skip ? ` (skip: ${v.next.skip})` : ""}` : "-",
          lastRunText(v.lastRun),
          config(v),
        ]),
      ),
    );
    return EXIT.OK;
  });
}

/** `tradecron preview <schedule>`. */
export function previewCommand(ctx: CommandContext, id: string, count: number): Promise<ExitCode> {
  return ctx.withOperations(async (ops) => {
    const result = await ops.preview(id, count);
    if (ctx.json) {
      ctx.printJson(result);
      return EXIT.OK;
    }
    if (result.declaredOnly) ctx.print(`(${id} is declared in the config but not stored yet)`);
    ctx.print(
      table(
        ["AT (UTC)", "LOCAL", "SKIP"],
        result.fires.map((f) => [when(f.at), f.local, f.skip ?? ""]),
      ),
    );
    return EXIT.OK;
  });
}

const STATUSES = new Set<ExecutionStatus>(["claimed", "running", ...FINAL_STATUSES]);

/** `tradecron history`. */
export function historyCommand(
  ctx: CommandContext,
  options: { schedule?: string; status?: string; since?: string; limit: number; cursor?: string },
): Promise<ExitCode> {
  const status = options.status?.split(",").map((s) => s.trim()) as ExecutionStatus[] | undefined;
  for (const s of status ?? []) {
    if (!STATUSES.has(s)) {
      throw new CliError(
        "VALIDATION",
        `--status: unknown status '${s}' (${[...STATUSES].join(", ")})`,
        EXIT.USAGE,
        {
          field: "status",
        },
      );
    }
  }
  let from: number | undefined;
  if (options.since) {
    from = Date.parse(options.since);
    if (!Number.isFinite(from) || !/(Z|[+-]\d{2}:?\d{2})$/i.test(options.since)) {
      throw new CliError(
        "VALIDATION",
        "--since: expected an ISO 8601 instant with a zone (2026-01-05T00:00:00Z)",
        EXIT.USAGE,
        {
          field: "since",
        },
      );
    }
  }
  return ctx.withOperations(async (ops) => {
    const page = await ops.history({
      limit: options.limit,
      ...(options.schedule ? { scheduleId: options.schedule } : {}),
      ...(status ? { status } : {}),
      ...(from === undefined ? {} : { from }),
      ...(options.cursor ? { cursor: options.cursor } : {}),
    });
    if (ctx.json) {
      ctx.printJson(page);
      return EXIT.OK;
    }
    ctx.print(
      table(
        ["SCHEDULED", "SCHEDULE", "KIND", "STATUS", "ATTEMPTS", "DURATION", "ACTOR", "DETAIL"],
        page.items.map((e) => [
          when(e.scheduledAt),
          e.scheduleId,
          e.kind,
          e.status,
          String(e.attempts),
          duration(e.startedAt, e.endedAt),
          e.actor ?? "-",
          e.error?.message ?? e.reason ?? "",
        ]),
      ),
    );
    if (page.nextCursor) ctx.print(`more: --cursor ${page.nextCursor}`);
    return EXIT.OK;
  });
}

/** `tradecron status`. */
export function statusCommand(ctx: CommandContext): Promise<ExitCode> {
  return ctx.withOperations(
    async (ops) => {
      const s = await ops.status();
      if (ctx.json) {
        ctx.printJson(s);
        return EXIT.OK;
      }
      const c = s.control;
      ctx.print(
        `pause-all: ${c.pausedAll ? `ON${c.pausedAt ? ` since ${when(c.pausedAt)}` : ""}${c.pausedBy ? ` by ${c.pausedBy}` : ""}${c.reason ? ` (${c.reason})` : ""}` : "off"}`,
      );
      ctx.print(`approvals pending: ${s.approvalsPending}`);
      if (s.service) {
        const snap = s.service.snapshot;
        const beat = typeof snap.last_heartbeat === "string" ? Date.parse(snap.last_heartbeat) : Number.NaN;
        const age = Number.isFinite(beat) ? ` ${Math.round((Date.now() - beat) / 1000)} s ago` : "";
        const health = (snap.health as { status?: string } | undefined)?.status ?? "?";
        ctx.print(
          `service: ${String(snap.state ?? "?")}, ${health}, heartbeat${age} (instance ${String(snap.instance_id ?? "?")}, ${s.service.path})`,
        );
      }
      if (s.source === "status-file") {
        ctx.print(
          "(storage is held by the running instance and its API cannot be used from here: this is its status file)",
        );
        return EXIT.OK;
      }
      ctx.print("");
      ctx.print(
        table(
          ["SCHEDULE", "JOB", "STATE", "NEXT FIRE", "LAST RUN", "LAST SUCCESS"],
          s.schedules.map((r) => [
            r.id,
            r.job,
            !r.enabled ? "disabled" : r.paused ? "paused" : "active",
            r.next ? `${when(r.next.at)}${r.next.skip ? ` (skip: ${r.next.skip})` : ""}` : "-",
            lastRunText(r.lastRun),
            when(r.lastSuccessAt),
          ]),
        ),
      );
      if (s.active.length > 0) {
        ctx.print("");
        ctx.print(
          table(
            ["RUNNING", "SCHEDULED", "STATUS", "INSTANCE", "LEASE UNTIL"],
            s.active.map((e) => [
              e.scheduleId,
              when(e.scheduledAt),
              e.status,
              e.instanceId,
              when(e.leaseExpiresAt),
            ]),
          ),
        );
      }
      return EXIT.OK;
    },
    { status: true },
  );
}

/**
 * `tradecron validate`: loads and checks the config without touching storage, including what
 * `start` reads from the environment (the HTTP tokens, a broker's keys).
 */
export async function validateCommand(ctx: CommandContext): Promise<ExitCode> {
  const config = await ctx.loadConfig();
  const tokens = config.http ? httpTokens(config.http, ctx.io.env, config.file) : [];
  try {
    await checkBroker(config.broker, { env: ctx.io.env, configDir: config.dir });
  } catch (error) {
    throw error instanceof ValidationError ? new ConfigError(config.file, error.issues) : error;
  }
  const http = config.http;
  const summary = {
    file: config.file,
    storage: describeStorage(config.storage),
    jobs: config.jobs.map((j) => j.name),
    schedules: config.schedules.map((s) => s.id),
    broker: config.broker ? (config.broker.kind === "factory" ? "factory" : config.broker.config.type) : null,
    enabled: config.scheduler.enabled,
    http: http ? { listen: `${http.host}:${http.port}${http.basePath || "/"}`, tokens: tokens.length } : null,
  };
  if (ctx.json) ctx.printJson({ ok: true, ...summary });
  else
    ctx.print(
      `${config.file}: ok (${summary.jobs.length} job(s), ${summary.schedules.length} schedule(s), storage ${summary.storage}${summary.broker ? `, broker ${summary.broker}` : ""}${summary.http ? `, http ${summary.http.listen} with ${summary.http.tokens} token(s)` : ""})`,
    );
  return EXIT.OK;
}
