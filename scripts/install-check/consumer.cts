// The CommonJS side of consumer.mts (type-checked, never run): the .d.cts files must compile too.
import { Decimal, intentNotional, parseOrderIntent, Scheduler } from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import { FileStorage } from "@tradecron/storage-fs";

const limit: Decimal = new Decimal(25_000);
const value: Decimal.Value = 0.5;
const intent = parseOrderIntent({ symbol: "MSFT", side: "sell", qty: value });
const notional: Decimal | null = intentNotional(intent, "410.10");
export const withinLimit: boolean = notional === null || notional.lte(limit);
export const scheduler = new Scheduler({
  storage: new FileStorage({ dir: "tradecron-data" }),
  clock: new TestClock("2026-01-05T14:30:00Z"),
});
