/**
 * The report of a dry run, built from what the scheduler stored (executions, orders, approvals)
 * and what the recipes recorded in their run summaries: every fire, every skip with its reason,
 * every planned and placed order, and the final positions.
 */

import type {
  ApprovalRecord,
  BrokerPosition,
  ExecutionRecord,
  JsonValue,
  MarketCalendar,
  OrderRecord,
  Scheduler,
} from "@tradecron/core";
import { localClock, localDate } from "../calendar/dates.js";
import type { RecipeRuntime } from "../runtime/runtime.js";
import type { PlannedOrder, RunSummary, SkippedOrder } from "../runtime/summary.js";

/** One fire of one schedule. */
export interface SimFire {
  scheduleId: string;
  /** The instant it was due (ISO). */
  at: string;
  /** Local date and time in the calendar's zone, 'YYYY-MM-DD HH:MM'. */
  local: string;
  kind: ExecutionRecord["kind"];
  /** The execution's status (`succeeded`, `skipped`, `failed`, ...). */
  status: ExecutionRecord["status"];
  /** What the recipe did (`executed`, `proposed`, `skipped`, `deferred`), or the status for plain jobs. */
  outcome: string;
  /** Why it was skipped, by the scheduler or by the recipe; null when it ran as planned. */
  reason: string | null;
  attempts: number;
  /** The recipe's summary (null for plain jobs and scheduler skips). */
  summary: RunSummary | null;
}

/** Who decided a skip. */
export type SkipSource = "scheduler" | "recipe" | "order";

/** A fire (or one order of it) that did not happen, and why. */
export interface SimSkip {
  scheduleId: string;
  at: string;
  local: string;
  source: SkipSource;
  /**
   * `holiday`, `weekend`, `early_close`, `outside_hours` (the scheduler's `market_closed`, made
   * precise), `misfire`, `overlap`, `broker_disconnected`, `paused`; or the recipe's: `cooldown`,
   * `cap_reached`, `within_bands`, `below_minimum`, `plan_pending`, ...; or an order's.
   */
  reason: string;
  detail: string | null;
  symbol?: string;
}

/** A planned order, with the fire that planned it. */
export interface SimPlanned extends PlannedOrder {
  scheduleId: string;
  at: string;
}

/** An order the paper broker received. */
export interface SimOrder {
  scheduleId: string | null;
  clientOrderId: string;
  at: string;
  symbol: string;
  side: "buy" | "sell";
  qty: string | null;
  notional: string | null;
  status: string;
  filledQty: string;
  avgFillPrice: string | null;
}

/** A cadence execution that moved off its nominal day. */
export interface SimRoll {
  scheduleId: string;
  period: string;
  nominal: string;
  date: string;
  because: string;
}

/** What `simulate` returns. */
export interface SimulationReport {
  window: { from: string; to: string; calendar: string };
  fires: SimFire[];
  /** Every skip except `not_due` (a cadence recipe's sessions between its dates: counted in `counts`). */
  skips: SimSkip[];
  /** Executions whose nominal day was closed, with where they went. */
  rolled: SimRoll[];
  planned: SimPlanned[];
  orders: SimOrder[];
  approvals: {
    id: string;
    scheduleId: string;
    symbol: string;
    side: string;
    status: string;
    decidedBy: string | null;
  }[];
  positions: BrokerPosition[];
  account: { cash: string; equity: string };
  counts: {
    fires: number;
    ran: number;
    executed: number;
    skipped: Record<string, number>;
    notDue: number;
    orders: number;
    filled: number;
    failed: number;
  };
  /** Background errors the scheduler reported (none in a clean run). */
  errors: string[];
}

const iso = (t: number) => new Date(t).toISOString();

function localOf(cal: MarketCalendar, t: number): string {
  const { hour, minute } = localClock(cal.timezone, t);
  return `${localDate(cal.timezone, t)} ${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
}

/** Makes the scheduler's `market_closed` precise: a holiday, a weekend, after an early close, or outside hours. */
export function marketReason(cal: MarketCalendar, at: number): { reason: string; detail: string | null } {
  const date = localDate(cal.timezone, at);
  if (date < cal.firstDate || date > cal.lastDate)
    return { reason: "outside_hours", detail: "outside the calendar's range" };
  const day = cal.dayInfo(date);
  if (!day.session) {
    return day.reason === "weekend"
      ? { reason: "weekend", detail: date }
      : { reason: "holiday", detail: day.reason ?? date };
  }
  if (day.session.earlyClose && at >= day.session.close.getTime()) {
    return {
      reason: "early_close",
      detail: `${day.reason ?? "early close"}: closed at ${localOf(cal, day.session.close.getTime()).slice(11)}`,
    };
  }
  return {
    reason: "outside_hours",
    detail: `the session is ${localOf(cal, day.session.open.getTime()).slice(11)}-${localOf(cal, day.session.close.getTime()).slice(11)}`,
  };
}

async function all<T>(
  load: (cursor: string | null) => Promise<{ items: T[]; nextCursor: string | null }>,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const page = await load(cursor);
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** Builds the report from the scheduler's records. */
export async function buildReport(input: {
  scheduler: Scheduler;
  runtime: RecipeRuntime;
  calendar: MarketCalendar;
  from: number;
  to: number;
  positions: BrokerPosition[];
  account: { cash: string; equity: string };
  errors: string[];
}): Promise<SimulationReport> {
  const { scheduler, runtime, calendar: cal } = input;
  const executions = (await all((cursor) => scheduler.listExecutions({ limit: 1000, cursor }))).sort(
    (a, b) => a.scheduledAt - b.scheduledAt || (a.scheduleId < b.scheduleId ? -1 : 1),
  );
  const orders = (await all((cursor) => scheduler.listOrders({ limit: 1000, cursor }))).sort(
    (a, b) => a.submittedAt - b.submittedAt,
  );
  const approvals = await all<ApprovalRecord>((cursor) => scheduler.listApprovals({ limit: 1000, cursor }));
  const fires: SimFire[] = [];
  const skips: SimSkip[] = [];
  const rolled: SimRoll[] = [];
  const planned: SimPlanned[] = [];
  const counts: SimulationReport["counts"] = {
    fires: 0,
    ran: 0,
    executed: 0,
    skipped: {},
    notDue: 0,
    orders: orders.length,
    filled: orders.filter((o) => o.status === "filled").length,
    failed: 0,
  };
  const count = (reason: string) => {
    counts.skipped[reason] = (counts.skipped[reason] ?? 0) + 1;
  };
  for (const e of executions) {
    const at = iso(e.scheduledAt);
    const local = localOf(cal, e.scheduledAt);
    const summary = e.status === "succeeded" ? runtime.summaryOf(e.result) : null;
    let reason: string | null = e.reason;
    counts.fires++;
    if (e.status === "skipped") {
      const precise =
        e.reason === "market_closed"
          ? marketReason(cal, e.scheduledAt)
          : { reason: e.reason ?? "skipped", detail: null };
      reason = precise.reason;
      count(reason);
      skips.push({
        scheduleId: e.scheduleId,
        at,
        local,
        source: "scheduler",
        reason,
        detail: precise.detail ?? detailOf(e.details),
      });
    } else if (e.status === "failed" || e.status === "timed_out" || e.status === "cancelled") {
      counts.failed++;
      reason = e.error?.message ?? e.reason ?? e.status;
    } else {
      counts.ran++;
    }
    if (summary) {
      reason = summary.reason;
      if (summary.outcome === "executed" || summary.outcome === "proposed") counts.executed++;
      if (summary.reason === "not_due") counts.notDue++;
      else if (summary.outcome === "skipped" || summary.outcome === "deferred") {
        count(summary.reason ?? summary.outcome);
        skips.push({
          scheduleId: e.scheduleId,
          at,
          local,
          source: "recipe",
          reason: summary.reason ?? summary.outcome,
          detail: detailOf(summary.details?.until ?? summary.details?.next ?? null),
        });
      }
      for (const o of summary.planned) planned.push({ ...o, scheduleId: e.scheduleId, at });
      for (const s of summary.skipped) {
        skips.push(orderSkip(e.scheduleId, at, local, s));
        count(s.reason);
      }
      const d = summary.details;
      if (
        d &&
        typeof d.rolledBecause === "string" &&
        typeof d.nominal === "string" &&
        typeof d.date === "string"
      ) {
        rolled.push({
          scheduleId: e.scheduleId,
          period: String(summary.period),
          nominal: d.nominal,
          date: d.date,
          because: d.rolledBecause,
        });
      }
    }
    fires.push({
      scheduleId: e.scheduleId,
      at,
      local,
      kind: e.kind,
      status: e.status,
      outcome: summary?.outcome ?? e.status,
      reason,
      attempts: e.attempts,
      summary,
    });
  }
  // One fire's orders share an instant: keep them in the order the fire placed them.
  const position = new Map<string, number>();
  for (const f of fires) {
    for (const [i, o] of (f.summary?.orders ?? []).entries()) position.set(o.clientOrderId, i);
  }
  orders.sort(
    (a, b) =>
      a.submittedAt - b.submittedAt ||
      (position.get(a.clientOrderId) ?? 0) - (position.get(b.clientOrderId) ?? 0),
  );
  return {
    window: { from: iso(input.from), to: iso(input.to), calendar: cal.code },
    fires,
    skips,
    rolled,
    planned,
    orders: orders.map(simOrder),
    approvals: approvals.map((a) => {
      const intent = a.intent as { symbol?: string; side?: string };
      return {
        id: a.id,
        scheduleId: a.scheduleId,
        symbol: intent.symbol ?? "",
        side: intent.side ?? "",
        status: a.status,
        decidedBy: a.decidedBy,
      };
    }),
    positions: input.positions,
    account: input.account,
    counts,
    errors: input.errors,
  };
}

function orderSkip(scheduleId: string, at: string, local: string, s: SkippedOrder): SimSkip {
  return {
    scheduleId,
    at,
    local,
    source: "order",
    reason: s.reason,
    detail: s.detail ?? null,
    symbol: s.symbol,
  };
}

function detailOf(value: JsonValue | undefined | null): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === "string" ? value : JSON.stringify(value);
}

function simOrder(o: OrderRecord): SimOrder {
  const intent = o.intent as { qty?: string; notional?: string };
  return {
    scheduleId: o.scheduleId,
    clientOrderId: o.clientOrderId,
    at: iso(o.submittedAt),
    symbol: o.symbol,
    side: o.side,
    qty: intent.qty ?? null,
    notional: intent.notional ?? null,
    status: o.status,
    filledQty: o.filledQty,
    avgFillPrice: o.avgFillPrice,
  };
}
