/**
 * The risk guard: pluggable rules that run before every submission and again when an approval is
 * approved. A rule looks at one intent in its context (account, positions, open orders, what was
 * traded today, the broker's connection) and answers pass or reject-with-reason. Built-in rules
 * come from {@link RiskLimits}; custom rules are plain objects with a `check` function.
 */

import { z } from "zod";
import {
  type BrokerAccount,
  type BrokerOrder,
  type BrokerPosition,
  BrokerRateLimitedError,
  BrokerUnavailableError,
} from "../broker/broker.js";
import { Decimal, decimalSchema } from "../orders/decimal.js";
import type { OrderIntent } from "../orders/intent.js";
import { parseInput } from "../validation.js";

/** What a rule sees. Broker data is loaded lazily, once per check, only if a rule asks for it. */
export interface RiskContext {
  intent: OrderIntent;
  /** The schedule proposing or submitting, if any. */
  scheduleId: string | null;
  /** Estimated notional of this order (qty x price), or null when no price is known. */
  notional: Decimal | null;
  /** Notional of orders submitted so far today (UTC day), excluding this one. */
  dailyNotional(): Promise<Decimal>;
  brokerConnected: boolean;
  /**
   * False when no broker is configured at all (so `brokerConnected` is false for good). Absent in
   * contexts built by hand: a broker is assumed.
   */
  brokerConfigured?: boolean;
  account(): Promise<BrokerAccount | null>;
  positions(): Promise<BrokerPosition[]>;
  openOrders(): Promise<BrokerOrder[]>;
  /** True if the market is open now (only when a calendar is configured), else null. */
  marketOpen(): Promise<boolean | null>;
  now: number;
}

/** A rule's answer. */
export type RiskVerdict = { ok: true } | { ok: false; reason: string };

/** A risk rule. */
export interface RiskRule {
  /** Stable name, recorded with every rejection (`max_order_notional`, ...). */
  readonly name: string;
  /**
   * When the rule applies: `always` (default: at proposal and at submission) or `submit` (only
   * when the order is about to reach the broker: connection, market hours, open positions and
   * orders describe that moment, not the moment a pre-market proposal is made).
   */
  readonly when?: "always" | "submit";
  check(ctx: RiskContext): RiskVerdict | Promise<RiskVerdict>;
}

/** Which checks run: at proposal time only the rules that do not depend on the moment. */
export type RiskPhase = "propose" | "submit";

/** The first rule that rejected, or null when all passed. */
export type RiskOutcome = { ok: true } | { ok: false; rule: string; reason: string };

/** Limits that build the standard rules. Every limit is optional; none set means no rule. */
export interface RiskLimits {
  /** Largest notional (qty x price) of one order. */
  maxOrderNotional?: string | number;
  /** Largest total notional submitted in one UTC day. */
  maxDailyNotional?: string | number;
  /** Most open positions (a buy of a new symbol beyond it is rejected). */
  maxOpenPositions?: number;
  /** Most open (working) orders at once: the seeds' "maximum concurrent trades". */
  maxOpenOrders?: number;
  /** Lowest accepted confidence (0..1); intents without a confidence are rejected when set. */
  minConfidence?: number;
  /** Only these symbols may be traded. */
  allowSymbols?: string[];
  /** These symbols may never be traded. */
  denySymbols?: string[];
  /** Reject orders while the market is closed (needs a calendar). */
  marketHoursOnly?: boolean;
  /**
   * Hold orders while the broker is not connected. Default true. A disconnected broker is a
   * passing condition, so this does not reject: the check throws a retryable
   * `BrokerUnavailableError` (the run's retry policy waits it out; an approval stays pending).
   * Only "no broker configured" is a final rejection.
   */
  requireBrokerConnection?: boolean;
  /** Reject intents whose risk level is above this. */
  maxRiskLevel?: "low" | "medium" | "high";
}

/** zod schema of {@link RiskLimits}. */
export const riskLimitsSchema = z.strictObject({
  maxOrderNotional: decimalSchema.optional(),
  maxDailyNotional: decimalSchema.optional(),
  maxOpenPositions: z.number().int().min(0).optional(),
  maxOpenOrders: z.number().int().min(0).optional(),
  minConfidence: z.number().min(0).max(1).optional(),
  allowSymbols: z
    .array(
      z
        .string()
        .min(1)
        .transform((s) => s.toUpperCase()),
    )
    .optional(),
  denySymbols: z
    .array(
      z
        .string()
        .min(1)
        .transform((s) => s.toUpperCase()),
    )
    .optional(),
  marketHoursOnly: z.boolean().optional(),
  requireBrokerConnection: z.boolean().optional(),
  maxRiskLevel: z.enum(["low", "medium", "high"]).optional(),
});

/** Validated limits (decimals as strings). */
export type ParsedRiskLimits = z.output<typeof riskLimitsSchema>;

/** Validates limits, naming the field on error. */
export function parseRiskLimits(input: unknown, field = "risk"): ParsedRiskLimits {
  return parseInput(riskLimitsSchema, input, "risk guard", field);
}

const RISK_ORDER = { low: 0, medium: 1, high: 2 } as const;

const pass: RiskVerdict = { ok: true };
const reject = (reason: string): RiskVerdict => ({ ok: false, reason });

/** The standard rules for a set of limits, in the order they are checked. */
export function rulesFromLimits(limits: ParsedRiskLimits): RiskRule[] {
  const rules: RiskRule[] = [];
  if (limits.requireBrokerConnection !== false) {
    rules.push({
      name: "broker_connected",
      when: "submit",
      check(c) {
        if (c.brokerConnected) return pass;
        if (c.brokerConfigured === false) return reject("no broker is configured");
        // Transient (a reconnect, a cold-start connect timeout): retried, never a final rejection.
        throw new BrokerUnavailableError(
          "the broker is not connected (risk rule broker_connected); the order waits for it",
          { details: { rule: "broker_connected" } },
        );
      },
    });
  }
  if (limits.denySymbols?.length) {
    const deny = new Set(limits.denySymbols);
    rules.push({
      name: "deny_symbols",
      check: (c) => (deny.has(c.intent.symbol) ? reject(`${c.intent.symbol} is on the deny list`) : pass),
    });
  }
  if (limits.allowSymbols) {
    const allow = new Set(limits.allowSymbols);
    rules.push({
      name: "allow_symbols",
      check: (c) =>
        allow.has(c.intent.symbol) ? pass : reject(`${c.intent.symbol} is not on the allow list`),
    });
  }
  if (limits.minConfidence !== undefined) {
    const min = limits.minConfidence;
    rules.push({
      name: "min_confidence",
      check: (c) =>
        c.intent.confidence === undefined
          ? reject(`confidence is required (minimum ${min})`)
          : c.intent.confidence < min
            ? reject(`confidence ${c.intent.confidence} is below the minimum ${min}`)
            : pass,
    });
  }
  if (limits.maxRiskLevel !== undefined) {
    const max = limits.maxRiskLevel;
    rules.push({
      name: "max_risk_level",
      check: (c) =>
        RISK_ORDER[c.intent.riskLevel] > RISK_ORDER[max]
          ? reject(`risk level ${c.intent.riskLevel} is above the maximum ${max}`)
          : pass,
    });
  }
  if (limits.marketHoursOnly) {
    rules.push({
      name: "market_hours",
      when: "submit",
      async check(c) {
        const open = await c.marketOpen();
        if (open === null) return reject("market hours cannot be checked: no calendar configured");
        return open || c.intent.extendedHours ? pass : reject("the market is closed");
      },
    });
  }
  if (limits.maxOrderNotional !== undefined) {
    const max = new Decimal(limits.maxOrderNotional);
    rules.push({
      name: "max_order_notional",
      check: (c) =>
        c.notional === null
          ? reject("the order cannot be valued (no limit price, notional or price source)")
          : c.notional.gt(max)
            ? reject(`notional ${c.notional.toFixed(2)} exceeds the per-order maximum ${max.toFixed()}`)
            : pass,
    });
  }
  if (limits.maxDailyNotional !== undefined) {
    const max = new Decimal(limits.maxDailyNotional);
    rules.push({
      name: "max_daily_notional",
      async check(c) {
        if (c.notional === null)
          return reject("the order cannot be valued (no limit price, notional or price source)");
        const today = await c.dailyNotional();
        const total = today.plus(c.notional);
        return total.gt(max)
          ? reject(
              `today's notional would reach ${total.toFixed(2)}, above the daily maximum ${max.toFixed()}`,
            )
          : pass;
      },
    });
  }
  if (limits.maxOpenPositions !== undefined) {
    const max = limits.maxOpenPositions;
    rules.push({
      name: "max_open_positions",
      when: "submit",
      async check(c) {
        const positions = await c.positions();
        const holds = positions.some((p) => p.symbol === c.intent.symbol);
        // Adding to or reducing an existing position does not open a new one.
        if (holds || c.intent.side === "sell") return pass;
        return positions.length >= max
          ? reject(`${positions.length} positions open, the maximum is ${max}`)
          : pass;
      },
    });
  }
  if (limits.maxOpenOrders !== undefined) {
    const max = limits.maxOpenOrders;
    rules.push({
      name: "max_open_orders",
      when: "submit",
      async check(c) {
        const open = await c.openOrders();
        return open.length >= max ? reject(`${open.length} orders working, the maximum is ${max}`) : pass;
      },
    });
  }
  return rules;
}

/** The broker is momentarily away or throttling: a reason to wait, not to refuse. */
function isTransientBrokerError(error: unknown): boolean {
  return error instanceof BrokerUnavailableError || error instanceof BrokerRateLimitedError;
}

/**
 * Runs the rules of `phase` in order; the first rejection wins. A rule that throws rejects (fail
 * safe), except with a retryable broker error (`BrokerUnavailableError`,
 * `BrokerRateLimitedError`: the broker is not connected, or its data could not be read just now),
 * which is thrown on so the caller retries: nothing is placed either way.
 *
 * @throws BrokerUnavailableError / BrokerRateLimitedError from a rule, as they are.
 */
export async function evaluateRisk(
  rules: readonly RiskRule[],
  ctx: RiskContext,
  phase: RiskPhase = "submit",
): Promise<RiskOutcome> {
  for (const rule of rules) {
    if (phase === "propose" && rule.when === "submit") continue;
    let verdict: RiskVerdict;
    try {
      verdict = await rule.check(ctx);
    } catch (error) {
      if (isTransientBrokerError(error)) throw error;
      verdict = reject(`rule failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!verdict.ok) return { ok: false, rule: rule.name, reason: verdict.reason };
  }
  return { ok: true };
}

/** Notional of an intent: its notional, or qty x (limit price, else the reference price). */
export function intentNotional(intent: OrderIntent, price: string | null): Decimal | null {
  if (intent.notional !== undefined) return new Decimal(intent.notional);
  const p = intent.limitPrice ?? intent.stopPrice ?? price;
  if (p === null || p === undefined || intent.qty === undefined) return null;
  return new Decimal(intent.qty).times(p);
}
