/**
 * `priceTrigger`: seed 001's trigger order as one call. A price (last, bid, ask or mid, from the
 * broker or a supplied feed) is checked on a cadence (inside regular hours by default); when the
 * condition holds (crosses above/below, or is above/below, confirmed on N consecutive checks) it
 * submits an ordinary order intent, risk-checked and idempotent like any other. Once, or every
 * time with a cooldown; an expiry ends it. The value seen when armed, the confirmation streak and
 * the fires live in the schedule's state, so a restart neither forgets a pending cross nor fires
 * twice. A trigger that is done (fired once, or expired) disables its schedule.
 */

import {
  Decimal,
  decimalString,
  type ExecutionRecord,
  type JobContext,
  type JsonValue,
  type OrderIntentInput,
  orderIntentSchema,
  type ScheduleRecord,
  type Scheduler,
} from "@tradecron/core";
import { z } from "zod";
import { sessionIntervalSchedule } from "../calendar/session-trigger.js";
import { RecipeConfigError } from "../errors.js";
import {
  evaluateTrigger,
  initialTriggerState,
  type PriceCondition,
  type PriceRule,
  type PriceTriggerState,
} from "../plan/price-condition.js";
import { type PriceField, priceOf, readQuote } from "../prices/price-feed.js";
import { declareSchedule } from "../runtime/declare.js";
import { type RecipeRuntime, runtimeFor } from "../runtime/runtime.js";
import { deferredRun, type PlannedOrder, type RunSummary } from "../runtime/summary.js";
import {
  addIssue,
  calendarInput,
  checkUniverse,
  durationInput,
  instantInput,
  parseConfig,
  positiveDecimal,
  positiveDuration,
  recipeIdInput,
  symbolInput,
} from "../validation.js";
import { type CommonInput, commonOptions, feedOf, place, schedulePolicies } from "./common.js";

const RECIPE = "priceTrigger";

/** The order a trigger submits: an order intent without its symbol (the trigger's). */
export type TriggerOrder = Omit<OrderIntentInput, "symbol">;

/** Options of {@link priceTrigger}. */
export interface PriceTriggerOptions extends CommonInput {
  /** The trigger's id: the schedule is `price-trigger:<id>`. */
  id: string;
  symbol: string;
  /** Which price: `last` (default), `bid`, `ask` or `mid`. */
  source?: PriceField;
  /** `{ crossesAbove: 150 }`, `{ crossesBelow }`, `{ above }` or `{ below }`. */
  condition:
    | { crossesAbove: string | number }
    | { crossesBelow: string | number }
    | { above: string | number }
    | { below: string | number };
  /** Consecutive checks the condition must hold (default 1: on the tick). */
  confirmations?: number;
  /** `once` (default) or `everyTime`. */
  fire?: "once" | "everyTime";
  /** Between fires of an `everyTime` trigger (ms or '1h'). */
  cooldown?: string | number;
  /** No fire at or after this instant; the trigger then ends. */
  expiresAt?: Date | number | string;
  /** How often the price is checked (default '1m'). */
  checkEvery?: string | number;
  /** Check only inside regular trading hours (default true). */
  regularHoursOnly?: boolean;
  calendar?: string;
  /** What to submit when it fires. */
  order: TriggerOrder;
  /** The order waits for a human approval. */
  requiresApproval?: boolean;
  paused?: boolean;
}

/** What {@link priceTrigger} returns. */
export interface PriceTriggerHandle {
  readonly id: string;
  readonly scheduleId: string;
  readonly job: string;
  readonly schedule: ScheduleRecord;
  /** The committed state (null before the first check). */
  state(): Promise<PriceTriggerState | null>;
  status(): Promise<{
    armed: boolean;
    armedPrice: string | null;
    last: string | null;
    fired: number;
    lastFiredAt: string | null;
    done: boolean;
    expiresAt: string | null;
  }>;
  /** Checks now (a manual fire, audited). */
  checkNow(options?: { actor?: string }): Promise<ExecutionRecord>;
}

const conditionSchema = z.union(
  [
    z.strictObject({ crossesAbove: positiveDecimal }),
    z.strictObject({ crossesBelow: positiveDecimal }),
    z.strictObject({ above: positiveDecimal }),
    z.strictObject({ below: positiveDecimal }),
  ],
  { error: "expected one of { crossesAbove }, { crossesBelow }, { above }, { below } with a price level" },
);

const optionsSchema = z
  .strictObject({
    ...commonOptions,
    id: recipeIdInput,
    symbol: symbolInput,
    source: z.enum(["last", "bid", "ask", "mid"]).default("last"),
    condition: conditionSchema,
    confirmations: z.number().int().min(1).max(1000).default(1),
    fire: z.enum(["once", "everyTime"]).default("once"),
    cooldown: durationInput.default(0),
    expiresAt: instantInput.optional(),
    checkEvery: positiveDuration.default(60_000),
    regularHoursOnly: z.boolean().default(true),
    calendar: calendarInput,
    order: z.record(z.string(), z.unknown()),
    requiresApproval: z.boolean().default(false),
    paused: z.boolean().default(false),
  })
  .superRefine((o, ctx) => {
    if (o.fire === "once" && o.cooldown > 0)
      addIssue(ctx, ["cooldown"], "a cooldown applies to fire: 'everyTime'");
    if (o.checkEvery < 1000) addIssue(ctx, ["checkEvery"], "check at most once a second");
    if ("symbol" in o.order)
      addIssue(ctx, ["order", "symbol"], "the order trades the trigger's symbol; leave it out");
  });

/** Validates the trigger's order as an order intent; errors name `order.<field>`. */
function parseOrder(order: Record<string, unknown>, symbol: string) {
  const r = orderIntentSchema.safeParse({ ...order, symbol });
  if (r.success) return r.data;
  throw new RecipeConfigError(
    RECIPE,
    r.error.issues.map((i) => ({
      field: ["order", ...i.path.map(String)].join("."),
      message: i.message,
      code: "VALIDATION",
    })),
    { cause: r.error },
  );
}

class PriceTriggerRecipe {
  readonly scheduleId: string;
  readonly job: string;
  readonly rule: PriceRule;
  private readonly runtime: RecipeRuntime;

  constructor(
    readonly scheduler: Scheduler,
    readonly o: z.output<typeof optionsSchema>,
    readonly order: ReturnType<typeof parseOrder>,
  ) {
    this.scheduleId = `price-trigger:${o.id}`;
    this.job = `price-trigger:${o.id}`;
    this.runtime = runtimeFor(scheduler);
    this.rule = {
      condition: o.condition as PriceCondition,
      confirmations: o.confirmations,
      fire: o.fire,
      cooldownMs: o.cooldown,
      expiresAt: o.expiresAt ?? null,
    };
  }

  async state(): Promise<PriceTriggerState | null> {
    return (await this.runtime.peekState(this.scheduleId)) as PriceTriggerState | null;
  }

  /** Disables the schedule of a trigger that will never fire again (best effort: the next fire retries). */
  async retire(): Promise<void> {
    try {
      const schedule = await this.scheduler.getSchedule(this.scheduleId);
      if (schedule.enabled)
        await this.scheduler.updateSchedule(this.scheduleId, { enabled: false }, { actor: "price-trigger" });
    } catch {
      // A concurrent update or a storage hiccup: the next fire sees `done` and tries again.
    }
  }

  async run(ctx: JobContext): Promise<unknown> {
    const committed = (await this.runtime.loadState(ctx)) as PriceTriggerState | null;
    const state: PriceTriggerState = { ...initialTriggerState(), ...(committed ?? {}) };
    const id = this.o.id;
    const symbol = this.o.symbol;
    const commit = (next: PriceTriggerState, summary: RunSummary) =>
      this.runtime.commit(ctx, next as unknown as JsonValue, summary);
    if (state.done) {
      await this.retire();
      return commit(state, {
        recipe: RECIPE,
        id,
        outcome: "skipped",
        reason: "done",
        planned: [],
        skipped: [],
        orders: [],
      });
    }
    const quote = await readQuote(feedOf(this.o, this.scheduler), symbol);
    const price = priceOf(quote, this.o.source);
    const { decision, state: next } = evaluateTrigger(this.rule, state, price, ctx.now());
    const details: { [key: string]: JsonValue } = {
      symbol,
      source: this.o.source,
      price: price === null ? null : price.toString(),
      condition: this.o.condition as unknown as JsonValue,
      streak: next.streak,
      fired: next.fired,
      armedPrice: next.armedPrice,
      done: next.done,
    };
    if (decision.action === "wait") {
      return commit(next, {
        recipe: RECIPE,
        id,
        outcome: "skipped",
        reason: decision.reason,
        planned: [],
        skipped: [],
        orders: [],
        details,
      });
    }
    const intent: OrderIntentInput = {
      ...(this.o.order as TriggerOrder),
      symbol,
      ...(this.order.type === "market" || this.order.type === "trailing_stop"
        ? { referencePrice: decision.price }
        : {}),
      strategy: this.order.strategy ?? `priceTrigger:${id}`,
      rationale:
        this.order.rationale ??
        `price trigger ${id}: ${symbol} ${this.o.source} ${decision.price} meets ${JSON.stringify(this.o.condition)}`,
    };
    const planned: PlannedOrder = {
      symbol,
      side: this.order.side,
      ...(this.order.qty !== undefined
        ? { qty: this.order.qty }
        : { notional: this.order.notional as string }),
      value: this.order.notional ?? decimalString(new Decimal(this.order.qty ?? 0).times(decision.price)),
      price: decision.price,
      why: "trigger",
    };
    const placement = await place(ctx, this.scheduler, this.runtime, [planned], [intent], {
      approval: this.o.requiresApproval,
      slots: 1,
      meta: { rationale: intent.rationale as string },
    });
    if (!placement.placed) {
      return commit(next, deferredRun(RECIPE, id, placement, { planned: [planned], skipped: [], details }));
    }
    const ok = placement.outcomes.some((o) => o.status !== "rejected");
    return commit(next, {
      recipe: RECIPE,
      id,
      outcome: !ok ? "skipped" : this.o.requiresApproval ? "proposed" : "executed",
      reason: ok ? null : "rejected",
      planned: [planned],
      skipped: [],
      orders: placement.outcomes,
      details,
    });
  }
}

/**
 * Declares a price trigger on `scheduler`: registers its job and creates (or updates) its
 * schedule `price-trigger:<id>`. Throws a {@link RecipeConfigError} naming the field for a bad
 * rule (an unknown condition, an order that is not a valid intent, ...).
 */
export async function priceTrigger(
  scheduler: Scheduler,
  options: PriceTriggerOptions,
): Promise<PriceTriggerHandle> {
  const o = parseConfig(optionsSchema, options, RECIPE);
  const order = parseOrder(o.order, o.symbol);
  if (o.expiresAt !== undefined && o.expiresAt <= scheduler.clock.now()) {
    throw new RecipeConfigError(RECIPE, [
      { field: "expiresAt", message: "is in the past", code: "VALIDATION" },
    ]);
  }
  await checkUniverse(RECIPE, o.universe, [{ field: "symbol", symbol: o.symbol }]);
  const recipe = new PriceTriggerRecipe(scheduler, o, order);
  scheduler.register(recipe.job, (ctx) => recipe.run(ctx), { description: `price trigger ${o.id}` });
  scheduler.on("run:succeeded", ({ execution }) => {
    if (execution.scheduleId !== recipe.scheduleId) return;
    const summary = runtimeFor(scheduler).summaryOf(execution.result);
    if (summary?.details?.done === true) void recipe.retire();
  });
  const when = o.regularHoursOnly
    ? sessionIntervalSchedule(o.checkEvery, o.calendar, scheduler.clock.now())
    : { trigger: { every: o.checkEvery, anchor: 0 }, marketHoursOnly: false, calendar: o.calendar };
  const { schedule } = await declareSchedule(
    scheduler,
    {
      id: recipe.scheduleId,
      name: o.name ?? `Price trigger ${o.id}`,
      job: recipe.job,
      ...when,
      ...schedulePolicies(o),
      // A check is only worth its moment: a missed one is not caught up.
      misfire: "skip",
      requiresApproval: o.requiresApproval,
      tags: o.tags ?? ["automation", "price-trigger"],
      data: {
        recipe: RECIPE,
        id: o.id,
        symbol: o.symbol,
        source: o.source,
        condition: o.condition as unknown as JsonValue,
        fire: o.fire,
        order: order as unknown as JsonValue,
      },
    },
    { actor: o.actor, paused: o.paused },
  );
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: o.id,
    scheduleId: recipe.scheduleId,
    job: recipe.job,
    schedule,
    state: () => recipe.state(),
    status: async () => {
      const s = (await recipe.state()) ?? initialTriggerState();
      return {
        armed: s.armedAt !== null && !s.done,
        armedPrice: s.armedPrice,
        last: s.last,
        fired: s.fired,
        lastFiredAt: iso(s.lastFiredAt),
        done: s.done,
        expiresAt: iso(o.expiresAt ?? null),
      };
    },
    checkNow: (opts = {}) => scheduler.trigger(recipe.scheduleId, { actor: opts.actor ?? "system" }),
  };
}
