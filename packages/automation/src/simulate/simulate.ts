/**
 * `simulate`: a dry run of schedules and recipes over a past window. It builds the same Scheduler
 * the live system runs, on core's TestClock, MemoryStorage and a PaperBroker fed with the bars you
 * supply, lets your `setup` declare the recipes and jobs exactly as production does (the same
 * code path: the same triggers, calendars, policies, risk guard and recipe state), moves the
 * clock through the window, and reports every fire, every skip with its reason, every planned and
 * placed order, and the final positions. Nothing reaches a real broker: the only broker there is
 * the paper one.
 */

import {
  type ApprovalGroup,
  type ApprovalRecord,
  getCalendar,
  type MarketCalendar,
  MemoryStorage,
  PaperBroker,
  type RiskLimits,
  Scheduler,
  toError,
} from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import { z } from "zod";
import type { PriceFeed } from "../prices/price-feed.js";
import { runtimeFor } from "../runtime/runtime.js";
import { addIssue, calendarInput, instantInput, nonNegativeDecimal, parseConfig } from "../validation.js";
import { type BarInput, barsToTicks, PriceSeries, type Tick } from "./bars.js";
import { buildReport, type SimulationReport } from "./report.js";

/** What `setup` receives besides the scheduler. */
export interface SimulationEnv {
  /** The paper broker the dry run trades on. */
  broker: PaperBroker;
  /** The simulation's clock. */
  clock: TestClock;
  calendar: MarketCalendar;
  /** A price feed over the bars (last, and bid/ask where the bars have them), for recipes' `prices`. */
  prices: PriceFeed;
  /** The symbols the bars cover (a recipe's `universe`, to catch a symbol without history). */
  symbols: string[];
}

/**
 * What to do with proposals during the dry run. A group (a recipe's plan) is decided as one unit
 * with `scheduler.approveGroup` / `rejectGroup`: a function is asked once per group, with its
 * first member and the group, and once per approval outside any group, with `group` null. A
 * null verdict leaves the unit to expire.
 */
export type SimApprovalPolicy =
  | "approve"
  | "reject"
  | "leave"
  | ((
      approval: ApprovalRecord,
      group: ApprovalGroup | null,
    ) => "approve" | "reject" | null | Promise<"approve" | "reject" | null>);

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** Start of the window (the clock starts here). */
  from: Date | number | string;
  /** End of the window; the clock stops here. */
  to: Date | number | string;
  /** The price history (daily bars on the calendar's sessions, or timed observations). */
  bars: BarInput[];
  /** Declares the recipes, jobs and schedules, as the live system does. */
  setup: (scheduler: Scheduler, env: SimulationEnv) => unknown | Promise<unknown>;
  /** Calendar of daily bars and of the report's local times (default XNYS). */
  calendar?: string;
  /** Starting cash of the paper account (default 100000). */
  initialCash?: string | number;
  allowShort?: boolean;
  /** Scheduler-wide risk limits, as live. */
  risk?: RiskLimits;
  /** Proposals are approved at once (default), rejected, or left to expire; or ask a function. */
  approvals?: SimApprovalPolicy;
}

const optionsSchema = z
  .strictObject({
    from: instantInput,
    to: instantInput,
    bars: z.array(z.unknown()),
    setup: z.custom<SimulateOptions["setup"]>((v) => typeof v === "function", {
      message: "must be a function (scheduler, env)",
    }),
    calendar: calendarInput,
    initialCash: nonNegativeDecimal.default("100000"),
    allowShort: z.boolean().default(false),
    risk: z.record(z.string(), z.unknown()).optional(),
    approvals: z
      .union([
        z.enum(["approve", "reject", "leave"]),
        z.custom<SimApprovalPolicy>((v) => typeof v === "function"),
      ])
      .default("approve"),
  })
  .superRefine((o, ctx) => {
    if (o.to <= o.from) addIssue(ctx, ["to"], "must be after `from`");
    if (o.to - o.from > 20 * 366 * 86_400_000) addIssue(ctx, ["to"], "a window of at most 20 years");
  });

/**
 * Stops the scheduler while moving the clock: a stop may wait (on the scheduler's clock) for
 * runs and storage calls still in flight, and on a TestClock nothing else moves time.
 */
async function stopOnClock(scheduler: Scheduler, clock: TestClock): Promise<void> {
  let stopped = false;
  const stopping = scheduler.stop({ timeoutMs: 0 }).finally(() => {
    stopped = true;
  });
  for (let i = 0; i < 600 && !stopped; i++) await clock.advance(1000);
  await stopping;
}

/** Longest timer wait and lease: the clock jumps from fire to fire instead of waking every 30 s. */
const MAX_WAIT = 2_147_483_647;
const LEASE = 86_400_000;

/**
 * Runs `setup`'s schedules and recipes over [from, to] on the bars, and reports what they did.
 * Throws a {@link RecipeConfigError} (recipe `simulate`) naming the field for a bad window or bar.
 */
export async function simulate(options: SimulateOptions): Promise<SimulationReport> {
  const o = parseConfig(optionsSchema, options, "simulate");
  const calendar = getCalendar(o.calendar);
  const ticks = barsToTicks(o.bars, calendar);
  const series = new PriceSeries(ticks);
  const clock = new TestClock(o.from);
  const broker = new PaperBroker({
    clock,
    initialCash: o.initialCash,
    allowShort: o.allowShort,
    connected: true,
    session: calendar,
    // Every submit prices at the bar in force at that instant.
    quote: (symbol) => series.lastAt(symbol, clock.now()),
  });
  const errors: string[] = [];
  const scheduler = new Scheduler({
    clock,
    broker,
    storage: new MemoryStorage({ maxExecutions: 10_000_000 }),
    instanceId: "simulate",
    // A dry run reports every fire of its window: nothing of its history may be pruned on the way.
    retention: false,
    prices: (symbol) => series.lastAt(symbol, clock.now()),
    marketHours: calendar,
    maxWaitMs: MAX_WAIT,
    leaseMs: LEASE,
    ...(o.risk ? { risk: o.risk as RiskLimits } : {}),
  });
  scheduler.on("scheduler:error", ({ error, context }) => errors.push(`${context}: ${error.message}`));
  const decisions = new Set<Promise<unknown>>();
  const decide = async (executionId: string) => {
    if (o.approvals === "leave") return;
    const pending = (await scheduler.listApprovals({ status: "pending", limit: 1000 })).items
      .filter((a) => a.executionId === executionId)
      .sort((a, b) => a.intentIndex - b.intentIndex);
    const verdictOf = (a: ApprovalRecord, group: ApprovalGroup | null) =>
      typeof o.approvals === "function" ? o.approvals(a, group) : o.approvals;
    const approve: string[] = [];
    const reject: string[] = [];
    const seen = new Set<string>();
    for (const a of pending) {
      if (a.groupId === undefined) {
        const verdict = await verdictOf(a, null);
        if (verdict === "approve") approve.push(a.id);
        else if (verdict === "reject") reject.push(a.id);
        continue;
      }
      if (seen.has(a.groupId)) continue;
      seen.add(a.groupId);
      const group = await scheduler.getApprovalGroup(a.groupId);
      const verdict = await verdictOf(group.members[0] ?? a, group);
      if (verdict === "approve") await scheduler.approveGroup(group.id, { actor: "simulate" });
      else if (verdict === "reject")
        await scheduler.rejectGroup(group.id, { actor: "simulate", reason: "rejected by the simulation" });
    }
    if (approve.length > 0) await scheduler.approve(approve, { actor: "simulate" });
    if (reject.length > 0)
      await scheduler.reject(reject, { actor: "simulate", reason: "rejected by the simulation" });
  };
  scheduler.on("run:succeeded", ({ execution }) => {
    // A run's proposals are decided as one group, at the instant it ends.
    const task = decide(execution.id).catch((error: unknown) =>
      errors.push(`deciding approvals: ${toError(error).message}`),
    );
    decisions.add(task);
    void task.finally(() => decisions.delete(task));
  });
  const settle = async () => {
    await clock.flush();
    while (decisions.size > 0) {
      await Promise.all([...decisions]);
      await clock.flush();
    }
  };

  // Prices as of the start, so the first fires see the last close before the window.
  for (const symbol of series.symbols) {
    const t = series.tickAt(symbol, o.from);
    if (t) broker.setPrice(symbol, t.last, t.at);
  }
  const env: SimulationEnv = {
    broker,
    clock,
    calendar,
    prices: (symbol) => series.quoteAt(symbol, clock.now()),
    symbols: series.symbols,
  };
  await o.setup(scheduler, env);
  await scheduler.start();
  try {
    const inWindow = ticks.filter((t) => t.at > o.from && t.at <= o.to);
    for (let i = 0; i < inWindow.length; ) {
      const at = (inWindow[i] as Tick).at;
      // A price observed at `at` is in force for the fires at `at`: apply it just before them.
      await clock.advanceTo(at - 1);
      await settle();
      for (; i < inWindow.length && (inWindow[i] as Tick).at === at; i++) {
        const t = inWindow[i] as Tick;
        broker.setPrice(t.symbol, t.last, t.at);
      }
    }
    await clock.advanceTo(o.to);
    await settle();
  } finally {
    await stopOnClock(scheduler, clock);
  }
  const account = await broker.getAccount();
  return buildReport({
    scheduler,
    runtime: runtimeFor(scheduler),
    calendar,
    from: o.from,
    to: o.to,
    positions: await broker.getPositions(),
    account: { cash: account.cash, equity: account.equity },
    errors,
  });
}
