/**
 * The order desk: the only path from an intent to a broker. It values the order, runs the risk
 * guard, submits with the intent's deterministic client order id, and records the order. Because
 * the id is deterministic and the broker's submit is idempotent on it, a retry, a crash between
 * submit and record, or a takeover by another instance finds the existing order instead of
 * placing a second one.
 *
 * It also keeps the records current from the broker's updates. Updates for one order are applied
 * one at a time and never move its status backwards (see order-progress.ts); an update that
 * arrives before its record exists waits in a bounded buffer and is applied right after submit
 * writes the record; `reconcile()` re-reads the stored open orders from the broker, for what no
 * update told (a restart, a stream that lost data).
 */

import {
  type Broker,
  type BrokerOrder,
  BrokerRejectedError,
  type CancelAllResult,
  FINAL_ORDER_STATUSES,
  type OrderUpdate,
} from "../broker/broker.js";
import { NotFoundError, toError } from "../errors.js";
import type { SchedulerEvents } from "../events.js";
import { Decimal } from "../orders/decimal.js";
import type { OrderIntent } from "../orders/intent.js";
import type { Counters } from "../scheduler/status.js";
import type { JsonValue, OrderRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import { advances, isFinalStatus, OPEN_ORDER_STATUSES } from "./order-progress.js";
import { PendingUpdates, type PendingUpdatesOptions } from "./pending-updates.js";
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
  /** Receives problems found in the background (an unmatched update evicted from the buffer). */
  report?: (error: Error, context: string) => void;
  /** Bounds of the buffer of updates that arrive before their order record (10,000 orders, 60 s). */
  pendingUpdates?: PendingUpdatesOptions;
}

/** What one {@link OrderDesk.reconcile} pass did. */
export interface ReconcileResult {
  /** True when the broker was not asked (none configured, or not connected). */
  skipped: boolean;
  /** Stored open orders of this broker compared with the broker's view. */
  checked: number;
  /** Of those, how many records changed. */
  updated: number;
  /** Of those, how many the broker does not know (left as they are, and not asked about again). */
  unknown: number;
  /** Buffered updates whose record had appeared since, and were applied. */
  pendingApplied: number;
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
/** Stored open orders one reconcile pass compares, newest first; the rest wait for the next pass. */
const RECONCILE_MAX_ORDERS = 10_000;
/**
 * Orders one pass looks up one by one (those no longer among the broker's open orders): few, so a
 * pass at start stays quick under a broker's rate limit (Alpaca: 200 requests a minute).
 */
const RECONCILE_MAX_LOOKUPS = 50;
/** Orders remembered as unknown to the broker (not looked up again by this desk). */
const MAX_UNKNOWN = 10_000;

/** True when `order` says nothing `record` does not already say. */
function sameState(record: OrderRecord, order: BrokerOrder): boolean {
  return (
    record.status === order.status &&
    record.brokerOrderId === order.id &&
    record.avgFillPrice === order.filledAvgPrice &&
    new Decimal(record.filledQty || 0).eq(order.filledQty || 0)
  );
}

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
  private readonly pending: PendingUpdates;
  /** The tail of the work queued per client order id (updates and submit's write, one at a time). */
  private readonly queues = new Map<string, Promise<void>>();
  /** Stored open orders the broker said it does not know: left alone by later reconcile passes. */
  private readonly unknownAtBroker = new Set<string>();

  /** @throws ValidationError naming a bad `pendingUpdates` bound. */
  constructor(private readonly deps: OrderDeskDeps) {
    this.pending = new PendingUpdates(deps.clock, deps.pendingUpdates ?? {}, (update, maxEntries) =>
      deps.report?.(
        new NotFoundError(
          "NOT_FOUND",
          `order update '${update.event}' for ${update.order.clientOrderId} dropped: no order record appeared while ${maxEntries} newer unmatched updates arrived`,
          {
            details: {
              clientOrderId: update.order.clientOrderId,
              brokerOrderId: update.order.id,
              event: update.event,
              status: update.order.status,
              maxEntries,
            },
          },
        ),
        "buffering order updates",
      ),
    );
  }

  /**
   * Runs `fn` after the work already queued for `clientOrderId`. Hand-written rather than a lock
   * library: a promise chain per key, removed when idle, is all it takes.
   */
  private serially<T>(clientOrderId: string, fn: () => Promise<T>): Promise<T> {
    const before = this.queues.get(clientOrderId) ?? Promise.resolve();
    const run = before.then(fn);
    const tail = run.then(
      () => {},
      () => {},
    );
    this.queues.set(clientOrderId, tail);
    void tail.then(() => {
      if (this.queues.get(clientOrderId) === tail) this.queues.delete(clientOrderId);
    });
    return run;
  }

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
      brokerConfigured: broker !== null,
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
   * Places one order. Throws when the broker is unreachable, not connected or throttles (the
   * caller retries with the same client order id); returns `rejected` for risk and broker
   * rejections, which are final.
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
      this.pending.take(req.clientOrderId);
      return this.rejected(req, "broker", error.message);
    }
    // Queued behind updates of this order that arrived meanwhile, so each finds the record or
    // waits in the buffer, and the one waiting is applied right after the record is written.
    return this.serially(req.clientOrderId, async () => {
      const record = orderRecordOf(order, req, broker.name, existing, clock.now());
      await storage.upsertOrder(record);
      this.deps.counters.ordersSubmitted++;
      this.deps.emit("order:submitted", { order: record });
      const early = this.pending.take(req.clientOrderId);
      const current = early ? await this.applyTo(record, early) : null;
      return { status: "submitted", clientOrderId: req.clientOrderId, order: current ?? record };
    });
  }

  /**
   * Applies a broker's order update (fill, cancel) to the stored record, unless the record already
   * says as much or more (a late or repeated update never moves an order backwards). An update
   * whose record does not exist yet waits for it (see {@link OrderDeskDeps.pendingUpdates}).
   */
  async applyUpdate(update: OrderUpdate): Promise<void> {
    const id = update.order.clientOrderId;
    await this.serially(id, async () => {
      const stored = await this.deps.storage.getOrder(id);
      if (stored) await this.applyTo(stored, update);
      else this.pending.add(update); // not written yet, or not one of ours
    });
  }

  /** Writes `update` over `stored` if it advances it; returns the new record, or null. Call serially. */
  private async applyTo(stored: OrderRecord, update: OrderUpdate): Promise<OrderRecord | null> {
    const order = update.order;
    if (!advances(stored, order) || sameState(stored, order)) return null;
    const next: OrderRecord = {
      ...stored,
      brokerOrderId: order.id,
      status: order.status,
      filledQty: order.filledQty,
      avgFillPrice: order.filledAvgPrice ?? stored.avgFillPrice,
      updatedAt: update.at,
    };
    await this.deps.storage.upsertOrder(next);
    this.deps.emit("order:updated", { order: next, event: update.event });
    return next;
  }

  /**
   * Brings the stored open orders up to date with the broker: applies buffered updates whose
   * record has appeared since (written by another instance or a slow storage), then compares each
   * stored open order of this broker with the broker's open orders, looking up one by one those
   * no longer open there. Changes are applied as updates with event `reconcile` (never
   * backwards). Call it when the broker connects and now and then: the Trading part of the
   * scheduler does, at start, in maintenance and after a reconnect that lost data.
   *
   * @throws what the broker throws (BrokerUnavailableError...); the next pass starts over.
   */
  async reconcile(): Promise<ReconcileResult> {
    const { storage, broker, clock } = this.deps;
    const result: ReconcileResult = { skipped: true, checked: 0, updated: 0, unknown: 0, pendingApplied: 0 };
    for (const id of this.pending.ids()) {
      await this.serially(id, async () => {
        const stored = await storage.getOrder(id);
        const update = stored ? this.pending.take(id) : null;
        if (stored && update && (await this.applyTo(stored, update))) result.pendingApplied++;
      });
    }
    if (!broker?.isConnected()) return result;
    result.skipped = false;
    const open: OrderRecord[] = [];
    let cursor: string | null = null;
    do {
      const page = await storage.listOrders({ status: [...OPEN_ORDER_STATUSES], limit: 500, cursor });
      for (const r of page.items) if (r.broker === broker.name && !isFinalStatus(r.status)) open.push(r);
      cursor = page.nextCursor;
    } while (cursor && open.length < RECONCILE_MAX_ORDERS);
    if (open.length === 0) return result;
    const live = new Map((await broker.getOpenOrders()).map((o) => [o.clientOrderId, o]));
    let lookups = 0;
    for (const record of open.slice(0, RECONCILE_MAX_ORDERS)) {
      let order = live.get(record.clientOrderId) ?? null;
      if (!order) {
        if (lookups >= RECONCILE_MAX_LOOKUPS || this.unknownAtBroker.has(record.clientOrderId)) continue;
        lookups++;
        order = await broker.getOrder({ clientOrderId: record.clientOrderId });
      }
      result.checked++;
      if (!order) {
        result.unknown++;
        if (this.unknownAtBroker.size >= MAX_UNKNOWN) this.unknownAtBroker.clear();
        this.unknownAtBroker.add(record.clientOrderId);
        continue;
      }
      const update: OrderUpdate = { event: "reconcile", order, at: clock.now() };
      const changed = await this.serially(record.clientOrderId, async () => {
        const stored = await storage.getOrder(record.clientOrderId);
        return stored ? this.applyTo(stored, update) : null;
      });
      if (changed) result.updated++;
    }
    return result;
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
