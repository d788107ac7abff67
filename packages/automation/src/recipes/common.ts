/**
 * What the recipes share: their schedule defaults, the options every recipe takes, turning a
 * plan's orders into intents, submitting or proposing them over what earlier attempts of the fire
 * placed, and the value of an order against a cap.
 */

import {
  Decimal,
  decimalString,
  type JobContext,
  type JsonValue,
  type MarketCalendar,
  type OrderIntentInput,
  type OrderRecord,
  type RiskLevel,
  type RiskLimits,
  type ScheduleInput,
  type Scheduler,
  type SubmitOutcome,
} from "@tradecron/core";
import { z } from "zod";
import {
  type Cadence,
  type CadenceExecution,
  type DueResult,
  dueExecution,
  nextExecution,
} from "../calendar/cadence.js";
import { localDate } from "../calendar/dates.js";
import { fireInstantOn, sessionTimeInput, sessionTimeSchedule } from "../calendar/session-trigger.js";
import { brokerPriceFeed, type PriceFeed } from "../prices/price-feed.js";
import { declareSchedule } from "../runtime/declare.js";
import {
  capValue,
  ordersOfFire,
  type PriorOrder,
  proposalsOfFire,
  replayVerdict,
} from "../runtime/fire-journal.js";
import type { GroupMeta, RecipeRuntime } from "../runtime/runtime.js";
import type { OrderOutcome, PlannedOrder } from "../runtime/summary.js";
import { actorInput, calendarInput, durationInput, positiveDuration, universeInput } from "../validation.js";

/** Options every recipe takes besides its rule. */
export const commonOptions = {
  /** Human-readable name of the schedule(s). */
  name: z.string().trim().min(1).max(150).optional(),
  description: z.string().max(2000).optional(),
  /** Who declares the recipe, for the audit log. Default `system`. */
  actor: actorInput.default("system"),
  /** Symbols the recipe may trade: a list or a check; an unknown symbol is a configuration error. */
  universe: universeInput,
  /** Where prices come from. Default: the scheduler's broker (PaperBroker's prices, or positions). */
  prices: z
    .custom<PriceFeed>((v) => typeof v === "function", { message: "must be a function (symbol) => quote" })
    .optional(),
  /** Risk limits of the recipe's schedule(s), checked after the scheduler's (core's RiskLimits). */
  risk: z.record(z.string(), z.unknown()).optional(),
  /** Retry policy of the schedule(s) (core's form). Default 3 attempts, 30 s then 60 s apart. */
  retry: z.unknown().optional(),
  /** Per-attempt timeout. Default 2 minutes. */
  timeout: durationInput.optional(),
  /** Approvals stay pending this long (default the scheduler's, 4 h). */
  approvalExpiry: positiveDuration.optional(),
  /** Tags of the schedule(s). */
  tags: z.array(z.string().min(1).max(100)).max(40).optional(),
};

/** The options every recipe accepts besides its rule. */
export interface CommonInput {
  /** Human-readable name of the schedule(s). */
  name?: string;
  description?: string;
  /** Who declares the recipe, for the audit log. Default `system`. */
  actor?: string;
  /** Symbols the recipe may trade: a list or a check; an unknown symbol is a configuration error. */
  universe?: readonly string[] | ((symbol: string) => boolean | Promise<boolean>);
  /** Where prices come from. Default: the scheduler's broker (PaperBroker's prices, or positions). */
  prices?: PriceFeed;
  /** Risk limits of the recipe's schedule(s), checked after the scheduler's. */
  risk?: RiskLimits;
  /** Retry policy of the schedule(s). Default 3 attempts, 30 s then 60 s apart. */
  retry?: ScheduleInput["retry"];
  /** Per-attempt timeout (ms or '2m'). Default 2 minutes. */
  timeout?: number | string;
  /** How long approvals stay pending (ms or '4h'); default the scheduler's. */
  approvalExpiry?: number | string;
  /** Tags of the schedule(s). */
  tags?: string[];
}

/** The parsed common options. */
export interface CommonOptions {
  name?: string;
  description?: string;
  actor: string;
  universe?: readonly string[] | ((symbol: string) => boolean | Promise<boolean>);
  prices?: PriceFeed;
  risk?: Record<string, unknown>;
  retry?: unknown;
  timeout?: number;
  approvalExpiry?: number;
  tags?: string[];
}

/** Retry default of recipe schedules: a broker hiccup gets two more tries, a minute apart at most. */
export const RECIPE_RETRY = { attempts: 3, backoff: { baseMs: "30s", factor: 2, maxMs: "5m" } } as const;

/** The policy fields of a recipe schedule, from its common options. */
export function schedulePolicies(o: CommonOptions): Partial<ScheduleInput> {
  return {
    retry: (o.retry as ScheduleInput["retry"]) ?? RECIPE_RETRY,
    timeout: o.timeout ?? 120_000,
    overlap: "skip",
    ...(o.risk ? { risk: o.risk as ScheduleInput["risk"] } : {}),
    ...(o.approvalExpiry !== undefined ? { approvalExpiry: o.approvalExpiry } : {}),
    ...(o.description !== undefined ? { description: o.description } : {}),
  };
}

/** The price feed a recipe uses. */
export function feedOf(o: CommonOptions, scheduler: Scheduler): PriceFeed {
  return o.prices ?? brokerPriceFeed(scheduler.broker);
}

/** An order intent for a planned order. */
export function intentOf(
  o: PlannedOrder,
  meta: {
    strategy: string;
    rationale: string;
    riskLevel?: RiskLevel;
    confidence?: number;
    supportingData?: JsonValue;
  },
): OrderIntentInput {
  return {
    symbol: o.symbol,
    side: o.side,
    ...(o.notional !== undefined ? { notional: o.notional } : { qty: o.qty as string }),
    type: "market",
    timeInForce: "day",
    ...(o.price !== undefined ? { referencePrice: o.price } : {}),
    strategy: meta.strategy,
    rationale: meta.rationale,
    ...(meta.riskLevel ? { riskLevel: meta.riskLevel } : {}),
    ...(meta.confidence !== undefined ? { confidence: meta.confidence } : {}),
    ...(meta.supportingData !== undefined ? { supportingData: meta.supportingData } : {}),
  };
}

/** What a submitted order counts against a cap (see {@link capValue}). */
export function orderValue(order: OrderRecord): Decimal {
  return capValue(order.status, order.filledQty, order.avgFillPrice, order.intent);
}

/** The summary of one submit. */
export function outcomeOf(symbol: string, side: "buy" | "sell", r: SubmitOutcome): OrderOutcome {
  if (r.status === "submitted") {
    return {
      symbol,
      side,
      clientOrderId: r.clientOrderId,
      status: "submitted",
      orderStatus: r.order.status,
      filledQty: r.order.filledQty,
      avgFillPrice: r.order.avgFillPrice,
    };
  }
  if (r.status === "rejected") {
    return {
      symbol,
      side,
      clientOrderId: r.clientOrderId,
      status: "rejected",
      rule: r.rule,
      reason: r.reason,
    };
  }
  return { symbol, side, clientOrderId: r.clientOrderId, status: "queued", approvalId: r.approvalId };
}

/** What placing a plan achieved. */
export interface Placement {
  /** False when a retried fire found orders that disagree with the new plan; nothing new was placed. */
  placed: boolean;
  /** Why not. */
  reason: string | null;
  outcomes: OrderOutcome[];
  /** Submitted orders (for values and fills). */
  orders: (OrderRecord | null)[];
  /** Approval ids of the proposals, in order (approval mode). */
  approvalIds: string[];
  /** The group id (approval mode). */
  groupId: string | null;
  /** Value the earlier attempts' orders carry (when not placed). */
  priorValue: Decimal;
}

/**
 * Submits the planned orders (or proposes them as one group when `approval`), in order. A
 * retried or taken-over fire first checks what its earlier attempts placed, and places nothing
 * when the new plan disagrees with it (see fire-journal.ts).
 */
export async function place(
  ctx: JobContext,
  scheduler: Scheduler,
  runtime: RecipeRuntime,
  planned: readonly PlannedOrder[],
  intents: readonly OrderIntentInput[],
  options: { approval: boolean; slots: number; meta: GroupMeta },
): Promise<Placement> {
  const none: Placement = {
    placed: true,
    reason: null,
    outcomes: [],
    orders: [],
    approvalIds: [],
    groupId: null,
    priorValue: new Decimal(0),
  };
  if (ctx.fire.attempt > 1) {
    const slots = Math.max(options.slots, planned.length);
    const prior = options.approval
      ? await proposalsOfFire(scheduler, ctx.fire.idempotencyKey, slots)
      : await ordersOfFire(scheduler, ctx.broker, ctx.fire.idempotencyKey, slots);
    const verdict = replayVerdict(planned, prior);
    if (!verdict.ok) {
      const value = [...prior.values()].reduce((a, p) => a.plus(p.value), new Decimal(0));
      const outcomes = options.approval ? [] : await adoptPrior(ctx, prior as Map<number, PriorOrder>);
      return { ...none, placed: false, reason: verdict.reason, priorValue: value, outcomes };
    }
  }
  if (intents.length === 0) return none;
  if (options.approval) {
    const group = await runtime.proposeGroup(ctx, [...intents], options.meta);
    return {
      ...none,
      groupId: group.groupId,
      approvalIds: group.outcomes.map((o) => o.approvalId),
      outcomes: group.outcomes.map((o, i) => ({
        symbol: (planned[i] as PlannedOrder).symbol,
        side: (planned[i] as PlannedOrder).side,
        clientOrderId: o.clientOrderId,
        status: o.status,
        approvalId: o.approvalId,
        ...(o.rule ? { rule: o.rule } : {}),
        ...(o.reason ? { reason: o.reason } : {}),
      })),
    };
  }
  const outcomes: OrderOutcome[] = [];
  const orders: (OrderRecord | null)[] = [];
  for (const [i, intent] of intents.entries()) {
    const p = planned[i] as PlannedOrder;
    const r = await ctx.submit(intent);
    outcomes.push(outcomeOf(p.symbol, p.side, r));
    orders.push(r.status === "submitted" ? r.order : null);
  }
  return { ...none, outcomes, orders };
}

/**
 * Re-submits, in position order from 0, the earlier attempt's orders: the broker returns each as
 * it is (same client order id) and the desk records the ones whose record a lost answer kept
 * from being written. Stops at the first position the earlier attempt left empty, since
 * submitting there would place a new order.
 */
async function adoptPrior(ctx: JobContext, prior: ReadonlyMap<number, PriorOrder>): Promise<OrderOutcome[]> {
  const outcomes: OrderOutcome[] = [];
  for (let i = 0; prior.has(i); i++) {
    const p = prior.get(i) as PriorOrder;
    outcomes.push(outcomeOf(p.symbol, p.side, await ctx.submit(p.resubmit)));
  }
  return outcomes;
}

/** Sum of decimals as a canonical string. */
export function total(values: readonly Decimal.Value[]): string {
  return decimalString(values.reduce<Decimal>((a, v) => a.plus(v), new Decimal(0)));
}

/** The cadence fields of a recipe: when it checks, and the time of day. */
export interface CadencePlan {
  cadence: Cadence;
  time: z.output<typeof sessionTimeInput>;
  calendar: MarketCalendar;
  catchUp: "period" | "none";
}

/**
 * What a fire of a cadence recipe acts on: the due period (see `dueExecution`), or, for a manual
 * fire with nothing due, the next upcoming period, executed early.
 */
export function dueFor(ctx: JobContext, c: CadencePlan, lastPeriod: string | null): DueResult {
  const manual = ctx.fire.kind === "manual";
  const today = localDate(c.calendar.timezone, manual ? ctx.now() : ctx.fire.scheduledAt);
  const since = localDate(c.calendar.timezone, ctx.schedule.createdAt);
  const due = dueExecution(c.cadence, c.calendar, today, { lastPeriod, since, catchUp: c.catchUp });
  if (!due.due && manual) {
    return {
      ...due,
      due: nextExecution(c.cadence, c.calendar, today, { inclusive: true, afterPeriod: lastPeriod }),
    };
  }
  return due;
}

/** An execution with the instant it fires. */
export interface TimedExecution extends CadenceExecution {
  /** ISO instant of the fire, or null when the day has no session. */
  at: string | null;
}

/** The next `count` executions after `lastPeriod`, from `now` on (today's counts while its fire is ahead). */
export function upcomingExecutions(
  c: CadencePlan,
  now: number,
  lastPeriod: string | null,
  count: number,
): TimedExecution[] {
  const out: TimedExecution[] = [];
  let after = localDate(c.calendar.timezone, now);
  let period = lastPeriod;
  let inclusive = true;
  while (out.length < count) {
    const e = nextExecution(c.cadence, c.calendar, after, { inclusive, afterPeriod: period });
    if (!e) break;
    const at = fireInstantOn(c.time, c.calendar, e.date);
    if (!(inclusive && at !== null && at <= now))
      out.push({ ...e, at: at === null ? null : new Date(at).toISOString() });
    after = e.date;
    period = e.period;
    inclusive = false;
  }
  return out;
}

/** The options of a recipe that runs on a cadence of trading days. */
export const cadenceOptions = {
  time: sessionTimeInput,
  calendar: calendarInput,
  catchUp: z.enum(["period", "none"]).default("period"),
  paused: z.boolean().default(false),
};

/**
 * Declares the one schedule of a cadence recipe: fires once per session at `time`, the
 * recipe's policies, and a misfire grace of a few hours (a restart later the same day still acts
 * today; older fires are caught up by the cadence itself).
 */
export function declareCadenceSchedule(
  scheduler: Scheduler,
  o: CommonOptions & { time: z.output<typeof sessionTimeInput>; calendar: string; paused: boolean },
  schedule: {
    id: string;
    name: string;
    job: string;
    requiresApproval: boolean;
    tags: string[];
    data: JsonValue;
  },
) {
  return declareSchedule(
    scheduler,
    {
      ...schedule,
      name: o.name ?? schedule.name,
      tags: o.tags ?? schedule.tags,
      ...sessionTimeSchedule(o.time, o.calendar),
      ...schedulePolicies(o),
      misfire: { policy: "run_once", graceMs: "6h" },
    },
    { actor: o.actor, paused: o.paused },
  );
}
