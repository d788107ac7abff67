import { describe, expect, it } from "vitest";
import { type GateInput, gateSignals, type TaggedSignal } from "./strategy-gate.js";

const sig = (symbol: string, confidence: number, over: Partial<TaggedSignal> = {}): TaggedSignal => ({
  symbol,
  side: "buy",
  confidence,
  strategy: "momentum",
  ...over,
});
const gate = (signals: TaggedSignal[], over: Partial<GateInput> = {}) =>
  gateSignals({
    signals,
    minConfidence: 0.5,
    maxConcurrentTrades: 3,
    positions: new Set(),
    entriesInFlight: new Set(),
    exitsInFlight: new Set(),
    mode: "running",
    ...over,
  });
const reasons = (r: ReturnType<typeof gate>) => r.rejected.map((x) => [x.signal.symbol, x.reason]);

describe("strategy gate", () => {
  it("drops signals below the minimum confidence", () => {
    const r = gate([sig("AAPL", 0.7), sig("MSFT", 0.49)]);
    expect(r.entries.map((s) => s.symbol)).toEqual(["AAPL"]);
    expect(reasons(r)).toEqual([["MSFT", "below_min_confidence"]]);
  });

  it("fills the free slots with the most confident signals", () => {
    const r = gate([sig("A", 0.6), sig("B", 0.9), sig("C", 0.8), sig("D", 0.7)], {
      positions: new Set(["X"]),
    });
    // 3 slots, one taken by the open position in X.
    expect(r.entries.map((s) => s.symbol)).toEqual(["B", "C"]);
    expect(reasons(r)).toEqual([
      ["D", "max_concurrent_trades"],
      ["A", "max_concurrent_trades"],
    ]);
  });

  it("counts entries in flight as taken slots, and allows one entry per symbol", () => {
    const r = gate([sig("AAPL", 0.9), sig("MSFT", 0.8), sig("TSLA", 0.7)], {
      entriesInFlight: new Set(["AAPL", "NVDA"]),
      positions: new Set(["MSFT"]),
    });
    expect(r.entries).toEqual([]);
    expect(reasons(r)).toEqual([
      ["AAPL", "symbol_in_flight"],
      ["MSFT", "symbol_in_flight"],
      ["TSLA", "max_concurrent_trades"],
    ]);
  });

  it("two strategies on one symbol: the more confident wins, the other is a duplicate", () => {
    const r = gate([sig("AAPL", 0.6, { strategy: "a" }), sig("AAPL", 0.8, { strategy: "b" })]);
    expect(r.entries.map((s) => s.strategy)).toEqual(["b"]);
    expect(reasons(r)).toEqual([["AAPL", "duplicate"]]);
  });

  it("paused lets exits through and no entry", () => {
    const r = gate([sig("AAPL", 0.9), sig("MSFT", 0.1, { action: "exit", side: "sell" })], {
      mode: "paused",
      positions: new Set(["MSFT"]),
    });
    expect(r.entries).toEqual([]);
    expect(r.exits.map((s) => s.symbol)).toEqual(["MSFT"]);
    expect(reasons(r)).toEqual([["AAPL", "paused"]]);
  });

  it("an exit needs a position and no exit already open", () => {
    const exit = (s: string) => sig(s, 1, { action: "exit", side: "sell" });
    const r = gate([exit("AAPL"), exit("MSFT"), exit("TSLA"), exit("TSLA")], {
      positions: new Set(["MSFT", "TSLA"]),
      exitsInFlight: new Set(["MSFT"]),
    });
    expect(r.exits.map((s) => s.symbol)).toEqual(["TSLA"]);
    expect(reasons(r)).toEqual([
      ["AAPL", "no_position"],
      ["MSFT", "exit_in_flight"],
      ["TSLA", "duplicate"],
    ]);
  });
});
