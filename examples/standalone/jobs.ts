/**
 * The example's jobs, shaped like the seeds' (a pre-market morning routine that proposes trades, a
 * frequent exit check that trades on its own within the risk limits, an end-of-day snapshot).
 * They stand in for your strategy code: the trading goes through `ctx.propose` / `ctx.submit`,
 * never to the broker directly, so every order is risk-checked, idempotent and recorded.
 */

import type { JobConfig } from "@tradecron/cli";
import type { JobContext } from "@tradecron/core";

/** Options that make the simulated jobs misbehave on purpose, to show retries and skips (the demo). */
export interface JobBehaviour {
  /** Every Nth exit check runs long (ms), so the next fire finds it still running. */
  slowExitCheckEvery?: number;
  slowExitCheckMs?: number;
  /** The snapshot's first attempt of each fire fails, as a broker restart would. */
  flakySnapshot?: boolean;
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** The jobs by name, for the config's `jobs`. */
export function makeJobs(behaviour: JobBehaviour = {}): Record<string, JobConfig> {
  let exitChecks = 0;
  return {
    "morning-routine": {
      description: "Pre-market scan that proposes trades for approval",
      handler: async (ctx: JobContext) => {
        ctx.logger.info("scanning the watch list");
        await wait(50, ctx.signal);
        // Three candidates, each proposed for approval with the data an approver needs.
        const proposals = [
          await ctx.propose({
            symbol: "AAPL",
            side: "buy",
            qty: 10,
            confidence: 0.72,
            riskLevel: "low",
            rationale: "closed above its 20-day high on rising volume",
            supportingData: { close: 190.1, high20: 188.4, volumeRatio: 1.6 },
            strategy: "breakout",
          }),
          await ctx.propose({
            symbol: "MSFT",
            side: "buy",
            qty: 5,
            confidence: 0.55,
            riskLevel: "medium",
            rationale: "pullback to the 50-day average",
            strategy: "mean-reversion",
          }),
          await ctx.propose({
            symbol: "TSLA",
            side: "buy",
            qty: 400,
            confidence: 0.61,
            riskLevel: "high",
            rationale: "earnings momentum",
            strategy: "momentum",
          }),
        ];
        return proposals.map((p) => ({ approval: p.approvalId, status: p.status, rule: p.rule ?? null }));
      },
    },
    "exit-check": {
      description: "Checks exit conditions of open positions and submits exits directly",
      handler: async (ctx: JobContext) => {
        exitChecks++;
        const slow = behaviour.slowExitCheckEvery && exitChecks % behaviour.slowExitCheckEvery === 0;
        await wait(slow ? (behaviour.slowExitCheckMs ?? 2500) : 20, ctx.signal);
        const positions = ctx.broker ? await ctx.broker.getPositions() : [];
        const exits = [];
        for (const p of positions) {
          // Take profit one share at a time: a direct submission, checked by the risk guard.
          if (Number(p.qty) > 0)
            exits.push(await ctx.submit({ symbol: p.symbol, side: "sell", qty: 1, confidence: 0.8 }));
        }
        return { positionsChecked: positions.length, exits: exits.map((e) => e.status) };
      },
    },
    "daily-snapshot": {
      description: "Saves the portfolio state after the close",
      handler: async (ctx: JobContext) => {
        if (behaviour.flakySnapshot && ctx.fire.attempt === 1) {
          throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:7497 (broker restarting)"), {
            code: "ECONNREFUSED",
          });
        }
        const account = ctx.broker ? await ctx.broker.getAccount() : null;
        return { saved: true, attempt: ctx.fire.attempt, equity: account?.equity ?? null };
      },
    },
  };
}
