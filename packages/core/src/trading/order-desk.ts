/**
 * The order desk: the only path from an intent to a broker. It values the order, runs the risk
 * guard, submits with the intent's deterministic client order id, and records the order. Because
 * the id is deterministic and the broker's submit is idempotent on it, a retry, a crash between
 * submit and record, or a takeover by another instance finds the existing order instead of
 * placing a second one.
 */

import {
  type Broker,
  type BrokerOrder,
  BrokerRejectedError,
  type CancelAllResult,
  FINAL_ORDER_STATUSES,
  type OrderUpdate,
} from "../broker/broker.js";
import { toError } from "../errors.js";
import type { SchedulerEvents } from "../events.js";
import { Decimal } from "../orders/decimal.js";
import type { OrderIntent } from "../orders/intent.js";
import type { Counters } from "../scheduler/status.js";
import type { JsonValue, OrderRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import {
  evaluateRisk,
  intentNotional,
  type RiskContext,
  type RiskOutcome,
  type RiskPhase,
  type RiskRule,
} from "./risk.js";

/** Answers whether the market is open at an instant (a MarketCalendar fits). */
export interface MarketHours {
  isOpen(instant: number): boolean;
}

/** A source of current prices, used to value market orders (PaperBroker has one). */
export type PriceSource = (symbol: string) => string | null | Promise<string | null>;

/** What the desk needs. */
export interface OrderDeskDeps {
  storage: Storage;
  broker: Broker | null;
  clock: Clock;
  counters: Counters;
  rules: readonly RiskRule[];
  prices: PriceSource | null;
  marketHours: MarketHours | null;
  emit<K extends keyof SchedulerEvents>(name: K, payload: SchedulerEvents[K]): void;
}

/** One order to place. */
export interface DeskRequest {
  intent: OrderIntent;
  clientOrderId: string;
  scheduleId: string | null;
  executionId: string | null;
  approvalId: string | null;
  /** Schedule-specific rules checked after the global ones. */
  extraRules?: readonly RiskRule[];
  /** Skip the risk check (the approval path has just run it). */
  checked?: boolean;
}

/** What happened to a submission. */
export type SubmitResult =
  | { status: "submitted"; clientOrderId: string; order: OrderRecord }
  | { status: "rejected"; clientOrderId: string; rule: string; reason: string };

const DAY_MS = 86_400_000;

function orderRecordOf(
  order: BrokerOrder,
  req: DeskRequest,
  broker: string,
  previous: OrderRecord | null,
  now: number,
): OrderRecord {
  return {
    clientOrderId: req.clientOrderId,
    brokerOrderId: order.id,
    broker,
    scheduleId: req.scheduleId,
    executionId: req.executionId,
    approvalId: req.approvalId,
    symbol: order.symbol,
    side: order.side,
    intent: req.intent as unknown as JsonValue,
    status: order.status,
    filledQty: order.filledQty,
    avgFillPrice: order.filledAvgPrice,
    submittedAt: previous?.submittedAt ?? order.submittedAt ?? now,
    updatedAt: now,
    error: null,
  };
}

/** Routes intents through the risk guard to the broker and keeps the order records. */
export class OrderDesk {
  constructor(private readonly deps: OrderDeskDeps) {}

  /** The broker in use, or null. */
  get broker(): Broker | null {
    return this.deps.broker;
  }

  private async priceOf(intent: OrderIntent): Promise<string | null> {
    if (intent.referencePrice !== undefined) return intent.referencePrice;
    if (!this.deps.prices) return null;
    try {
      return await this.deps.prices(intent.symbol);
    } catch {
      return null;
    }
  }

  /** Notional submitted since the start of the current UTC day, from the stored orders. */
  private async dailyNotional(now: number): Promise<Decimal> {
    const from = Math.floor(now / DAY_MS) * DAY_MS;
    let total = new Decimal(0);
    let cursor: string | null = null;
    do {
      const page = await this.deps.storage.listOrders({ from, limit: 1000, cursor });
      for (const order of page.items) {
        if (order.status === "rejected") continue;
        const intent = order.intent as unknown as OrderIntent;
        const filled = new Decimal(order.filledQty || 0);
        const value =
          filled.gt(0) && order.avgFillPrice !== null
            ? filled.times(order.avgFillPrice)
            : intentNotional(intent, intent.referencePrice ?? null);
        if (value) total = total.plus(value);
      }
      cursor = page.nextCursor;
    } while (cursor);
    return total;
  }

  /** Builds the context the rules see; broker data is fetched once, on first use. */
  async riskContext(intent: OrderIntent, scheduleId: string | null): Promise<RiskContext> {
    const broker = this.deps.broker;
    const now = this.deps.clock.now();
    const price = await this.priceOf(intent);
    const once = <T>(load: () => Promise<T>) => {
      let p: Promise<T> | null = null;
      return () => {
        p ??= load();
        return p;
      };
    };
    return {
      intent,
      scheduleId,
      notional: intentNotional(intent, price),
      dailyNotional: once(() => this.dailyNotional(now)),
      brokerConnected: broker?.isConnected() ?? false,
      account: once(async () => (broker ? broker.getAccount() : null)),
      positions: once(async () => (broker ? broker.getPositions() : [])),
      openOrders: once(async () => (broker ? broker.getOpenOrders() : [])),
      marketOpen: once(async () => (this.deps.marketHours ? this.deps.marketHours.isOpen(now) : null)),
      now,
    };
  }

  /** Runs the global rules, then `extra`, for `phase`. */
  async check(
    intent: OrderIntent,
    scheduleId: string | null,
    extra: readonly RiskRule[] = [],
    phase: RiskPhase = "submit",
  ): Promise<RiskOutcome> {
    const ctx = await this.riskContext(intent, scheduleId);
    return evaluateRisk([...this.deps.rules, ...extra], ctx, phase);
  }

  private rejected(
    req: DeskRequest,
    rule: string,
    reason: string,
    details: Record<string, unknown> = {},
  ): SubmitResult {
    this.deps.counters.ordersRejected++;
    this.deps.emit("order:rejected", {
      clientOrderId: req.clientOrderId,
      scheduleId: req.scheduleId,
      symbol: req.intent.symbol,
      rule,
      reason,
      ...details,
    });
    return { status: "rejected", clientOrderId: req.clientOrderId, rule, reason };
  }

  /**
   * Places one order. Throws when the broker is unreachable or throttles (the caller retries with
   * the same client order id); returns `rejected` for risk and broker rejections, which are final.
   */
  async submit(req: DeskRequest): Promise<SubmitResult> {
    const { storage, clock } = this.deps;
    const broker = this.deps.broker;
    const existing = await storage.getOrder(req.clientOrderId);
    if (existing?.brokerOrderId) {
      return { status: "submitted", clientOrderId: req.clientOrderId, order: existing };
    }
    if (existing?.status === "rejected") {
      return {
        status: "rejected",
        clientOrderId: req.clientOrderId,
        rule: "broker",
        reason: existing.error?.message ?? "rejected",
      };
    }
    if (!req.checked) {
      const outcome = await this.check(req.intent, req.scheduleId, req.extraRules);
      if (!outcome.ok) return this.rejected(req, outcome.rule, outcome.reason);
    }
    if (!broker) return this.rejected(req, "broker_configured", "no broker is configured");
    let order: BrokerOrder;
    try {
      order = await broker.submitOrder({ clientOrderId: req.clientOrderId, intent: req.intent });
    } catch (error) {
      if (!(error instanceof BrokerRejectedError)) throw error;
      const now = clock.now();
      await storage.upsertOrder({
        clientOrderId: req.clientOrderId,
        brokerOrderId: null,
        broker: broker.name,
        scheduleId: req.scheduleId,
        executionId: req.executionId,
        approvalId: req.approvalId,
        symbol: req.intent.symbol,
        side: req.intent.side,
        intent: req.intent as unknown as JsonValue,
        status: "rejected",
        filledQty: "0",
        avgFillPrice: null,
        submittedAt: now,
        updatedAt: now,
        error: { message: error.message, code: error.code, name: error.name },
      });
      return this.rejected(req, "broker", error.message);
    }
    const record = orderRecordOf(order, req, broker.name, existing, clock.now());
    await storage.upsertOrder(record);
    this.deps.counters.ordersSubmitted++;
    this.deps.emit("order:submitted", { order: record });
    return { status: "submitted", clientOrderId: req.clientOrderId, order: record };
  }

  /** Applies a broker's order update (fill, cancel) to the stored record. */
  async applyUpdate(update: OrderUpdate): Promise<void> {
    const stored = await this.deps.storage.getOrder(update.order.clientOrderId);
    if (!stored) return; // not one of ours
    const next: OrderRecord = {
      ...stored,
      brokerOrderId: update.order.id,
      status: update.order.status,
      filledQty: update.order.filledQty,
      avgFillPrice: update.order.filledAvgPrice,
      updatedAt: update.at,
    };
    await this.deps.storage.upsertOrder(next);
    this.deps.emit("order:updated", { order: next, event: update.event });
  }

  /** Cancels every open order at the broker (pause-all's option). Returns how many were cancelled. */
  async cancelOpenOrders(): Promise<CancelAllResult> {
    const broker = this.deps.broker;
    if (!broker) return { cancelled: 0, failed: [] };
    if (broker.cancelAllOrders) return broker.cancelAllOrders();
    const open = await broker.getOpenOrders();
    let cancelled = 0;
    const failed: { id: string; error: string }[] = [];
    for (const order of open) {
      if (FINAL_ORDER_STATUSES.includes(order.status)) continue;
      try {
        await broker.cancelOrder(order.id);
        cancelled++;
      } catch (error) {
        failed.push({ id: order.id, error: toError(error).message });
      }
    }
    return { cancelled, failed };
  }
}
