/**
 * `strategyLoop`: seed 002's trading scheduler as one call. Strategies (functions that return
 * signals with a confidence) are evaluated on one cadence and exits are checked on another, both
 * only in market hours and with the broker connected (core skips the fire otherwise, recorded as
 * `market_closed` / `broker_disconnected`). Entries need the minimum confidence, a free slot under
 * the maximum of concurrent trades, and no open trade or entry in flight on their symbol; every
 * order is an ordinary intent through the risk guard. The loop's state is its two schedules:
 * running (both fire), paused (the evaluation schedule is paused, exits still run, as freqtrade's
 * PAUSED), stopped (both paused); so it survives restarts and every change is audited. Statistics
 * (evaluations, signals, trades executed and rejected, errors, last evaluation, last trade) are
 * each schedule's persisted state.
 */

import {
  type Broker,
  type BrokerPosition,
  Decimal,
  decimalString,
  getCalendar,
  type JobContext,
  type JsonValue,
  type OrderIntentInput,
  type ScheduleRecord,
  type Scheduler,
} from "@tradecron/core";
import { z } from "zod";
import { sessionIntervalSchedule } from "../calendar/session-trigger.js";
import { gateSignals, type Signal, type TaggedSignal } from "../plan/strategy-gate.js";
import { type PriceFeed, priceOf, readQuote } from "../prices/price-feed.js";
import { declareSchedule } from "../runtime/declare.js";
import { type RecipeRuntime, runtimeFor } from "../runtime/runtime.js";
import { deferredRun, type PlannedOrder, type RunSummary, type SkippedOrder } from "../runtime/summary.js";
import {
  addIssue,
  calendarInput,
  parseConfig,
  positiveDecimal,
  positiveDuration,
  recipeIdInput,
  symbolInput,
} from "../validation.js";
import { type CommonInput, commonOptions, feedOf, place, schedulePolicies } from "./common.js";

const RECIPE = "strategyLoop";

/** What a strategy sees when it is evaluated. */
export interface StrategyInput {
  /** The scheduler's clock (epoch ms). */
  now: number;
  /** Open positions at the broker. */
  positions: readonly BrokerPosition[];
  /** The last price of a symbol from the loop's price feed (null when unknown). */
  price(symbol: string): Promise<string | null>;
  /** Aborted when the run times out or the scheduler stops. */
  signal: AbortSignal;
  broker: Broker;
}

/** A strategy: a name and a function from the market to signals. */
export interface Strategy {
  /** Unique within the loop; recorded with its orders and statistics. */
  readonly name: string;
  /** Entry (and exit) signals, evaluated every `evaluateEvery`. */
  evaluate(input: StrategyInput): Signal[] | Promise<Signal[]>;
  /** Exit signals for open positions, checked every `exitEvery` (also while paused). */
  checkExits?(input: StrategyInput): Signal[] | Promise<Signal[]>;
}

/** How an entry without its own size is sized. */
export type Sizing =
  | { notional: string | number }
  | { qty: string | number }
  | ((
      signal: Signal,
      input: { price: string | null },
    ) => { qty?: string | number; notional?: string | number });

/** Options of {@link strategyLoop}. */
export interface StrategyLoopOptions extends CommonInput {
  /** The loop's id: its schedules are `strategy:<id>:evaluate` and `strategy:<id>:exits`. */
  id: string;
  strategies: Strategy[];
  /** Evaluation cadence (default '60s'). */
  evaluateEvery?: string | number;
  /** Exit-check cadence (default '30s'). */
  exitEvery?: string | number;
  /** Lowest confidence that trades (default 0.5). */
  minConfidence?: number;
  /** Open positions plus entries in flight, at most (default 5). */
  maxConcurrentTrades?: number;
  /** Skip fires while the broker is disconnected (default true). */
  requireBrokerConnection?: boolean;
  /** Only in market hours (default true). */
  marketHoursOnly?: boolean;
  calendar?: string;
  /** Size of an entry whose signal has none. */
  sizing?: Sizing;
  /** The state a newly declared loop starts in (default `running`); a restart keeps the persisted one. */
  initialState?: LoopState;
  /** Entries and exits wait for a human approval. */
  requiresApproval?: boolean;
}

/** running, paused (exits only) or stopped. */
export type LoopState = "running" | "paused" | "stopped";

/** The loop's persisted statistics. */
export interface LoopStats {
  evaluationsRun: number;
  exitChecksRun: number;
  signalsGenerated: number;
  tradesExecuted: number;
  tradesRejected: number;
  errors: number;
  /** Signals the gate held back, by reason. */
  filtered: Record<string, number>;
  /** Per strategy: signals and errors. */
  byStrategy: Record<string, { signals: number; errors: number }>;
  lastEvaluation: string | null;
  lastExitCheck: string | null;
  lastTrade: string | null;
  lastError: string | null;
}

/** What {@link StrategyLoopHandle.status} reports (seed 002's status response). */
export interface LoopStatus {
  state: LoopState;
  config: {
    evaluateEveryMs: number;
    exitEveryMs: number;
    minConfidence: number;
    maxConcurrentTrades: number;
    marketHoursOnly: boolean;
    requireBrokerConnection: boolean;
  };
  stats: LoopStats & { monitoredPositions: number };
  /** Whether an evaluation fire would run now. */
  canRun: boolean;
  isMarketHours: boolean;
  brokerConnected: boolean;
}

/** What {@link strategyLoop} returns. */
export interface StrategyLoopHandle {
  readonly id: string;
  readonly evaluateScheduleId: string;
  readonly exitScheduleId: string;
  readonly schedules: { evaluate: ScheduleRecord; exits: ScheduleRecord };
  state(): Promise<LoopState>;
  /** Both loops run. */
  start(options?: { actor?: string }): Promise<LoopState>;
  /** Same as `start`. */
  resume(options?: { actor?: string }): Promise<LoopState>;
  /** No new entries; exits still run. */
  pause(options?: { actor?: string }): Promise<LoopState>;
  /** Nothing runs. */
  stop(options?: { actor?: string }): Promise<LoopState>;
  status(): Promise<LoopStatus>;
}

/** One loop schedule's state: its share of the statistics. */
interface HalfStats {
  runs: number;
  signals: number;
  executed: number;
  rejected: number;
  errors: number;
  filtered: Record<string, number>;
  byStrategy: Record<string, { signals: number; errors: number }>;
  lastRunAt: number | null;
  lastTradeAt: number | null;
  lastError: string | null;
}

function emptyHalf(): HalfStats {
  return {
    runs: 0,
    signals: 0,
    executed: 0,
    rejected: 0,
    errors: 0,
    filtered: {},
    byStrategy: {},
    lastRunAt: null,
    lastTradeAt: null,
    lastError: null,
  };
}

const strategySchema = z.custom<Strategy>(
  (v) =>
    typeof v === "object" &&
    v !== null &&
    typeof (v as Strategy).name === "string" &&
    (v as Strategy).name.length > 0 &&
    typeof (v as Strategy).evaluate === "function" &&
    ((v as Strategy).checkExits === undefined || typeof (v as Strategy).checkExits === "function"),
  { message: "a strategy is { name, evaluate(input), checkExits?(input) }" },
);

const sizingSchema = z.union([
  z.strictObject({ notional: positiveDecimal }),
  z.strictObject({ qty: positiveDecimal }),
  z.custom<Extract<Sizing, (...args: never[]) => unknown>>((v) => typeof v === "function"),
]);

const optionsSchema = z
  .strictObject({
    ...commonOptions,
    id: recipeIdInput,
    strategies: z.array(strategySchema).min(1).max(100),
    evaluateEvery: positiveDuration.default(60_000),
    exitEvery: positiveDuration.default(30_000),
    minConfidence: z.number().min(0).max(1).default(0.5),
    maxConcurrentTrades: z.number().int().min(0).max(10_000).default(5),
    requireBrokerConnection: z.boolean().default(true),
    marketHoursOnly: z.boolean().default(true),
    calendar: calendarInput,
    sizing: sizingSchema.optional(),
    initialState: z.enum(["running", "paused", "stopped"]).default("running"),
    requiresApproval: z.boolean().default(false),
  })
  .superRefine((o, ctx) => {
    const names = new Set<string>();
    o.strategies.forEach((s, i) => {
      if (names.has(s.name)) addIssue(ctx, ["strategies", i, "name"], `strategy '${s.name}' is listed twice`);
      names.add(s.name);
    });
    if (o.evaluateEvery < 1000) addIssue(ctx, ["evaluateEvery"], "evaluate at most once a second");
    if (o.exitEvery < 1000) addIssue(ctx, ["exitEvery"], "check exits at most once a second");
  });

const signalSchema = z.strictObject({
  symbol: symbolInput,
  side: z.enum(["buy", "sell"]),
  confidence: z.number().min(0).max(1),
  action: z.enum(["entry", "exit"]).default("entry"),
  qty: positiveDecimal.optional(),
  notional: positiveDecimal.optional(),
  type: z.enum(["market", "limit"]).default("market"),
  limitPrice: positiveDecimal.optional(),
  rationale: z.string().max(5000).optional(),
  supportingData: z.custom<JsonValue>(() => true).optional(),
});

/** A validated signal: decimals as canonical strings. */
type LoopSignal = Omit<TaggedSignal, "qty" | "notional" | "limitPrice"> & {
  qty?: string;
  notional?: string;
  limitPrice?: string;
};

const FINAL = new Set(["filled", "canceled", "expired", "rejected", "replaced"]);

class StrategyLoopRecipe {
  readonly evaluateId: string;
  readonly exitId: string;
  private readonly runtime: RecipeRuntime;
  private readonly feed: PriceFeed;

  constructor(
    readonly scheduler: Scheduler,
    readonly o: z.output<typeof optionsSchema>,
  ) {
    this.evaluateId = `strategy:${o.id}:evaluate`;
    this.exitId = `strategy:${o.id}:exits`;
    this.runtime = runtimeFor(scheduler);
    this.feed = feedOf(o, scheduler);
  }

  private input(ctx: JobContext, broker: Broker, positions: BrokerPosition[]): StrategyInput {
    return {
      now: ctx.now(),
      positions,
      price: async (symbol) => priceOf(await readQuote(this.feed, symbol), "last")?.toString() ?? null,
      signal: ctx.signal,
      broker,
    };
  }

  /** Sizes an entry: its own qty or notional, else the loop's sizing. */
  private async size(signal: LoopSignal): Promise<{ qty?: string; notional?: string } | null> {
    if (signal.qty !== undefined) return { qty: signal.qty };
    if (signal.notional !== undefined) return { notional: signal.notional };
    const sizing = this.o.sizing;
    if (!sizing) return null;
    if (typeof sizing !== "function")
      return "qty" in sizing ? { qty: sizing.qty } : { notional: sizing.notional };
    const price = priceOf(await readQuote(this.feed, signal.symbol), "last")?.toString() ?? null;
    const out = sizing(signal as Signal, { price });
    const parsed = z
      .union([z.strictObject({ qty: positiveDecimal }), z.strictObject({ notional: positiveDecimal })])
      .safeParse(out);
    return parsed.success ? parsed.data : null;
  }

  async run(ctx: JobContext, half: "evaluate" | "exits"): Promise<unknown> {
    const committed = (await this.runtime.loadState(ctx)) as HalfStats | null;
    const stats: HalfStats = { ...emptyHalf(), ...(committed ?? {}) };
    const now = ctx.now();
    stats.runs += 1;
    stats.lastRunAt = now;
    const id = this.o.id;
    const commit = (summary: RunSummary) => this.runtime.commit(ctx, stats as unknown as JsonValue, summary);
    const broker = ctx.broker;
    if (!broker) {
      stats.errors += 1;
      stats.lastError = "no broker configured";
      return commit({
        recipe: RECIPE,
        id,
        outcome: "skipped",
        reason: "no_broker",
        planned: [],
        skipped: [],
        orders: [],
      });
    }
    const [positions, open] = await Promise.all([broker.getPositions(), broker.getOpenOrders()]);
    const held = new Map(positions.map((p) => [p.symbol, new Decimal(p.qty)]));
    const entriesInFlight = new Set<string>();
    const exitsInFlight = new Set<string>();
    for (const order of open) {
      if (FINAL.has(order.status)) continue;
      const qty = held.get(order.symbol);
      const reduces = qty !== undefined && (qty.gt(0) ? order.side === "sell" : order.side === "buy");
      (reduces ? exitsInFlight : entriesInFlight).add(order.symbol);
    }
    const input = this.input(ctx, broker, positions);
    const signals: LoopSignal[] = [];
    const invalid: SkippedOrder[] = [];
    const errors: string[] = [];
    for (const strategy of this.o.strategies) {
      stats.byStrategy[strategy.name] ??= { signals: 0, errors: 0 };
      const per = stats.byStrategy[strategy.name] as { signals: number; errors: number };
      const fn = half === "evaluate" ? strategy.evaluate : strategy.checkExits;
      if (!fn) continue;
      let out: unknown;
      try {
        out = await fn.call(strategy, input);
      } catch (error) {
        // One failing strategy is counted and reported; the others still trade.
        per.errors += 1;
        stats.errors += 1;
        const message = `${strategy.name}: ${error instanceof Error ? error.message : String(error)}`;
        stats.lastError = message;
        errors.push(message);
        continue;
      }
      for (const raw of Array.isArray(out) ? out : []) {
        const parsed = signalSchema.safeParse(raw);
        if (!parsed.success) {
          per.errors += 1;
          stats.errors += 1;
          const issue = parsed.error.issues[0];
          const message = `${strategy.name}: invalid signal: ${issue?.path.join(".") || "signal"}: ${issue?.message}`;
          stats.lastError = message;
          errors.push(message);
          invalid.push({
            symbol: String((raw as { symbol?: unknown })?.symbol ?? "?"),
            side: "buy",
            reason: "invalid_signal",
            detail: message,
          });
          continue;
        }
        const s = parsed.data;
        const signal: LoopSignal = {
          ...s,
          ...(half === "exits" ? { action: "exit" as const } : {}),
          strategy: strategy.name,
        };
        per.signals += 1;
        stats.signals += 1;
        signals.push(signal);
      }
    }
    const gate = gateSignals({
      signals,
      minConfidence: this.o.minConfidence,
      maxConcurrentTrades: this.o.maxConcurrentTrades,
      positions: new Set(positions.filter((p) => !new Decimal(p.qty).isZero()).map((p) => p.symbol)),
      entriesInFlight,
      exitsInFlight,
      mode: half === "evaluate" && ctx.schedule.paused ? "paused" : "running",
    });
    const skipped: SkippedOrder[] = [...invalid];
    for (const r of gate.rejected) {
      stats.filtered[r.reason] = (stats.filtered[r.reason] ?? 0) + 1;
      skipped.push({
        symbol: r.signal.symbol,
        side: r.signal.side,
        reason: r.reason,
        detail: `${r.signal.strategy}: ${r.detail}`,
      });
    }
    const planned: PlannedOrder[] = [];
    const intents: OrderIntentInput[] = [];
    const plan = async (signal: LoopSignal, exit: boolean) => {
      const qtyHeld = held.get(signal.symbol) ?? new Decimal(0);
      const size = exit ? { qty: signal.qty ?? decimalString(qtyHeld.abs()) } : await this.size(signal);
      if (!size) {
        stats.filtered.no_size = (stats.filtered.no_size ?? 0) + 1;
        skipped.push({
          symbol: signal.symbol,
          side: signal.side,
          reason: "no_size",
          detail: `${signal.strategy}: the signal has no qty or notional and the loop no sizing`,
        });
        return;
      }
      const side = exit ? (qtyHeld.gt(0) ? "sell" : "buy") : signal.side;
      const price = priceOf(await readQuote(this.feed, signal.symbol), "last");
      const limit = signal.type === "limit" && signal.limitPrice !== undefined;
      planned.push({
        symbol: signal.symbol,
        side,
        ...size,
        value: size.notional ?? (price ? decimalString(new Decimal(size.qty as string).times(price)) : "0"),
        ...(price ? { price: price.toString() } : {}),
        why: exit ? "exit" : "signal",
      });
      intents.push({
        symbol: signal.symbol,
        side,
        ...size,
        type: limit ? "limit" : "market",
        ...(limit ? { limitPrice: signal.limitPrice as string } : {}),
        timeInForce: "day",
        confidence: signal.confidence,
        strategy: signal.strategy,
        rationale:
          signal.rationale ??
          `${signal.strategy} ${exit ? "exit" : "entry"} (confidence ${signal.confidence})`,
        ...(signal.supportingData !== undefined ? { supportingData: signal.supportingData } : {}),
        ...(price && !limit ? { referencePrice: price.toString() } : {}),
      });
    };
    for (const s of gate.exits) await plan(s as LoopSignal, true);
    for (const s of gate.entries) await plan(s as LoopSignal, false);
    const placement = await place(ctx, this.scheduler, this.runtime, planned, intents, {
      approval: this.o.requiresApproval,
      slots: this.o.maxConcurrentTrades + positions.length + 1,
      meta: { rationale: `strategy loop ${id}` },
    });
    if (!placement.placed) {
      return commit(deferredRun(RECIPE, id, placement, { planned, skipped }));
    }
    const ok = placement.outcomes.filter(
      (o) => o.status === "submitted" || o.status === "pending" || o.status === "queued",
    );
    const rejected = placement.outcomes.filter((o) => o.status === "rejected");
    stats.executed += ok.length;
    stats.rejected += rejected.length;
    if (ok.length > 0) stats.lastTradeAt = now;
    const outcome = ok.length > 0 ? (this.o.requiresApproval ? "proposed" : "executed") : "skipped";
    return commit({
      recipe: RECIPE,
      id,
      outcome,
      reason:
        ok.length > 0
          ? null
          : planned.length > 0
            ? "rejected"
            : signals.length === 0
              ? "no_signal"
              : "filtered",
      planned,
      skipped,
      orders: placement.outcomes,
      details: {
        loop: half,
        signals: signals.length,
        ...(errors.length > 0 ? { errors } : {}),
      },
    });
  }

  async loopState(): Promise<LoopState> {
    const [e, x] = await Promise.all([
      this.scheduler.getSchedule(this.evaluateId),
      this.scheduler.getSchedule(this.exitId),
    ]);
    if (!e.paused && !x.paused) return "running";
    if (e.paused && !x.paused) return "paused";
    return "stopped";
  }

  async setState(target: LoopState, actor: string): Promise<LoopState> {
    const set = async (id: string, paused: boolean) => {
      if (paused) await this.scheduler.pauseSchedule(id, { actor });
      else await this.scheduler.resumeSchedule(id, { actor });
    };
    // Exits come back first and go last: there is never a moment with entries but no exits.
    if (target === "running") {
      await set(this.exitId, false);
      await set(this.evaluateId, false);
    } else if (target === "paused") {
      await set(this.exitId, false);
      await set(this.evaluateId, true);
    } else {
      await set(this.evaluateId, true);
      await set(this.exitId, true);
    }
    return this.loopState();
  }

  async status(): Promise<LoopStatus> {
    const [evaluate, exits] = (await Promise.all([
      this.runtime.peekState(this.evaluateId),
      this.runtime.peekState(this.exitId),
    ])) as (HalfStats | null)[];
    const e = { ...emptyHalf(), ...(evaluate ?? {}) };
    const x = { ...emptyHalf(), ...(exits ?? {}) };
    const broker = this.scheduler.broker;
    const brokerConnected = broker?.isConnected() ?? false;
    const isMarketHours = getCalendar(this.o.calendar).isOpen(this.scheduler.clock.now());
    const state = await this.loopState();
    let monitored = 0;
    if (broker && brokerConnected) {
      try {
        monitored = (await broker.getPositions()).filter((p) => !new Decimal(p.qty).isZero()).length;
      } catch {
        monitored = 0;
      }
    }
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    const merge = (a: Record<string, number>, b: Record<string, number>) => {
      const out = { ...a };
      for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    const byStrategy: LoopStats["byStrategy"] = {};
    for (const half of [e, x]) {
      for (const [name, s] of Object.entries(half.byStrategy)) {
        byStrategy[name] ??= { signals: 0, errors: 0 };
        const t = byStrategy[name] as { signals: number; errors: number };
        t.signals += s.signals;
        t.errors += s.errors;
      }
    }
    const lastTrade = Math.max(e.lastTradeAt ?? -1, x.lastTradeAt ?? -1);
    return {
      state,
      config: {
        evaluateEveryMs: this.o.evaluateEvery,
        exitEveryMs: this.o.exitEvery,
        minConfidence: this.o.minConfidence,
        maxConcurrentTrades: this.o.maxConcurrentTrades,
        marketHoursOnly: this.o.marketHoursOnly,
        requireBrokerConnection: this.o.requireBrokerConnection,
      },
      stats: {
        evaluationsRun: e.runs,
        exitChecksRun: x.runs,
        signalsGenerated: e.signals + x.signals,
        tradesExecuted: e.executed + x.executed,
        tradesRejected: e.rejected + x.rejected,
        errors: e.errors + x.errors,
        filtered: merge(e.filtered, x.filtered),
        byStrategy,
        lastEvaluation: iso(e.lastRunAt),
        lastExitCheck: iso(x.lastRunAt),
        lastTrade: lastTrade < 0 ? null : iso(lastTrade),
        lastError: e.lastError ?? x.lastError,
        monitoredPositions: monitored,
      },
      canRun:
        state === "running" &&
        (!this.o.requireBrokerConnection || brokerConnected) &&
        (!this.o.marketHoursOnly || isMarketHours),
      isMarketHours,
      brokerConnected,
    };
  }
}

/**
 * Declares a strategy loop on `scheduler`: registers its two jobs and creates (or updates) the
 * schedules `strategy:<id>:evaluate` and `strategy:<id>:exits`. Strategies are code: call it on
 * every start. Throws a {@link RecipeConfigError} naming the field for a bad configuration.
 */
export async function strategyLoop(
  scheduler: Scheduler,
  options: StrategyLoopOptions,
): Promise<StrategyLoopHandle> {
  const o = parseConfig(optionsSchema, options, RECIPE);
  const recipe = new StrategyLoopRecipe(scheduler, o);
  scheduler.register(`${recipe.evaluateId}`, (ctx) => recipe.run(ctx, "evaluate"), {
    description: `strategy loop ${o.id}: evaluation`,
  });
  scheduler.register(`${recipe.exitId}`, (ctx) => recipe.run(ctx, "exits"), {
    description: `strategy loop ${o.id}: exit checks`,
  });
  const now = scheduler.clock.now();
  const when = (every: number) =>
    o.marketHoursOnly
      ? sessionIntervalSchedule(every, o.calendar, now)
      : { trigger: { every, anchor: 0 }, marketHoursOnly: false, calendar: o.calendar };
  const common = {
    ...schedulePolicies(o),
    // A loop's check is only worth its moment: missed ones are not caught up, and an evaluation
    // still running when the next is due makes the next one skip (recorded as `overlap`).
    misfire: "skip" as const,
    retry: o.retry ?? 1,
    timeout: o.timeout ?? Math.min(o.evaluateEvery, o.exitEvery),
    requireBrokerConnection: o.requireBrokerConnection,
    requiresApproval: o.requiresApproval,
    tags: o.tags ?? ["automation", "strategy-loop"],
  };
  const data = {
    recipe: RECIPE,
    id: o.id,
    strategies: o.strategies.map((s) => s.name),
    minConfidence: o.minConfidence,
    maxConcurrentTrades: o.maxConcurrentTrades,
  };
  const initial = o.initialState;
  const exits = await declareSchedule(
    scheduler,
    {
      id: recipe.exitId,
      name: `${o.name ?? `Strategy loop ${o.id}`}: exits`,
      job: recipe.exitId,
      ...when(o.exitEvery),
      ...common,
      data,
    },
    { actor: o.actor, paused: initial === "stopped" },
  );
  const evaluate = await declareSchedule(
    scheduler,
    {
      id: recipe.evaluateId,
      name: `${o.name ?? `Strategy loop ${o.id}`}: evaluation`,
      job: recipe.evaluateId,
      ...when(o.evaluateEvery),
      ...common,
      data,
    },
    { actor: o.actor, paused: initial !== "running" },
  );
  const actor = (opts?: { actor?: string }) => opts?.actor ?? "system";
  return {
    id: o.id,
    evaluateScheduleId: recipe.evaluateId,
    exitScheduleId: recipe.exitId,
    schedules: { evaluate: evaluate.schedule, exits: exits.schedule },
    state: () => recipe.loopState(),
    start: (opts) => recipe.setState("running", actor(opts)),
    resume: (opts) => recipe.setState("running", actor(opts)),
    pause: (opts) => recipe.setState("paused", actor(opts)),
    stop: (opts) => recipe.setState("stopped", actor(opts)),
    status: () => recipe.status(),
  };
}
