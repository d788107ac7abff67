import { Decimal } from "@tradecron/core";
import { describe, expect, it } from "vitest";
import {
  evaluateTrigger,
  initialTriggerState,
  type PriceRule,
  type PriceTriggerState,
} from "./price-condition.js";

const rule = (over: Partial<PriceRule> = {}): PriceRule => ({
  condition: { crossesAbove: "100" },
  confirmations: 1,
  fire: "once",
  cooldownMs: 0,
  expiresAt: null,
  ...over,
});

/** Runs a series of prices (one check a minute) and returns the decision of each. */
function run(r: PriceRule, prices: (number | null)[], start: PriceTriggerState = initialTriggerState()) {
  let state = start;
  const decisions: string[] = [];
  prices.forEach((p, i) => {
    const out = evaluateTrigger(r, state, p === null ? null : new Decimal(p), i * 60_000);
    state = out.state;
    decisions.push(out.decision.action === "fire" ? "FIRE" : out.decision.reason);
  });
  return { decisions, state };
}

describe("price triggers: crosses", () => {
  it("fires when the price moves from at or below the level to above it", () => {
    expect(run(rule(), [98, 99, 101]).decisions).toEqual(["armed", "condition_false", "FIRE"]);
    expect(run(rule(), [100, 100.01]).decisions).toEqual(["armed", "FIRE"]);
  });

  it("armed above the level, it waits for a fresh cross instead of firing at once", () => {
    expect(run(rule(), [105, 106, 99, 101]).decisions).toEqual([
      "armed",
      "condition_false",
      "condition_false",
      "FIRE",
    ]);
  });

  it("the value seen when armed is kept in the state", () => {
    const { state } = run(rule(), [105]);
    expect(state).toMatchObject({ armedAt: 0, armedPrice: "105", last: "105", done: false });
  });

  it("crosses below mirrors crosses above", () => {
    expect(run(rule({ condition: { crossesBelow: "50" } }), [51, 50, 49.99]).decisions).toEqual([
      "armed",
      "condition_false",
      "FIRE",
    ]);
  });

  it("a cross needs N consecutive checks past the level; falling back voids it", () => {
    const r = rule({ confirmations: 3 });
    expect(run(r, [99, 101, 102, 103]).decisions).toEqual([
      "armed",
      "not_confirmed",
      "not_confirmed",
      "FIRE",
    ]);
    expect(run(r, [99, 101, 99, 102, 103, 104]).decisions).toEqual([
      "armed",
      "not_confirmed",
      "condition_false",
      "not_confirmed",
      "not_confirmed",
      "FIRE",
    ]);
  });

  it("once fires a single time", () => {
    const { decisions, state } = run(rule(), [99, 101, 99, 101]);
    expect(decisions).toEqual(["armed", "FIRE", "done", "done"]);
    expect(state.fired).toBe(1);
  });

  it("every time needs a fresh cross each time, and honours the cooldown", () => {
    const r = rule({ fire: "everyTime", cooldownMs: 3 * 60_000 });
    // 101 at t=1 fires; a cross at t=3 is inside the cooldown and is spent; t=5 crosses after it.
    expect(run(r, [99, 101, 99, 101, 99, 101, 102]).decisions).toEqual([
      "armed",
      "FIRE",
      "condition_false",
      "cooldown",
      "condition_false",
      "FIRE",
      "condition_false",
    ]);
  });
});

describe("price triggers: states, price gaps, expiry", () => {
  it("is above fires on the first check it holds, even at arming", () => {
    expect(run(rule({ condition: { above: "100" } }), [101]).decisions).toEqual(["FIRE"]);
    expect(run(rule({ condition: { below: "100" }, confirmations: 2 }), [99, 98]).decisions).toEqual([
      "not_confirmed",
      "FIRE",
    ]);
  });

  it("every time on a state fires again once the cooldown has passed", () => {
    const r = rule({ condition: { above: "100" }, fire: "everyTime", cooldownMs: 2 * 60_000 });
    expect(run(r, [101, 101, 101, 101, 101]).decisions).toEqual([
      "FIRE",
      "cooldown",
      "FIRE",
      "cooldown",
      "FIRE",
    ]);
  });

  it("a check without a price changes nothing", () => {
    const { decisions, state } = run(rule(), [99, null, 101]);
    expect(decisions).toEqual(["armed", "no_price", "FIRE"]);
    expect(state.checks).toBe(2);
  });

  it("expires, and never fires after", () => {
    const { decisions, state } = run(rule({ expiresAt: 2 * 60_000 }), [99, 99, 101]);
    expect(decisions).toEqual(["armed", "condition_false", "expired"]);
    expect(state.done).toBe(true);
  });
});
