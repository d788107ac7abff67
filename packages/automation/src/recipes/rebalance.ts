/**
 * `rebalance`: seed 001's rebalancing rule as one call. Target weights, drift bands (the 5/25 rule
 * is the default), a check cadence on trading days, a cooldown after a rebalance, a minimum
 * trade, a cash buffer, cash flows first, sells before buys; every check records its plan (the
 * drift of each holding, the orders, the orders left out and why) as the run's result. With
 * `requireConfirmation` the plan is proposed as one group and placed when a person approves it.
 */

import {
  Decimal,
  type DecisionResult,
  type ExecutionRecord,
  getCalendar,
  type JobContext,
  type JsonValue,
  NotFoundError,
  type ScheduleRecord,
  type Scheduler,
} from "@tradecron/core";
import { z } from "zod";
import { type Cadence, type CadenceInput, parseCadence } from "../calendar/cadence.js";
import { addDays, localDate } from "../calendar/dates.js";
import type { SessionTimeInput } from "../calendar/session-trigger.js";
import { PlanNotFoundError } from "../errors.js";
import { planRebalance, type RebalancePlan, type RebalanceRule } from "../plan/rebalance-plan.js";
import { readPortfolio } from "../prices/portfolio.js";
import { type RecipeRuntime, runtimeFor } from "../runtime/runtime.js";
import { deferredRun, type RunSummary, skippedRun } from "../runtime/summary.js";
import {
  addIssue,
  checkUniverse,
  durationInput,
  fraction,
  nonNegativeDecimal,
  parseConfig,
  recipeIdInput,
  sumsToOne,
  symbolInput,
} from "../validation.js";
import {
  type CadencePlan,
  type CommonInput,
  cadenceOptions,
  commonOptions,
  declareCadenceSchedule,
  dueFor,
  feedOf,
  intentOf,
  place,
  type TimedExecution,
  upcomingExecutions,
} from "./common.js";

const RECIPE = "rebalance";

/** The 5/25 rule: out of band at 5 percentage points or 25 % of the target, whichever is smaller. */
export const BANDS_5_25 = Object.freeze({ absolute: 0.05, relative: 0.25 });

/** Options of {@link rebalance}. */
export interface RebalanceOptions extends CommonInput {
  /** The rule's id: the schedule is `rebalance:<id>`. */
  id: string;
  /** Target weights summing to 1, as `{ VTI: 0.6, BND: 0.4 }` or a list. */
  targets: Record<string, string | number> | { symbol: string; weight: string | number }[];
  /** Per-holding drift bands (fractions); default the 5/25 rule. `null` for none (use `portfolioDrift`). */
  bands?: { absolute?: string | number; relative?: string | number } | null;
  /** Portfolio drift (half the sum of absolute deviations) that triggers a rebalance. */
  portfolioDrift?: string | number;
  /** `drift` (default): only when out of band; `always`: every check (calendar rebalancing). */
  when?: "drift" | "always";
  /** When to check (default every session). */
  cadence?: CadenceInput;
  time?: SessionTimeInput;
  calendar?: string;
  /**
   * No rebalancing trades this long after a rebalance (ms or '31d'; whole days are calendar days;
   * default none). Cash flows still go in during it.
   */
  cooldown?: string | number;
  /** Orders worth less are skipped (default 1). */
  minTrade?: string | number;
  /** Cash kept back: a fraction of the portfolio and/or an amount (the larger applies). */
  cashBuffer?: { fraction?: string | number; amount?: string | number };
  /** Use cash flows before selling (default `first`). */
  cashFlows?: "first" | "ignore";
  /** Trade fractional shares (6 decimals) instead of whole ones (default false). */
  fractional?: boolean;
  /** Propose each plan as one group and place it when approved. */
  requireConfirmation?: boolean;
  catchUp?: "period" | "none";
  paused?: boolean;
}

/** The rule's persisted state. */
export interface RebalanceState {
  checks: number;
  rebalances: number;
  lastPeriod: string | null;
  /** When the last rebalance was placed (or its plan approved): the cooldown counts from here. */
  lastRebalanceAt: number | null;
  /** Cash-flow investments (no rebalancing sells): they do not start the cooldown. */
  cashFlows: number;
  /** A proposed plan awaiting its decision; `rebalancing` is false for a cash-flow plan. */
  pendingPlan: { groupId: string; approvalIds: string[]; proposedAt: number; rebalancing?: boolean } | null;
  /** The reason of the last check (`drift`, `within_bands`, `cooldown`, ...). */
  lastReason: string | null;
}

/** What {@link rebalance} returns. */
export interface RebalanceHandle {
  readonly id: string;
  readonly scheduleId: string;
  readonly job: string;
  readonly schedule: ScheduleRecord;
  /** The plan a check would make now, from the broker's current positions (nothing is placed). */
  preview(): Promise<RebalancePlan>;
  /** The committed state, or null before the first check. */
  state(): Promise<RebalanceState | null>;
  status(): Promise<{
    checks: number;
    rebalances: number;
    cashFlows: number;
    lastRebalanceAt: string | null;
    cooldownUntil: string | null;
    pendingPlan: string | null;
    lastReason: string | null;
    next: TimedExecution | null;
  }>;
  /** The next checks. */
  upcoming(count?: number): Promise<TimedExecution[]>;
  /** Checks now (a manual fire, audited): bands and cooldown apply. */
  checkNow(options?: { actor?: string }): Promise<ExecutionRecord>;
  /** Approves the pending plan (or the plan `groupId`) as one unit, sells first. */
  approvePlan(options: { actor: string; reason?: string; groupId?: string }): Promise<DecisionResult[]>;
  /** Rejects the pending plan as one unit. */
  rejectPlan(options: { actor: string; reason?: string; groupId?: string }): Promise<DecisionResult[]>;
}

const targetsSchema = z
  .union([
    z
      .record(z.string(), z.unknown())
      .transform((r) => Object.entries(r).map(([symbol, weight]) => ({ symbol, weight }))),
    z.array(z.unknown()),
  ])
  .pipe(
    z
      .array(z.strictObject({ symbol: symbolInput, weight: fraction }))
      .min(1)
      .max(200),
  );

const optionsSchema = z
  .strictObject({
    ...commonOptions,
    id: recipeIdInput,
    targets: targetsSchema,
    bands: z
      .strictObject({ absolute: fraction.optional(), relative: fraction.optional() })
      .nullable()
      .default({ absolute: "0.05", relative: "0.25" }),
    portfolioDrift: fraction.optional(),
    when: z.enum(["drift", "always"]).default("drift"),
    cadence: z.unknown().default("daily"),
    ...cadenceOptions,
    cooldown: durationInput.default(0),
    minTrade: nonNegativeDecimal.default("1"),
    cashBuffer: z
      .strictObject({ fraction: fraction.default("0"), amount: nonNegativeDecimal.default("0") })
      .default({ fraction: "0", amount: "0" }),
    cashFlows: z.enum(["first", "ignore"]).default("first"),
    fractional: z.boolean().default(false),
    requireConfirmation: z.boolean().default(false),
  })
  .superRefine((o, ctx) => {
    const seen = new Set<string>();
    o.targets.forEach((t, i) => {
      if (seen.has(t.symbol)) addIssue(ctx, ["targets", i, "symbol"], `${t.symbol} is listed twice`);
      seen.add(t.symbol);
    });
    if (!sumsToOne(o.targets.map((t) => t.weight))) {
      const sum = o.targets.reduce((a, t) => a.plus(t.weight), new Decimal(0));
      addIssue(ctx, ["targets"], `target weights must sum to 1, they sum to ${sum.toString()}`);
    }
    const bands = o.bands;
    if (
      o.when === "drift" &&
      (bands === null || (bands.absolute === undefined && bands.relative === undefined)) &&
      o.portfolioDrift === undefined
    ) {
      addIssue(ctx, ["bands"], "a drift rule needs bands or a portfolioDrift threshold");
    }
    if (bands?.absolute !== undefined && new Decimal(bands.absolute).isZero()) {
      addIssue(ctx, ["bands", "absolute"], "a band of 0 rebalances on any move; give a band above 0");
    }
    if (bands?.relative !== undefined && new Decimal(bands.relative).isZero()) {
      addIssue(ctx, ["bands", "relative"], "a band of 0 rebalances on any move; give a band above 0");
    }
    if (o.portfolioDrift !== undefined && new Decimal(o.portfolioDrift).isZero()) {
      addIssue(ctx, ["portfolioDrift"], "must be above 0");
    }
    if (new Decimal(o.cashBuffer.fraction).gte(1))
      addIssue(ctx, ["cashBuffer", "fraction"], "must be below 1");
  });

function initialState(): RebalanceState {
  return {
    checks: 0,
    rebalances: 0,
    cashFlows: 0,
    lastPeriod: null,
    lastRebalanceAt: null,
    pendingPlan: null,
    lastReason: null,
  };
}

const DAY_MS = 86_400_000;
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

class RebalanceRecipe {
  readonly scheduleId: string;
  readonly job: string;
  readonly cadence: Cadence;
  readonly rule: RebalanceRule;
  private readonly runtime: RecipeRuntime;

  constructor(
    readonly scheduler: Scheduler,
    readonly o: z.output<typeof optionsSchema>,
  ) {
    this.scheduleId = `rebalance:${o.id}`;
    this.job = `rebalance:${o.id}`;
    this.cadence = parseCadence(o.cadence, RECIPE);
    this.runtime = runtimeFor(scheduler);
    this.rule = {
      targets: o.targets,
      bands: { absolute: o.bands?.absolute ?? null, relative: o.bands?.relative ?? null },
      portfolioDrift: o.portfolioDrift ?? null,
      when: o.when,
      minTrade: o.minTrade,
      cashBuffer: o.cashBuffer,
      cashFlows: o.cashFlows,
      quantityDecimals: o.fractional ? 6 : 0,
    };
  }

  get plan(): CadencePlan {
    return {
      cadence: this.cadence,
      time: this.o.time,
      calendar: getCalendar(this.o.calendar),
      catchUp: this.o.catchUp,
    };
  }

  async state(): Promise<RebalanceState | null> {
    return (await this.runtime.peekState(this.scheduleId)) as RebalanceState | null;
  }

  async preview(): Promise<RebalancePlan> {
    const broker = this.scheduler.broker;
    if (!broker) throw new NotFoundError("BROKER_NOT_CONFIGURED", "rebalance: the scheduler has no broker");
    const portfolio = await readPortfolio(
      broker,
      feedOf(this.o, this.scheduler),
      this.o.targets.map((t) => t.symbol),
    );
    return planRebalance(this.rule, portfolio);
  }

  /** Settles a pending plan: approved (placed) starts the cooldown; refused clears it. */
  private async settlePending(state: RebalanceState): Promise<"pending" | "settled" | null> {
    const plan = state.pendingPlan;
    if (!plan) return null;
    const statuses: { status: string; decidedAt: number | null }[] = [];
    for (const id of plan.approvalIds) {
      try {
        const a = await this.scheduler.getApproval(id);
        statuses.push({ status: a.status, decidedAt: a.decidedAt });
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
    if (statuses.some((s) => s.status === "pending")) return "pending";
    const placed = statuses.filter((s) => s.status === "submitted" || s.status === "approved");
    if (placed.length > 0 && plan.rebalancing === false) {
      state.cashFlows += 1;
    } else if (placed.length > 0) {
      state.rebalances += 1;
      state.lastRebalanceAt = Math.max(...placed.map((s) => s.decidedAt ?? plan.proposedAt));
    }
    state.pendingPlan = null;
    return "settled";
  }

  async run(ctx: JobContext): Promise<unknown> {
    const committed = (await this.runtime.loadState(ctx)) as RebalanceState | null;
    const state: RebalanceState = { ...initialState(), ...(committed ?? {}) };
    const id = this.o.id;
    const pending = await this.settlePending(state);
    const due = dueFor(ctx, this.plan, state.lastPeriod);
    const commit = (summary: RunSummary) => {
      if (summary.reason !== "not_due") {
        state.lastReason = summary.reason ?? String(summary.details?.trigger ?? summary.outcome);
      }
      const e = due.due;
      const when: { [key: string]: JsonValue } = e
        ? { nominal: e.nominal, date: e.date, rolledBecause: e.rolledBecause }
        : {};
      return this.runtime.commit(ctx, state as unknown as JsonValue, {
        ...summary,
        details: { ...when, ...(summary.details ?? {}) },
      });
    };
    if (!due.due) return commit(skippedRun(RECIPE, id, "not_due", { next: due.next?.date ?? null }));
    state.lastPeriod = due.due.period;
    state.checks += 1;
    const period = due.due.period;
    if (pending === "pending") {
      return commit({
        ...skippedRun(RECIPE, id, "plan_pending", { groupId: state.pendingPlan?.groupId ?? null }),
        period,
      });
    }
    const now = ctx.now();
    const until = this.cooldownUntil(state.lastRebalanceAt);
    const cooling =
      until !== null &&
      (typeof until === "number" ? now < until : localDate(this.plan.calendar.timezone, now) < until);
    const broker = ctx.broker;
    if (!broker) return commit({ ...skippedRun(RECIPE, id, "no_broker"), period });
    const symbols = this.o.targets.map((t) => t.symbol);
    const portfolio = await readPortfolio(broker, feedOf(this.o, this.scheduler), symbols);
    const working = portfolio.openOrders.filter((o) => symbols.includes(o.symbol));
    if (working.length > 0) {
      // A plan over positions that open orders are still changing could double them.
      return commit({
        ...skippedRun(RECIPE, id, "orders_open", {
          orders: working.map((o) => `${o.side} ${o.symbol} ${o.status}`),
        }),
        period,
      });
    }
    const plan = planRebalance(this.rule, portfolio);
    const details: { [key: string]: JsonValue } = {
      trigger: plan.reason,
      total: plan.total,
      cash: plan.cash,
      buffer: plan.buffer,
      investable: plan.investable,
      portfolioDrift: plan.portfolioDrift,
      drift: plan.drift as unknown as JsonValue,
      ...(plan.missingPrices.length > 0 ? { missingPrices: plan.missingPrices } : {}),
    };
    // The cooldown holds back rebalancing trades; cash flows (buys of new cash, sells to refill the
    // buffer) are not churn and still go through.
    if (cooling && plan.due && plan.reason !== "cash_flow") {
      return commit({
        ...skippedRun(RECIPE, id, "cooldown", {
          ...details,
          until: typeof until === "number" ? iso(until) : (until as string),
        }),
        period,
      });
    }
    const rebalancing = plan.reason !== "cash_flow";
    if (!plan.due || plan.orders.length === 0) {
      return commit({
        recipe: RECIPE,
        id,
        outcome: "skipped",
        reason: plan.due ? "below_minimum" : plan.reason,
        period,
        planned: [],
        skipped: plan.skipped,
        orders: [],
        details,
      });
    }
    const intents = plan.orders.map((o) =>
      intentOf(o, {
        strategy: `rebalance:${id}`,
        rationale: `rebalance ${id} (${plan.reason}): ${o.side} ${o.qty} ${o.symbol}`,
      }),
    );
    const placement = await place(ctx, this.scheduler, this.runtime, plan.orders, intents, {
      approval: this.o.requireConfirmation,
      slots: this.o.targets.length,
      meta: {
        rationale: `rebalance ${id}: ${plan.reason}, portfolio drift ${plan.portfolioDrift}`,
        supportingData: { drift: plan.drift as unknown as JsonValue, total: plan.total },
      },
    });
    if (!placement.placed) {
      return commit(
        deferredRun(RECIPE, id, placement, { planned: plan.orders, skipped: plan.skipped, period, details }),
      );
    }
    if (this.o.requireConfirmation) {
      const live = placement.outcomes.filter((o) => o.status === "pending");
      if (live.length > 0 && placement.groupId) {
        state.pendingPlan = {
          groupId: placement.groupId,
          approvalIds: placement.approvalIds,
          proposedAt: now,
          rebalancing,
        };
      }
      return commit({
        recipe: RECIPE,
        id,
        outcome: live.length > 0 ? "proposed" : "skipped",
        reason: live.length > 0 ? null : "rejected",
        period,
        planned: plan.orders,
        skipped: plan.skipped,
        orders: placement.outcomes,
        details: { ...details, ...(placement.groupId ? { groupId: placement.groupId } : {}) },
      });
    }
    const placedAny = placement.outcomes.some((o) => o.status === "submitted");
    if (placedAny && rebalancing) {
      state.rebalances += 1;
      state.lastRebalanceAt = now;
    } else if (placedAny) {
      state.cashFlows += 1;
    }
    return commit({
      recipe: RECIPE,
      id,
      outcome: placedAny ? "executed" : "skipped",
      reason: placedAny ? null : "rejected",
      period,
      planned: plan.orders,
      skipped: plan.skipped,
      orders: placement.outcomes,
      details,
    });
  }

  /**
   * When the cooldown after a rebalance at `last` ends: a local date when the cooldown is whole
   * days (31 days is calendar days, as Alpaca counts them, whatever the clock change does to the
   * hours), else an instant; null when there is none.
   */
  cooldownUntil(last: number | null): string | number | null {
    if (last === null || this.o.cooldown === 0) return null;
    if (this.o.cooldown % DAY_MS === 0) {
      return addDays(localDate(this.plan.calendar.timezone, last), this.o.cooldown / DAY_MS);
    }
    return last + this.o.cooldown;
  }

  async decide(
    decision: "approve" | "reject",
    options: { actor: string; reason?: string; groupId?: string },
  ) {
    const groupId = options.groupId ?? (await this.state())?.pendingPlan?.groupId;
    if (!groupId) throw new PlanNotFoundError("(none pending)");
    return this.runtime.decideGroup(this.scheduleId, groupId, decision, options);
  }
}

/**
 * Declares a rebalancing rule on `scheduler`: registers its job and creates (or updates) its
 * schedule `rebalance:<id>`. Call it on every start. Throws a {@link RecipeConfigError} naming the
 * field for a bad rule (weights not summing to 1, a band out of range, ...).
 */
export async function rebalance(scheduler: Scheduler, options: RebalanceOptions): Promise<RebalanceHandle> {
  const o = parseConfig(optionsSchema, options, RECIPE);
  const recipe = new RebalanceRecipe(scheduler, o);
  await checkUniverse(
    RECIPE,
    o.universe,
    o.targets.map((t, i) => ({ field: `targets.${i}.symbol`, symbol: t.symbol })),
  );
  scheduler.register(recipe.job, (ctx) => recipe.run(ctx), { description: `rebalancing rule ${o.id}` });
  const { schedule } = await declareCadenceSchedule(scheduler, o, {
    id: recipe.scheduleId,
    name: `Rebalance ${o.id}`,
    job: recipe.job,
    requiresApproval: o.requireConfirmation,
    tags: ["automation", "rebalance"],
    data: {
      recipe: RECIPE,
      id: o.id,
      targets: o.targets as unknown as JsonValue,
      bands: (o.bands ?? null) as JsonValue,
      cadence: o.cadence as JsonValue,
    },
  });
  return {
    id: o.id,
    scheduleId: recipe.scheduleId,
    job: recipe.job,
    schedule,
    preview: () => recipe.preview(),
    state: () => recipe.state(),
    upcoming: async (count = 5) =>
      upcomingExecutions(
        recipe.plan,
        scheduler.clock.now(),
        (await recipe.state())?.lastPeriod ?? null,
        count,
      ),
    status: async () => {
      const s = (await recipe.state()) ?? initialState();
      const next = upcomingExecutions(recipe.plan, scheduler.clock.now(), s.lastPeriod, 1)[0] ?? null;
      return {
        checks: s.checks,
        rebalances: s.rebalances,
        cashFlows: s.cashFlows ?? 0,
        lastRebalanceAt: iso(s.lastRebalanceAt),
        cooldownUntil: ((u) => (typeof u === "number" ? iso(u) : u))(recipe.cooldownUntil(s.lastRebalanceAt)),
        pendingPlan: s.pendingPlan?.groupId ?? null,
        lastReason: s.lastReason,
        next,
      };
    },
    checkNow: (opts = {}) => scheduler.trigger(recipe.scheduleId, { actor: opts.actor ?? "system" }),
    approvePlan: (opts) => recipe.decide("approve", opts),
    rejectPlan: (opts) => recipe.decide("reject", opts),
  };
}
