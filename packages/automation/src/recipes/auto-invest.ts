/**
 * `autoInvest`: seed 001's auto-invest rule as one call. Symbols with weights and an amount (or
 * fixed quantities), a cadence on trading days, a total cap, optional approval. One schedule fires
 * once per session; the run invests when the cadence says a period is due (a missed due date
 * catches up on the next session of its period), and its state (amount invested, last period,
 * pending proposals) is committed with the run, so a crash or a retry can neither lose a purchase
 * from the cap nor count one twice.
 */

import {
  Decimal,
  decimalString,
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
import { localDate } from "../calendar/dates.js";
import type { SessionTimeInput } from "../calendar/session-trigger.js";
import { type AutoInvestRule, planAutoInvest } from "../plan/auto-invest-plan.js";
import { priceOf, readQuote } from "../prices/price-feed.js";
import { ordersOfFire, proposalsOfFire } from "../runtime/fire-journal.js";
import { type RecipeRuntime, runtimeFor } from "../runtime/runtime.js";
import { deferredRun, type RunSummary, skippedRun } from "../runtime/summary.js";
import {
  addIssue,
  checkUniverse,
  nonNegativeDecimal,
  parseConfig,
  positiveDecimal,
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
  orderValue,
  place,
  type TimedExecution,
  total,
  upcomingExecutions,
} from "./common.js";

const RECIPE = "autoInvest";

/** Options of {@link autoInvest}. */
export interface AutoInvestOptions extends CommonInput {
  /** The rule's id: the schedule is `auto-invest:<id>`. */
  id: string;
  /** One symbol (weight 1, or `quantity` shares). */
  symbol?: string;
  /** Several symbols: with weights summing to 1 (amount mode) or quantities. */
  legs?: { symbol: string; weight?: string | number; quantity?: string | number }[];
  /** The amount invested per execution, split by weight. */
  amount?: string | number;
  /** Shares bought per execution (with `symbol`). */
  quantity?: string | number;
  /** When: `"daily"`, `{ every: "week", weekday }`, `{ every: "month", day }` or `{ every: "month", tradingDay }`. */
  cadence: CadenceInput;
  /** Time of day: `{ event: "open" | "close", offsetMinutes }` or local 'HH:MM'. Default 30 minutes after the open. */
  time?: SessionTimeInput;
  /** Market calendar (default XNYS). */
  calendar?: string;
  /** Total the rule may ever invest; the last purchase is cut to fit, and it is never exceeded. */
  cap?: string | number;
  /** Buy by notional, fractional shares (default true); false buys whole shares at the current price. */
  fractional?: boolean;
  /** Smallest order placed (default 1). */
  minOrder?: string | number;
  /** A missed due date executes later in its period (`period`, default) or not at all (`none`). */
  catchUp?: "period" | "none";
  /** Purchases wait for a human approval (one group per execution). */
  requiresApproval?: boolean;
  /** Create the schedule paused. */
  paused?: boolean;
}

/** The rule's persisted state. */
export interface AutoInvestState {
  /** Counted against the cap: orders placed plus proposals not (yet) refused. */
  invested: string;
  /** Executions (periods bought). */
  executions: number;
  lastPeriod: string | null;
  /** The session of the last execution. */
  lastExecutedOn: string | null;
  /** The scheduled instant of the last committed run: failed fires after it are reconciled. */
  checkpoint: number | null;
  /** Proposals awaiting a decision, with the value they reserve under the cap. */
  pending: { approvalId: string; value: string }[];
  capReached: boolean;
}

/** The next execution, as {@link AutoInvestHandle.nextExecution} reports it. */
export type NextExecution = TimedExecution;

/** What {@link autoInvest} returns. */
export interface AutoInvestHandle {
  readonly id: string;
  readonly scheduleId: string;
  readonly job: string;
  /** The schedule as declared. */
  readonly schedule: ScheduleRecord;
  /** The next execution date after the last one executed (seed 001's next execution date). */
  nextExecution(): Promise<NextExecution | null>;
  /** The next `count` executions. */
  upcoming(count?: number): Promise<NextExecution[]>;
  /** The committed state, or null before the first run. */
  state(): Promise<AutoInvestState | null>;
  /** Invested, cap, what is left, executions, the next execution. */
  status(): Promise<{
    invested: string;
    cap: string | null;
    remaining: string | null;
    executions: number;
    lastExecutedOn: string | null;
    capReached: boolean;
    pendingApprovals: number;
    next: NextExecution | null;
  }>;
  /** Runs the rule now (a manual fire, audited with the actor): the next due or upcoming period is bought early. */
  executeNow(options?: { actor?: string }): Promise<ExecutionRecord>;
}

const legSchema = z.strictObject({
  symbol: symbolInput,
  weight: positiveDecimal.optional(),
  quantity: positiveDecimal.optional(),
});

const optionsSchema = z
  .strictObject({
    ...commonOptions,
    id: recipeIdInput,
    symbol: symbolInput.optional(),
    legs: z.array(legSchema).min(1).max(100).optional(),
    amount: positiveDecimal.optional(),
    quantity: positiveDecimal.optional(),
    cadence: z.unknown(),
    ...cadenceOptions,
    cap: positiveDecimal.optional(),
    fractional: z.boolean().default(true),
    minOrder: nonNegativeDecimal.default("1"),
    requiresApproval: z.boolean().default(false),
  })
  .superRefine((o, ctx) => {
    if ((o.symbol === undefined) === (o.legs === undefined)) {
      addIssue(ctx, [o.symbol === undefined ? "legs" : "symbol"], "give either `symbol` or `legs`");
      return;
    }
    if (o.amount !== undefined && o.quantity !== undefined) {
      addIssue(ctx, ["quantity"], "give an `amount` or a `quantity`, not both");
    }
    const legs = o.legs ?? [];
    const amountMode =
      o.amount !== undefined || (o.legs !== undefined && legs.every((l) => l.weight !== undefined));
    if (o.symbol !== undefined && o.amount === undefined && o.quantity === undefined) {
      addIssue(ctx, ["amount"], "give an `amount` per execution (or a `quantity` of shares)");
    }
    if (o.legs !== undefined) {
      const seen = new Set<string>();
      legs.forEach((l, i) => {
        if (seen.has(l.symbol)) addIssue(ctx, ["legs", i, "symbol"], `${l.symbol} is listed twice`);
        seen.add(l.symbol);
        if (o.amount !== undefined) {
          if (l.weight === undefined)
            addIssue(ctx, ["legs", i, "weight"], "every leg needs a weight when an amount is split");
          if (l.quantity !== undefined)
            addIssue(
              ctx,
              ["legs", i, "quantity"],
              "an amount is split by weight; quantities are for rules without an amount",
            );
        } else if (l.quantity === undefined) {
          addIssue(ctx, ["legs", i, "quantity"], "without an `amount`, every leg needs a quantity");
        }
      });
      if (o.amount === undefined && amountMode && legs.length > 0) {
        addIssue(ctx, ["amount"], "legs with weights need an `amount` to split");
      }
      if (o.amount !== undefined && legs.every((l) => l.weight !== undefined)) {
        const weights = legs.map((l) => l.weight as string);
        if (!sumsToOne(weights)) {
          const sum = weights.reduce((a, w) => a.plus(w), new Decimal(0));
          addIssue(ctx, ["legs"], `weights must sum to 1, they sum to ${decimalString(sum)}`);
        }
      }
    }
    if (o.cap !== undefined && o.amount !== undefined && new Decimal(o.cap).lt(o.amount)) {
      addIssue(ctx, ["cap"], `the cap ${o.cap} is below the amount ${o.amount} of one execution`);
    }
    if (o.amount !== undefined && new Decimal(o.amount).lt(o.minOrder)) {
      addIssue(ctx, ["amount"], `the amount ${o.amount} is below the minimum order ${o.minOrder}`);
    }
  });

function initialState(): AutoInvestState {
  return {
    invested: "0",
    executions: 0,
    lastPeriod: null,
    lastExecutedOn: null,
    checkpoint: null,
    pending: [],
    capReached: false,
  };
}

/** Final statuses of an approval whose order never reached the broker. */
const REFUSED = new Set(["rejected", "expired", "failed"]);

class AutoInvestRecipe {
  readonly scheduleId: string;
  readonly job: string;
  readonly cadence: Cadence;
  readonly rule: AutoInvestRule;
  private readonly runtime: RecipeRuntime;

  constructor(
    readonly scheduler: Scheduler,
    readonly o: z.output<typeof optionsSchema>,
  ) {
    this.scheduleId = `auto-invest:${o.id}`;
    this.job = `auto-invest:${o.id}`;
    this.cadence = parseCadence(o.cadence, RECIPE);
    this.runtime = runtimeFor(scheduler);
    const legs = o.legs ?? [
      {
        symbol: o.symbol as string,
        ...(o.amount !== undefined ? { weight: "1" } : { quantity: o.quantity }),
      },
    ];
    this.rule = {
      legs: legs.map((l) => ({
        symbol: l.symbol,
        ...(l.weight ? { weight: l.weight } : {}),
        ...(l.quantity ? { quantity: l.quantity } : {}),
      })),
      mode: o.amount !== undefined ? "amount" : "quantity",
      amount: o.amount ?? null,
      fractional: o.fractional,
      cap: o.cap ?? null,
      minOrder: o.minOrder,
      quantityDecimals: o.fractional ? 6 : 0,
    };
  }

  get calendar() {
    return getCalendar(this.o.calendar);
  }

  async state(): Promise<AutoInvestState | null> {
    return (await this.runtime.peekState(this.scheduleId)) as AutoInvestState | null;
  }

  get plan(): CadencePlan {
    return { cadence: this.cadence, time: this.o.time, calendar: this.calendar, catchUp: this.o.catchUp };
  }

  async upcoming(count: number): Promise<NextExecution[]> {
    const state = await this.state();
    return upcomingExecutions(this.plan, this.scheduler.clock.now(), state?.lastPeriod ?? null, count);
  }

  /** Releases refused proposals from the cap; forgets decided ones. */
  private async settlePending(state: AutoInvestState): Promise<void> {
    const keep: AutoInvestState["pending"] = [];
    let invested = new Decimal(state.invested);
    for (const p of state.pending) {
      let status: string;
      try {
        status = (await this.scheduler.getApproval(p.approvalId)).status;
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
        status = "failed";
      }
      if (REFUSED.has(status)) invested = invested.minus(p.value);
      else if (status === "pending" || status === "approved") keep.push(p);
    }
    state.pending = keep;
    state.invested = decimalString(Decimal.max(0, invested));
  }

  /**
   * Counts the orders of fires that failed for good since the last committed run: their state was
   * never committed, but what they placed is real money under the cap.
   */
  private async reconcileFailed(ctx: JobContext, state: AutoInvestState): Promise<string[]> {
    const from = (state.checkpoint ?? this.createdAt(ctx)) + 1;
    if (from >= ctx.fire.scheduledAt) return [];
    const failed = await this.scheduler.listExecutions({
      scheduleId: this.scheduleId,
      status: ["failed", "timed_out", "cancelled"],
      from,
      to: ctx.fire.scheduledAt,
      limit: 1000,
    });
    const found: string[] = [];
    let invested = new Decimal(state.invested);
    for (const e of failed.items) {
      if (e.id === ctx.fire.executionId) continue;
      if (this.o.requiresApproval) {
        // Its proposals were never recorded as pending: they reserve the cap from now on.
        const proposals = await proposalsOfFire(this.scheduler, e.idempotencyKey, this.rule.legs.length);
        for (const [, p] of proposals) {
          if (REFUSED.has(p.status)) continue;
          invested = invested.plus(p.value);
          if (p.status !== "submitted")
            state.pending.push({ approvalId: p.approvalId, value: decimalString(p.value) });
          found.push(`${e.idempotencyKey}: proposed ${p.side} ${p.symbol} ${decimalString(p.value)}`);
        }
      } else {
        const orders = await ordersOfFire(
          this.scheduler,
          ctx.broker,
          e.idempotencyKey,
          this.rule.legs.length,
        );
        for (const [, o] of orders) {
          invested = invested.plus(o.value);
          found.push(`${e.idempotencyKey}: ${o.side} ${o.symbol} ${decimalString(o.value)}`);
        }
      }
    }
    state.invested = decimalString(invested);
    return found;
  }

  private createdAt(ctx: JobContext): number {
    return ctx.schedule.createdAt;
  }

  async run(ctx: JobContext): Promise<unknown> {
    const cal = this.calendar;
    const committed = (await this.runtime.loadState(ctx)) as AutoInvestState | null;
    const state: AutoInvestState = { ...initialState(), ...(committed ?? {}) };
    await this.settlePending(state);
    const reconciled = await this.reconcileFailed(ctx, state);
    state.checkpoint = ctx.fire.scheduledAt;
    const today = localDate(cal.timezone, ctx.fire.kind === "manual" ? ctx.now() : ctx.fire.scheduledAt);
    const commit = (summary: RunSummary) => this.runtime.commit(ctx, state as unknown as JsonValue, summary);
    const extra: { [key: string]: JsonValue } = reconciled.length > 0 ? { reconciled } : {};

    const due = dueFor(ctx, this.plan, state.lastPeriod);
    const execution = due.due;
    if (!execution) {
      return commit(
        skippedRun(RECIPE, this.o.id, "not_due", {
          today,
          next: due.next?.date ?? null,
          missed: due.missed.map((m) => m.period),
          ...extra,
        }),
      );
    }
    const prices = new Map<string, Decimal | null>();
    const feed = feedOf(this.o, this.scheduler);
    for (const leg of this.rule.legs)
      prices.set(leg.symbol, priceOf(await readQuote(feed, leg.symbol), "last"));
    const plan = planAutoInvest(this.rule, state.invested, prices);
    const base = {
      period: execution.period,
      date: execution.date,
      nominal: execution.nominal,
      rolledBecause: execution.rolledBecause,
      missed: due.missed.map((m) => m.period),
      capRemaining: plan.capRemaining,
      ...extra,
    };
    if (plan.blocked) {
      state.lastPeriod = execution.period;
      state.capReached = true;
      return commit({
        ...skippedRun(RECIPE, this.o.id, "cap_reached", { ...base, invested: state.invested }),
        period: execution.period,
      });
    }
    const intents = plan.orders.map((o) =>
      intentOf(o, {
        strategy: `autoInvest:${this.o.id}`,
        rationale: `auto-invest ${this.o.id}, period ${execution.period}${plan.partial ? " (last purchase, cut to the cap)" : ""}`,
      }),
    );
    const placement = await place(ctx, this.scheduler, this.runtime, plan.orders, intents, {
      approval: this.o.requiresApproval,
      slots: this.rule.legs.length,
      meta: { rationale: `auto-invest ${this.o.id}: ${plan.total} in period ${execution.period}` },
    });
    state.lastPeriod = execution.period;
    state.lastExecutedOn = today;
    if (!placement.placed) {
      state.invested = decimalString(new Decimal(state.invested).plus(placement.priorValue));
      return commit(
        deferredRun(RECIPE, this.o.id, placement, {
          planned: plan.orders,
          skipped: plan.skipped,
          period: execution.period,
          details: base,
        }),
      );
    }
    let invested = new Decimal(state.invested);
    if (this.o.requiresApproval) {
      placement.outcomes.forEach((o, i) => {
        if (o.status !== "pending") return;
        const value = (plan.orders[i] as { value: string }).value;
        state.pending.push({ approvalId: o.approvalId as string, value });
        invested = invested.plus(value);
      });
    } else {
      for (const order of placement.orders) if (order) invested = invested.plus(orderValue(order));
    }
    state.invested = decimalString(invested);
    const placedAny = placement.outcomes.some((o) => o.status !== "rejected");
    if (placedAny) state.executions += 1;
    const remaining = this.rule.cap === null ? null : new Decimal(this.rule.cap).minus(invested);
    state.capReached = remaining?.lt(this.rule.minOrder) ?? false;
    const outcome = !placedAny ? "skipped" : this.o.requiresApproval ? "proposed" : "executed";
    return commit({
      recipe: RECIPE,
      id: this.o.id,
      outcome,
      reason: !placedAny
        ? plan.orders.length === 0
          ? "below_minimum"
          : "rejected"
        : plan.partial
          ? "cap_partial"
          : null,
      period: execution.period,
      planned: plan.orders,
      skipped: plan.skipped,
      orders: placement.outcomes,
      details: {
        ...base,
        invested: state.invested,
        spent: total(
          placement.orders.filter((o) => o !== null).map((o) => orderValue(o as NonNullable<typeof o>)),
        ),
        ...(placement.groupId ? { groupId: placement.groupId } : {}),
        capRemaining: remaining === null ? null : decimalString(remaining),
      },
    });
  }
}

/**
 * Declares an auto-invest rule on `scheduler`: registers its job and creates (or updates) its
 * schedule, `auto-invest:<id>`. Call it on every start, before `scheduler.start()`; the schedule
 * and its state persist in the scheduler's storage. Throws a {@link RecipeConfigError} naming the
 * field for a bad rule.
 */
export async function autoInvest(
  scheduler: Scheduler,
  options: AutoInvestOptions,
): Promise<AutoInvestHandle> {
  const o = parseConfig(optionsSchema, options, RECIPE);
  const recipe = new AutoInvestRecipe(scheduler, o);
  await checkUniverse(
    RECIPE,
    o.universe,
    recipe.rule.legs.map((l, i) => ({ field: o.legs ? `legs.${i}.symbol` : "symbol", symbol: l.symbol })),
  );
  scheduler.register(recipe.job, (ctx) => recipe.run(ctx), { description: `auto-invest rule ${o.id}` });
  const { schedule } = await declareCadenceSchedule(scheduler, o, {
    id: recipe.scheduleId,
    name: `Auto-invest ${o.id}`,
    job: recipe.job,
    requiresApproval: o.requiresApproval,
    tags: ["automation", "auto-invest"],
    data: {
      recipe: RECIPE,
      id: o.id,
      legs: recipe.rule.legs as unknown as JsonValue,
      amount: o.amount ?? null,
      cap: o.cap ?? null,
      cadence: o.cadence as JsonValue,
    },
  });
  return {
    id: o.id,
    scheduleId: recipe.scheduleId,
    job: recipe.job,
    schedule,
    nextExecution: async () => (await recipe.upcoming(1))[0] ?? null,
    upcoming: (count = 5) => recipe.upcoming(count),
    state: () => recipe.state(),
    status: async () => {
      const s = (await recipe.state()) ?? initialState();
      const next = (await recipe.upcoming(1))[0] ?? null;
      const cap = recipe.rule.cap;
      return {
        invested: s.invested,
        cap,
        remaining: cap === null ? null : decimalString(Decimal.max(0, new Decimal(cap).minus(s.invested))),
        executions: s.executions,
        lastExecutedOn: s.lastExecutedOn,
        capReached: s.capReached,
        pendingApprovals: s.pending.length,
        next: s.capReached ? null : next,
      };
    },
    executeNow: (opts = {}) => scheduler.trigger(recipe.scheduleId, { actor: opts.actor ?? "system" }),
  };
}
