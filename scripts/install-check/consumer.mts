// Type-checked, never run, by scripts/check-install.mjs: an ESM app written against the installed
// packages under NodeNext with skipLibCheck off, so every shipped .d.ts must compile for it.
import {
  type Broker,
  Decimal,
  decimalString,
  type ErrorCode,
  type JobContext,
  MemoryStorage,
  type OrderIntentInput,
  PaperBroker,
  Scheduler,
  type SchedulerOptions,
  type Storage,
  TradecronError,
} from "@tradecron/core";
import { storageConformance, TestClock } from "@tradecron/core/testing";
import { FileStorage } from "@tradecron/storage-fs";
import { PostgresStorage, SqliteStorage } from "@tradecron/storage-sql";
import express from "express";

// decimal.js through core: a class to construct, a type to annotate, its Value type.
const price: Decimal = new Decimal("101.25");
const qty: Decimal.Value = "10";
export const notional: string = decimalString(price.times(qty));
export const max: Decimal = Decimal.max(price, 100);

const broker: Broker = new PaperBroker();
const options: SchedulerOptions = {
  storage: new MemoryStorage(),
  broker,
  clock: new TestClock("2026-01-05T14:30:00Z"),
};
const scheduler = new Scheduler(options);
scheduler.register("morning-routine", async (ctx: JobContext) => {
  ctx.signal.throwIfAborted();
  const intent: OrderIntentInput = { symbol: "AAPL", side: "buy", qty: "10", confidence: 0.7 };
  const outcome = await ctx.propose(intent);
  return { approvalId: outcome.approvalId, fire: ctx.fire.idempotencyKey };
});
scheduler.on("run:failed", ({ execution, error }) => {
  console.error(execution.scheduleId, error.message);
});

export function codeOf(error: unknown): ErrorCode | undefined {
  return error instanceof TradecronError ? error.code : undefined;
}

export const storages: Storage[] = [
  new FileStorage({ dir: "tradecron-data" }),
  new SqliteStorage({ path: "tradecron.db" }),
  new PostgresStorage({ connectionString: "postgres://localhost/tradecron" }),
];
export const suite: typeof storageConformance = storageConformance;

const app = express();
app.get("/status", async (_req, res) => {
  res.json(await scheduler.status());
});

export { app };
