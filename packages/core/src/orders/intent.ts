/**
 * Order intents: what a handler asks for, validated with zod, before any broker sees it. An
 * intent carries the order (symbol, side, size, type, prices) and the trading metadata a human
 * approver needs (rationale, confidence, risk level, supporting data, strategy).
 */

import { createHash } from "node:crypto";
import { z } from "zod";
import { jsonDataSchema, parseInput } from "../validation.js";
import { decimalSchema, positiveDecimalSchema } from "./decimal.js";

/** Order types every broker adapter understands. */
export const ORDER_TYPES = ["market", "limit", "stop", "stop_limit", "trailing_stop"] as const;
/** Time-in-force values. */
export const TIME_IN_FORCE = ["day", "gtc", "opg", "cls", "ioc", "fok"] as const;

const intentObject = z.strictObject({
  symbol: z
    .string()
    .trim()
    .min(1)
    .max(32)
    .regex(/^[A-Za-z0-9.\-/ ]+$/, "must be a ticker symbol (letters, digits, '.', '-', '/')")
    .transform((s) => s.toUpperCase()),
  side: z.enum(["buy", "sell"]),
  qty: positiveDecimalSchema.optional(),
  notional: positiveDecimalSchema.optional(),
  type: z.enum(ORDER_TYPES).default("market"),
  timeInForce: z.enum(TIME_IN_FORCE).default("day"),
  limitPrice: positiveDecimalSchema.optional(),
  stopPrice: positiveDecimalSchema.optional(),
  trailPercent: positiveDecimalSchema.optional(),
  trailPrice: positiveDecimalSchema.optional(),
  extendedHours: z.boolean().default(false),
  bracket: z
    .strictObject({
      takeProfit: z.strictObject({ limitPrice: positiveDecimalSchema }),
      stopLoss: z.strictObject({
        stopPrice: positiveDecimalSchema,
        limitPrice: positiveDecimalSchema.optional(),
      }),
    })
    .optional(),
  rationale: z.string().max(5000).optional(),
  confidence: z.number().min(0).max(1).optional(),
  riskLevel: z.enum(["low", "medium", "high"]).default("medium"),
  supportingData: jsonDataSchema.optional(),
  strategy: z.string().max(200).optional(),
  /** The price the strategy saw; values market orders for the risk guard when no price source is set. */
  referencePrice: positiveDecimalSchema.optional(),
});

/** Intent schema with the cross-field rules (size, prices per type). */
export const orderIntentSchema = intentObject.superRefine((o, ctx) => {
  const issue = (path: string, message: string) =>
    ctx.addIssue({ code: "custom", path: [path], message, params: { code: "VALIDATION" } });
  if ((o.qty === undefined) === (o.notional === undefined)) {
    issue(o.qty === undefined ? "qty" : "notional", "give exactly one of qty and notional");
  }
  if (o.notional !== undefined && o.type !== "market")
    issue("notional", "notional orders must be market orders");
  const needs = {
    limit: o.type === "limit" || o.type === "stop_limit",
    stop: o.type === "stop" || o.type === "stop_limit",
  };
  if (needs.limit && o.limitPrice === undefined) issue("limitPrice", `a ${o.type} order needs a limitPrice`);
  if (!needs.limit && o.limitPrice !== undefined)
    issue("limitPrice", `a ${o.type} order takes no limitPrice`);
  if (needs.stop && o.stopPrice === undefined) issue("stopPrice", `a ${o.type} order needs a stopPrice`);
  if (!needs.stop && o.stopPrice !== undefined) issue("stopPrice", `a ${o.type} order takes no stopPrice`);
  const trailing = o.type === "trailing_stop";
  if (trailing && (o.trailPercent === undefined) === (o.trailPrice === undefined)) {
    issue("trailPercent", "a trailing_stop order needs exactly one of trailPercent and trailPrice");
  }
  if (!trailing && (o.trailPercent !== undefined || o.trailPrice !== undefined)) {
    issue(o.trailPercent !== undefined ? "trailPercent" : "trailPrice", `a ${o.type} order takes no trail`);
  }
  if (o.extendedHours && !(o.type === "limit" && o.timeInForce === "day")) {
    issue("extendedHours", "extended-hours orders must be day limit orders");
  }
});

/** A validated order intent (decimals as canonical strings). */
export type OrderIntent = z.output<typeof orderIntentSchema>;
/** What handlers pass to `propose`/`submit`. Decimals may be strings or numbers. */
export type OrderIntentInput = z.input<typeof orderIntentSchema>;

/** Validates an intent; throws a ValidationError naming the field (`qty`, `limitPrice`, ...). */
export function parseOrderIntent(input: unknown): OrderIntent {
  return parseInput(orderIntentSchema, input, "order intent", "", "intent");
}

/** Checks a decimal string field of a parsed intent exists (for callers that need a number). */
export const anyDecimal = decimalSchema;

/**
 * The deterministic client order id of intent `index` of a fire: the same on every attempt,
 * retry and takeover of that fire, so brokers can refuse the duplicate. 35 characters of
 * `[A-Za-z0-9_-]` (brokers allow 48).
 */
export function clientOrderId(idempotencyKey: string, index: number): string {
  const digest = createHash("sha256").update(`${idempotencyKey}#${index}`).digest("base64url");
  return `tc-${digest.slice(0, 32)}`;
}
