/**
 * Price-trigger evaluation, a pure step function: (rule, state, observation, now) -> (decision,
 * next state). The semantics follow the alert tools traders know (TradingView, IBKR conditions):
 *
 * - `above`/`below` are states: true whenever the price is strictly past the level;
 * - `crossesAbove`/`crossesBelow` are events: the price moves from not past the level to past it
 *   between two checks. The value seen when the trigger is armed is the first "previous" value, so
 *   a trigger armed while the price is already past its level waits for a fresh cross (back, then
 *   across again) instead of firing at once;
 * - confirmation: the condition must hold on `confirmations` consecutive checks (1 = on the tick);
 *   a cross is confirmed when the price stays past the level for that many checks from the cross,
 *   and falling back before that voids it;
 * - `once` fires a single time; `everyTime` fires again after `cooldownMs`, and a cross trigger
 *   needs a fresh cross for each fire;
 * - an `expiresAt` instant ends the trigger.
 */

import { Decimal, decimalString } from "@tradecron/core";

/** A condition on a price level. */
export type PriceCondition =
  | { crossesAbove: string }
  | { crossesBelow: string }
  | { above: string }
  | { below: string };

/** A validated price-trigger rule, as the evaluator needs it. */
export interface PriceRule {
  condition: PriceCondition;
  /** Consecutive checks the condition must hold (1: fire on the tick it becomes true). */
  confirmations: number;
  fire: "once" | "everyTime";
  /** After a fire, none until this much time has passed (`everyTime`). */
  cooldownMs: number;
  /** No fire at or after this instant; null: never expires. */
  expiresAt: number | null;
}

/** The trigger's persisted state. Decimals as strings; JSON-serialisable. */
export interface PriceTriggerState {
  /** The last price seen (the "previous" value for crosses); null before the first check. */
  last: string | null;
  /** Consecutive checks the condition (or a pending cross) has held. */
  streak: number;
  /** A cross happened and waits for its confirmations. */
  pendingCross: boolean;
  /** Fires so far. */
  fired: number;
  lastFiredAt: number | null;
  /** When the trigger saw its first price (armed). */
  armedAt: number | null;
  /** The price seen when armed. */
  armedPrice: string | null;
  /** Fired once, or expired: it never fires again. */
  done: boolean;
  /** Checks run. */
  checks: number;
}

/** A fresh, unarmed state. */
export function initialTriggerState(): PriceTriggerState {
  return {
    last: null,
    streak: 0,
    pendingCross: false,
    fired: 0,
    lastFiredAt: null,
    armedAt: null,
    armedPrice: null,
    done: false,
    checks: 0,
  };
}

/** What a check decided. `fire` means: submit the order now. */
export type TriggerDecision =
  | { action: "fire"; price: string }
  | {
      action: "wait";
      /** `armed` (first price seen), `condition_false`, `not_confirmed`, `cooldown`, `no_price`, `expired`, `done`. */
      reason: string;
      price: string | null;
    };

function levelOf(c: PriceCondition): { level: Decimal; direction: "above" | "below"; cross: boolean } {
  if ("crossesAbove" in c) return { level: new Decimal(c.crossesAbove), direction: "above", cross: true };
  if ("crossesBelow" in c) return { level: new Decimal(c.crossesBelow), direction: "below", cross: true };
  if ("above" in c) return { level: new Decimal(c.above), direction: "above", cross: false };
  return { level: new Decimal(c.below), direction: "below", cross: false };
}

/**
 * One check. `price` is the observed value (null when the source had none). Returns the decision
 * and the state to commit with this check's outcome.
 */
export function evaluateTrigger(
  rule: PriceRule,
  state: PriceTriggerState,
  price: Decimal | null,
  now: number,
): { decision: TriggerDecision; state: PriceTriggerState } {
  const next: PriceTriggerState = { ...state };
  const wait = (reason: string) => ({
    decision: { action: "wait" as const, reason, price: price === null ? null : decimalString(price) },
    state: next,
  });
  if (state.done) return wait("done");
  if (rule.expiresAt !== null && now >= rule.expiresAt) {
    next.done = true;
    return wait("expired");
  }
  if (price === null) return wait("no_price");
  next.checks = state.checks + 1;
  const { level, direction, cross } = levelOf(rule.condition);
  const past = (p: Decimal) => (direction === "above" ? p.gt(level) : p.lt(level));
  const previous = state.last === null ? null : new Decimal(state.last);
  next.last = decimalString(price);
  if (state.armedAt === null) {
    next.armedAt = now;
    next.armedPrice = decimalString(price);
  }

  // Does the condition hold on this check (for a cross: a cross now, or a pending one still past)?
  let holds: boolean;
  if (cross) {
    if (previous === null) {
      // Arming: the value seen now is the first "previous" value; a cross needs a move from it.
      next.streak = 0;
      next.pendingCross = false;
      return wait("armed");
    }
    const crossedNow = !past(previous) && past(price);
    if (state.pendingCross) holds = past(price);
    else holds = crossedNow;
    next.pendingCross = holds;
  } else {
    holds = past(price);
  }
  next.streak = holds ? state.streak + 1 : 0;
  if (!holds) {
    next.pendingCross = false;
    return wait("condition_false");
  }
  if (next.streak < rule.confirmations) return wait("not_confirmed");

  // Confirmed: fire, unless cooling down after the previous fire.
  if (state.lastFiredAt !== null && now - state.lastFiredAt < rule.cooldownMs) {
    // A cross seen during the cooldown is spent: the next fire needs a fresh one.
    if (cross) {
      next.pendingCross = false;
      next.streak = 0;
    }
    return wait("cooldown");
  }
  next.fired = state.fired + 1;
  next.lastFiredAt = now;
  next.streak = 0;
  next.pendingCross = false;
  if (rule.fire === "once") next.done = true;
  return { decision: { action: "fire", price: decimalString(price) }, state: next };
}
