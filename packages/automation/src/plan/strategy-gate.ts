/**
 * The strategy loop's gate, a pure function: which signals become orders. Entries need the
 * minimum confidence, a free slot under the maximum of concurrent trades (open positions plus
 * entries still in flight), and no open trade or entry in flight on their symbol (one per symbol,
 * freqtrade's rule); the best signals take the free slots. In the paused state no entry passes
 * (freqtrade's PAUSED). Exits pass whenever there is a position to exit and no exit already in
 * flight: they are never held back by confidence, slots or the paused state.
 */

import type { JsonValue } from "@tradecron/core";

/** A strategy's signal. Decimals as strings or numbers. */
export interface Signal {
  symbol: string;
  side: "buy" | "sell";
  /** 0..1. */
  confidence: number;
  /** `entry` (default) opens a trade; `exit` closes the position in `symbol`. */
  action?: "entry" | "exit";
  /** Size: one of qty or notional; without either the loop's `sizing` decides. An exit defaults to the whole position. */
  qty?: string | number;
  notional?: string | number;
  type?: "market" | "limit";
  limitPrice?: string | number;
  rationale?: string;
  supportingData?: JsonValue;
}

/** A signal with the strategy that produced it. */
export interface TaggedSignal extends Signal {
  strategy: string;
}

/** Why a signal did not become an order. */
export type GateReason =
  | "below_min_confidence"
  | "max_concurrent_trades"
  | "symbol_in_flight"
  | "duplicate"
  | "paused"
  | "no_position"
  | "exit_in_flight";

/** What the gate sees. */
export interface GateInput {
  signals: readonly TaggedSignal[];
  minConfidence: number;
  maxConcurrentTrades: number;
  /** Symbols with an open position. */
  positions: ReadonlySet<string>;
  /** Symbols with an entry order still open at the broker. */
  entriesInFlight: ReadonlySet<string>;
  /** Symbols with an exit order still open at the broker. */
  exitsInFlight: ReadonlySet<string>;
  /** In `paused` no entry passes; exits do. */
  mode: "running" | "paused";
}

/** What passes, and what does not with the reason. */
export interface GateResult {
  entries: TaggedSignal[];
  exits: TaggedSignal[];
  rejected: { signal: TaggedSignal; reason: GateReason; detail: string }[];
}

/** Applies the gate. Order of the result: exits first (by symbol), then entries by confidence. */
export function gateSignals(input: GateInput): GateResult {
  const rejected: GateResult["rejected"] = [];
  const exits: TaggedSignal[] = [];
  const exitSeen = new Set<string>();
  const candidates: TaggedSignal[] = [];
  for (const signal of input.signals) {
    const symbol = signal.symbol;
    if (signal.action === "exit") {
      if (!input.positions.has(symbol)) {
        rejected.push({ signal, reason: "no_position", detail: `no open position in ${symbol}` });
      } else if (input.exitsInFlight.has(symbol) || exitSeen.has(symbol)) {
        rejected.push({
          signal,
          reason: exitSeen.has(symbol) ? "duplicate" : "exit_in_flight",
          detail: `an exit of ${symbol} is already ${exitSeen.has(symbol) ? "planned" : "open"}`,
        });
      } else {
        exitSeen.add(symbol);
        exits.push(signal);
      }
      continue;
    }
    if (input.mode === "paused") {
      rejected.push({ signal, reason: "paused", detail: "the loop is paused: exits only" });
    } else if (signal.confidence < input.minConfidence) {
      rejected.push({
        signal,
        reason: "below_min_confidence",
        detail: `confidence ${signal.confidence} is below ${input.minConfidence}`,
      });
    } else if (input.positions.has(symbol) || input.entriesInFlight.has(symbol)) {
      rejected.push({
        signal,
        reason: "symbol_in_flight",
        detail: `${symbol} has ${input.positions.has(symbol) ? "an open position" : "an entry in flight"}`,
      });
    } else {
      candidates.push(signal);
    }
  }
  // One entry per symbol: the most confident signal wins; the strategy order breaks ties.
  const ranked = candidates
    .map((signal, i) => ({ signal, i }))
    .sort((a, b) => b.signal.confidence - a.signal.confidence || a.i - b.i);
  const chosen = new Map<string, TaggedSignal>();
  for (const { signal } of ranked) {
    if (chosen.has(signal.symbol)) {
      rejected.push({
        signal,
        reason: "duplicate",
        detail: `a stronger signal for ${signal.symbol} was chosen`,
      });
    } else {
      chosen.set(signal.symbol, signal);
    }
  }
  const open = new Set([...input.positions, ...input.entriesInFlight]).size;
  let free = Math.max(0, input.maxConcurrentTrades - open);
  const entries: TaggedSignal[] = [];
  for (const signal of chosen.values()) {
    if (free > 0) {
      entries.push(signal);
      free--;
    } else {
      rejected.push({
        signal,
        reason: "max_concurrent_trades",
        detail: `${input.maxConcurrentTrades} trade(s) are open or in flight`,
      });
    }
  }
  exits.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  return { entries, exits, rejected };
}
