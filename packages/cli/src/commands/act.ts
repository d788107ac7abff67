/** The commands that change something: run-job, pause-all, resume-all, approvals approve/reject. */

import type { ApprovalStatus, DecisionResult, RiskLevel } from "@tradecron/core";
import { CliError, EXIT, type ExitCode } from "../errors.js";
import { duration, when } from "../render/format.js";
import { table } from "../render/table.js";
import type { CommandContext } from "./context.js";

/** `tradecron run-job <schedule-or-job>`: 0 succeeded, 1 failed/timed out/cancelled, 5 skipped. */
export function runJobCommand(ctx: CommandContext, target: string): Promise<ExitCode> {
  return ctx.withOperations(
    async (ops) => {
      const { scheduleId, execution: e } = await ops.runJob(target, { actor: ctx.actor });
      if (ctx.json) ctx.printJson({ scheduleId, execution: e });
      else {
        const detail = e.error ? `: ${e.error.message}` : e.reason ? ` (${e.reason})` : "";
        ctx.print(
          `${scheduleId}: ${e.status}${detail} after ${e.attempts} attempt(s), ${duration(e.startedAt, e.endedAt)} [execution ${e.id}]`,
        );
        if (e.result !== null && e.status === "succeeded") ctx.print(`result: ${JSON.stringify(e.result)}`);
      }
      if (e.status === "succeeded") return EXIT.OK;
      if (e.status === "skipped") return EXIT.REFUSED;
      return EXIT.FAILED;
    },
    { broker: true, trades: true, writes: true },
  );
}

/** `tradecron pause-all`. */
export function pauseAllCommand(
  ctx: CommandContext,
  options: { reason?: string; cancelOrders?: boolean },
): Promise<ExitCode> {
  return ctx.withOperations(
    async (ops) => {
      const result = await ops.pauseAll({
        actor: ctx.actor,
        ...(options.reason ? { reason: options.reason } : {}),
        cancelOpenOrders: options.cancelOrders === true,
      });
      if (ctx.json) ctx.printJson(result);
      else {
        ctx.print(
          `pause-all is in force (by ${result.control.pausedBy} at ${when(result.control.pausedAt)}): no schedule fires on any instance until resume-all`,
        );
        if (result.cancelledOrders)
          ctx.print(
            `open orders cancelled: ${result.cancelledOrders.cancelled}, failed: ${result.cancelledOrders.failed.length}`,
          );
      }
      return result.cancelledOrders && result.cancelledOrders.failed.length > 0 ? EXIT.FAILED : EXIT.OK;
    },
    { broker: options.cancelOrders === true, writes: true },
  );
}

/** `tradecron resume-all`. */
export function resumeAllCommand(ctx: CommandContext): Promise<ExitCode> {
  return ctx.withOperations(
    async (ops) => {
      const control = await ops.resumeAll({ actor: ctx.actor });
      if (ctx.json) ctx.printJson({ control });
      else
        ctx.print(
          "pause-all lifted: schedules fire again (missed fires follow each schedule's misfire policy)",
        );
      return EXIT.OK;
    },
    { writes: true },
  );
}

const APPROVAL_STATUSES = new Set<ApprovalStatus>([
  "pending",
  "approved",
  "rejected",
  "expired",
  "submitted",
  "failed",
]);
const RISKS = new Set<RiskLevel>(["low", "medium", "high"]);

function listOf<T extends string>(value: string | undefined, allowed: Set<T>, flag: string): T[] | undefined {
  if (!value) return undefined;
  const items = value.split(",").map((s) => s.trim()) as T[];
  for (const item of items) {
    if (!allowed.has(item)) {
      throw new CliError(
        "VALIDATION",
        `${flag}: unknown value '${item}' (${[...allowed].join(", ")})`,
        EXIT.USAGE,
        { field: flag },
      );
    }
  }
  return items;
}

function orderText(intent: unknown): string {
  const i = (intent ?? {}) as Record<string, unknown>;
  const qty = i.qty ?? (i.notional ? `$${String(i.notional)}` : "?");
  const price = i.limitPrice ? ` limit ${String(i.limitPrice)}` : "";
  return `${String(i.side ?? "?")} ${String(qty)} ${String(i.symbol ?? "?")}${price}`;
}

/** `tradecron approvals [list]`. */
export function approvalsListCommand(
  ctx: CommandContext,
  options: { status?: string; risk?: string; schedule?: string; limit: number },
): Promise<ExitCode> {
  const status = listOf(options.status ?? "pending", APPROVAL_STATUSES, "--status");
  const riskLevel = listOf(options.risk, RISKS, "--risk");
  return ctx.withOperations(async (ops) => {
    const page = await ops.approvals({
      limit: options.limit,
      ...(status ? { status } : {}),
      ...(riskLevel ? { riskLevel } : {}),
      ...(options.schedule ? { scheduleId: options.schedule } : {}),
    });
    if (ctx.json) {
      ctx.printJson(page.items);
      return EXIT.OK;
    }
    ctx.print(
      table(
        ["ID", "SCHEDULE", "STATUS", "RISK", "ORDER", "CONFIDENCE", "EXPIRES", "RATIONALE"],
        page.items.map((a) => [
          a.id,
          a.scheduleId,
          a.status,
          a.riskLevel,
          orderText(a.intent),
          a.confidence === null ? "-" : String(a.confidence),
          when(a.expiresAt),
          a.rationale ?? "",
        ]),
      ),
    );
    return EXIT.OK;
  });
}

function decisionExit(results: DecisionResult[]): ExitCode {
  const failed = results.filter((r) => !r.ok);
  if (failed.length === 0) return EXIT.OK;
  if (failed.every((r) => r.code === "NOT_FOUND")) return EXIT.NOT_FOUND;
  if (failed.every((r) => r.code === "APPROVAL_NOT_PENDING")) return EXIT.REFUSED;
  return EXIT.FAILED;
}

/** `tradecron approvals approve|reject <id...>`: 0 all decided, 4 unknown ids, 5 not pending, 1 otherwise. */
export function decideCommand(
  ctx: CommandContext,
  decision: "approve" | "reject",
  ids: string[],
  options: { reason?: string },
): Promise<ExitCode> {
  return ctx.withOperations(
    async (ops) => {
      const o = { actor: ctx.actor, ...(options.reason ? { reason: options.reason } : {}) };
      const results = decision === "approve" ? await ops.approve(ids, o) : await ops.reject(ids, o);
      if (ctx.json) ctx.printJson(results);
      else
        ctx.print(
          table(
            ["ID", "OK", "STATUS", "DETAIL"],
            results.map((r) => [
              r.id,
              r.ok ? "yes" : "no",
              r.status ?? "-",
              r.reason ?? (r.brokerOrderId ? `order ${r.brokerOrderId}` : ""),
            ]),
          ),
        );
      return decisionExit(results);
    },
    { submits: decision === "approve", writes: true },
  );
}
