/**
 * The example's jobs and schedules: a pre-market scan that proposes trades for approval, an exit
 * check while the market is open, an end-of-day snapshot. Stand-ins for your strategy code; the
 * trading goes through `ctx.propose` / `ctx.submit`, so every order is risk-checked and idempotent.
 */

import { NotFoundError, type ScheduleInput, type Scheduler } from "@tradecron/core";

/** Registers the example jobs. */
export function registerJobs(scheduler: Scheduler): void {
  scheduler.register("morning-scan", async (ctx) => {
    await ctx.propose({
      symbol: "AAPL",
      side: "buy",
      qty: 10,
      confidence: 0.72,
      riskLevel: "low",
      // The price the scan saw: the risk guard values the market order at it on any broker (IBKR
      // gives the host no price feed).
      referencePrice: "190.10",
      rationale: "closed above its 20-day high on rising volume",
      supportingData: { close: 190.1, high20: 188.4, volumeRatio: 1.6 },
    });
    await ctx.propose({
      symbol: "TSLA",
      side: "buy",
      qty: 4,
      confidence: 0.58,
      riskLevel: "high",
      referencePrice: "251.20",
      rationale: "gap up after earnings; wide stop",
      supportingData: { gapPct: 6.2, atr: 11.3 },
    });
    return { proposed: 2 };
  });
  scheduler.register("exit-check", async (ctx) => {
    const positions = ctx.broker ? await ctx.broker.getPositions() : [];
    return { positions: positions.length };
  });
  scheduler.register("eod-snapshot", async (ctx) => {
    const account = ctx.broker ? await ctx.broker.getAccount() : null;
    return { equity: account?.equity ?? null };
  });
}

/** The example's schedules (created when missing, so a restart keeps your edits). */
export const EXAMPLE_SCHEDULES: ScheduleInput[] = [
  {
    id: "morning-scan",
    name: "Morning scan (proposes trades)",
    job: "morning-scan",
    requiresApproval: true,
    trigger: { calendar: "XNYS", event: "open", offsetMinutes: -30 },
    tags: ["trading"],
  },
  {
    id: "exit-check",
    name: "Exit check while the market is open",
    job: "exit-check",
    marketHoursOnly: true,
    trigger: { every: "30s" },
    tags: ["trading"],
  },
  {
    id: "eod-snapshot",
    name: "End-of-day snapshot",
    job: "eod-snapshot",
    trigger: { cron: "35 16 * * 1-5", timezone: "America/New_York" },
    retry: { attempts: 3, backoff: { baseMs: "60s", factor: 2 } },
    tags: ["reports"],
  },
];

/** Creates each schedule unless one with its id exists. */
export async function ensureSchedules(scheduler: Scheduler, schedules: ScheduleInput[]): Promise<void> {
  for (const input of schedules) {
    try {
      await scheduler.getSchedule(input.id as string);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      await scheduler.createSchedule(input, { actor: "express-host" });
    }
  }
}
