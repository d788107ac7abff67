/**
 * What we know of IB's orders, built from everything TWS tells us (openOrder, orderStatus,
 * completedOrder, execDetails) and from our own placements. It outlives connections: after a
 * reconnect the same book is refreshed, not rebuilt.
 *
 * Identity: IB's permId is the one id that is unique and stable across sessions and clients, so
 * it is the broker order id we report. An order id (per client) is only how our own client
 * addresses its orders, and it can repeat after a TWS restart rolls nextValidId back; completed
 * orders do not even carry one. Until TWS assigns the permId, a fresh placement is found by
 * (client id, order id).
 *
 * IB repeats openOrder and orderStatus messages and may resend executions: updates are applied
 * only when they change something (status, filled quantity, average price), executions once per
 * execId, and a final status never goes back to a working one.
 */

import type { Contract, Execution, Order, OrderState } from "@stoqey/ib";
import {
  type BrokerOrder,
  type BrokerOrderStatus,
  type Clock,
  Decimal,
  decimalString,
  FINAL_ORDER_STATUSES,
} from "@tradecron/core";
import { describeIbOrder, type IbOrderFields, ibDecimal, statusOf, tickerOf } from "./order-mapping.js";

/** An orderStatus as reported (the fields we use). */
export interface OrderStatusReport {
  orderId: number;
  status: string;
  filled: number | undefined;
  avgFillPrice: number | undefined;
  permId: number | undefined;
  clientId: number | undefined;
}

/** One order as we know it. */
export interface BookEntry {
  /** IB's permanent id; 0 until TWS has assigned it. */
  permId: number;
  /** Our client's id for the order; null when only known from completed orders. */
  orderId: number | null;
  /** The API client that placed it (0 for TWS itself); null when unknown. */
  clientId: number | null;
  /** The client order id we placed it with (empty for orders placed by hand). */
  orderRef: string;
  account: string;
  /** The ticker (`BRK.B`, not IB's `BRK B`). */
  symbol: string;
  fields: IbOrderFields;
  ibStatus: string;
  completedStatus: string;
  filled: Decimal;
  avgFillPrice: string | null;
  /** IB refused the placement (code and message), when it did. */
  rejection: { code: number; message: string } | null;
  status: BrokerOrderStatus;
  submittedAt: number;
  updatedAt: number;
  /** Executions counted for it (by execId). */
  execIds: string[];
}

const key = (clientId: number | null, orderId: number | null) => `${clientId ?? "?"}:${orderId ?? "?"}`;

function isFinal(status: BrokerOrderStatus): boolean {
  return FINAL_ORDER_STATUSES.includes(status);
}

function fieldsOf(order: Order): IbOrderFields {
  return {
    action: String(order.action ?? ""),
    orderType: String(order.orderType ?? ""),
    tif: String(order.tif ?? ""),
    totalQuantity: order.totalQuantity,
    lmtPrice: order.lmtPrice,
    auxPrice: order.auxPrice,
    trailStopPrice: order.trailStopPrice,
    trailingPercent: order.trailingPercent,
    outsideRth: order.outsideRth === true,
  };
}

/** The order index; calls `onChange` when an order's status, fill or price changes. */
export class OrderBook {
  private readonly byPerm = new Map<number, BookEntry>();
  private readonly byClientOrder = new Map<string, BookEntry>();
  private readonly byRef = new Map<string, BookEntry[]>();
  private readonly execIds = new Set<string>();
  private readonly highest = new Map<number, number>();

  constructor(
    private readonly clock: Clock,
    private readonly onChange: (entry: BookEntry) => void,
  ) {}

  /** The highest order id seen for `clientId` (placed, reported open, or executed), or 0. */
  highestOrderId(clientId: number): number {
    return this.highest.get(clientId) ?? 0;
  }

  /** Records that `orderId` is taken for `clientId`, even if no order came of it (IB said 103). */
  noteOrderId(clientId: number, orderId: number): void {
    if (orderId > (this.highest.get(clientId) ?? 0)) this.highest.set(clientId, orderId);
  }

  byPermId(permId: number): BookEntry | null {
    return this.byPerm.get(permId) ?? null;
  }

  /**
   * The order IB knows under this client order id (in `account`, when given: another deployment
   * trading another account of the login may use the same schedule ids): a working one first,
   * else the earliest. A placement TWS has not acknowledged yet does not count: it may never
   * have reached TWS.
   */
  byOrderRef(orderRef: string, account?: string): BookEntry | null {
    const list = (this.byRef.get(orderRef) ?? []).filter(
      (e) => OrderBook.confirmed(e) && (account === undefined || e.account === "" || e.account === account),
    );
    return list.find((e) => !isFinal(e.status)) ?? list[0] ?? null;
  }

  /** Whether IB has told us about the order (a permId, or a rejection). */
  static confirmed(entry: BookEntry): boolean {
    return entry.permId !== 0 || entry.rejection !== null;
  }

  /** Every order with this client order id (more than one would be a duplicate). */
  allWithRef(orderRef: string): readonly BookEntry[] {
    return this.byRef.get(orderRef) ?? [];
  }

  byClientOrderId(clientId: number, orderId: number): BookEntry | null {
    return this.byClientOrder.get(key(clientId, orderId)) ?? null;
  }

  /** Every order known, in no particular order. */
  entries(): BookEntry[] {
    const seen = new Set<BookEntry>([...this.byPerm.values(), ...this.byClientOrder.values()]);
    return [...seen];
  }

  // ---- our placements ------------------------------------------------------------------------

  /** A placement we are about to send: known by (client id, order id) until TWS acknowledges it. */
  placing(input: {
    clientId: number;
    orderId: number;
    orderRef: string;
    account: string;
    symbol: string;
    order: Order;
  }): BookEntry {
    const entry = this.blank({
      orderId: input.orderId,
      clientId: input.clientId,
      orderRef: input.orderRef,
      account: input.account,
      symbol: input.symbol,
      fields: fieldsOf(input.order),
      ibStatus: "ApiPending",
    });
    this.noteOrderId(input.clientId, input.orderId);
    this.byClientOrder.set(key(input.clientId, input.orderId), entry);
    this.indexRef(entry);
    return entry;
  }

  /** Forgets a placement that did not happen (IB refused the order id). */
  discard(entry: BookEntry): void {
    if (this.byClientOrder.get(key(entry.clientId, entry.orderId)) === entry) {
      this.byClientOrder.delete(key(entry.clientId, entry.orderId));
    }
    const list = this.byRef.get(entry.orderRef);
    if (list) {
      const rest = list.filter((e) => e !== entry);
      if (rest.length > 0) this.byRef.set(entry.orderRef, rest);
      else this.byRef.delete(entry.orderRef);
    }
    if (entry.permId && this.byPerm.get(entry.permId) === entry) this.byPerm.delete(entry.permId);
  }

  /** IB refused the order (201 and the like): it is final, and a resubmit gets the same answer. */
  reject(entry: BookEntry, code: number, message: string): void {
    // No longer addressable by order id: a later order reported with the same id is another one.
    if (this.byClientOrder.get(key(entry.clientId, entry.orderId)) === entry) {
      this.byClientOrder.delete(key(entry.clientId, entry.orderId));
    }
    entry.rejection = { code, message };
    entry.ibStatus = "Inactive";
    this.update(entry, () => {});
  }

  // ---- what TWS reports ----------------------------------------------------------------------

  applyOpenOrder(orderId: number, contract: Contract, order: Order, state: OrderState): BookEntry {
    const permId = order.permId ?? 0;
    const clientId = order.clientId ?? null;
    const entry =
      this.find(permId, clientId, orderId) ?? this.create(permId, clientId, orderId, contract, order);
    this.update(entry, () => {
      if (permId && !entry.permId) this.setPermId(entry, permId);
      if (entry.orderId === null && clientId !== null) {
        entry.orderId = orderId;
        entry.clientId = clientId;
        this.byClientOrder.set(key(clientId, orderId), entry);
        if (orderId > 0) this.noteOrderId(clientId, orderId);
      }
      entry.fields = fieldsOf(order);
      if (order.orderRef && !entry.orderRef) {
        entry.orderRef = order.orderRef;
        this.indexRef(entry);
      }
      if (order.account) entry.account = order.account;
      // openOrder carries no fill quantity or price: a Filled one waits for the orderStatus
      // that always follows it, so the update reports the fill with its quantity and price.
      const status = String(state.status ?? "");
      if (status !== "Filled" || entry.filled.gt(0)) this.setStatus(entry, status);
    });
    return entry;
  }

  applyOrderStatus(report: OrderStatusReport): BookEntry | null {
    const { orderId, status, filled, avgFillPrice, permId, clientId } = report;
    const entry = this.find(permId ?? 0, clientId ?? null, orderId);
    if (!entry) return null; // an openOrder always comes first; nothing to attach this to yet
    this.update(entry, () => {
      if (permId && !entry.permId) this.setPermId(entry, permId);
      this.setStatus(entry, status);
      if (filled !== undefined && Number.isFinite(filled)) entry.filled = Decimal.max(entry.filled, filled);
      const avg = ibDecimal(avgFillPrice, true);
      if (avg !== null && entry.filled.gt(0)) entry.avgFillPrice = avg;
    });
    return entry;
  }

  applyCompletedOrder(contract: Contract, order: Order, state: OrderState): BookEntry {
    const permId = order.permId ?? 0;
    const entry =
      (permId ? this.byPerm.get(permId) : undefined) ?? this.create(permId, null, null, contract, order);
    this.update(entry, () => {
      entry.fields = fieldsOf(order);
      if (order.account) entry.account = order.account;
      entry.completedStatus = state.completedStatus ?? "";
      this.setStatus(entry, String(state.status ?? ""), true);
      if (order.filledQuantity !== undefined) entry.filled = Decimal.max(entry.filled, order.filledQuantity);
    });
    return entry;
  }

  /** Applies an execution once (by execId); returns false for one seen before. */
  applyExecution(contract: Contract, execution: Execution): boolean {
    const execId = execution.execId;
    if (!execId || this.execIds.has(execId)) return false;
    this.execIds.add(execId);
    const permId = execution.permId ?? 0;
    const clientId = execution.clientId ?? null;
    const orderId = execution.orderId ?? null;
    if (clientId !== null && orderId !== null && orderId > 0) this.noteOrderId(clientId, orderId);
    let entry = this.find(permId, clientId, orderId);
    if (!entry) {
      // IB knows this order only through its fills (say, completed orders were not asked for):
      // it exists, which is what idempotency needs to know.
      entry = this.create(permId, clientId, orderId, contract, {
        action: execution.side === "SLD" ? "SELL" : "BUY",
        orderType: "MKT",
        totalQuantity: execution.cumQty,
        orderRef: execution.orderRef,
        account: execution.acctNumber,
      } as Order);
      entry.ibStatus = "Submitted";
    }
    const found = entry;
    found.execIds.push(execId);
    this.update(found, () => {
      if (execution.cumQty !== undefined) found.filled = Decimal.max(found.filled, execution.cumQty);
      const avg = ibDecimal(execution.avgPrice, true);
      if (avg !== null) found.avgFillPrice = avg;
    });
    return true;
  }

  /**
   * Forgets final orders last updated before `before`, so a process left running for months does
   * not keep every order it ever saw. IB still reports them among completed orders for as long as
   * it keeps them, and a reconcile brings them back when asked about.
   */
  prune(before: number): number {
    let removed = 0;
    for (const entry of this.entries()) {
      if (!isFinal(entry.status) || entry.updatedAt >= before) continue;
      this.discard(entry);
      for (const id of entry.execIds) this.execIds.delete(id);
      removed++;
    }
    return removed;
  }

  /** The broker-neutral view of an entry (a fresh object every time). */
  snapshot(entry: BookEntry): BrokerOrder {
    const described = describeIbOrder(entry.fields);
    return {
      id: entry.permId ? String(entry.permId) : `pending-${entry.clientId ?? 0}-${entry.orderId ?? 0}`,
      clientOrderId: entry.orderRef,
      symbol: entry.symbol,
      ...described,
      notional: null,
      status: entry.status,
      filledQty: decimalString(entry.filled),
      filledAvgPrice: entry.filled.gt(0) ? entry.avgFillPrice : null,
      submittedAt: entry.submittedAt,
      updatedAt: entry.updatedAt,
      legs: [],
    };
  }

  // ---- internals -------------------------------------------------------------------------------

  private find(permId: number, clientId: number | null, orderId: number | null): BookEntry | null {
    if (permId) {
      const byPerm = this.byPerm.get(permId);
      if (byPerm) return byPerm;
    }
    if (clientId === null || orderId === null) return null;
    const candidate = this.byClientOrder.get(key(clientId, orderId));
    // An order id can repeat after a TWS restart: only an entry still waiting for its permId,
    // or the same order, matches.
    if (candidate && (candidate.permId === 0 || !permId || candidate.permId === permId)) return candidate;
    return null;
  }

  private create(
    permId: number,
    clientId: number | null,
    orderId: number | null,
    contract: Contract,
    order: Order,
  ): BookEntry {
    const entry = this.blank({
      orderId,
      clientId,
      orderRef: order.orderRef ?? "",
      account: order.account ?? "",
      symbol: tickerOf(contract.symbol ?? ""),
      fields: fieldsOf(order),
      ibStatus: "Unknown",
    });
    if (permId) this.setPermId(entry, permId);
    if (clientId !== null && orderId !== null) {
      this.byClientOrder.set(key(clientId, orderId), entry);
      if (orderId > 0) this.noteOrderId(clientId, orderId);
    }
    this.indexRef(entry);
    return entry;
  }

  /** A new entry with nothing known of its progress yet. */
  private blank(
    known: Pick<
      BookEntry,
      "orderId" | "clientId" | "orderRef" | "account" | "symbol" | "fields" | "ibStatus"
    >,
  ): BookEntry {
    const now = this.clock.now();
    return {
      ...known,
      permId: 0,
      completedStatus: "",
      filled: new Decimal(0),
      avgFillPrice: null,
      rejection: null,
      status: "pending_new",
      submittedAt: now,
      updatedAt: now,
      execIds: [],
    };
  }

  private setPermId(entry: BookEntry, permId: number): void {
    entry.permId = permId;
    this.byPerm.set(permId, entry);
  }

  private indexRef(entry: BookEntry): void {
    if (!entry.orderRef) return;
    const list = this.byRef.get(entry.orderRef) ?? [];
    if (!list.includes(entry)) list.push(entry);
    this.byRef.set(entry.orderRef, list);
  }

  /** Moves to `ibStatus` unless the order is final and the new status is a working one. */
  private setStatus(entry: BookEntry, ibStatus: string, completed = false): void {
    if (!ibStatus) return;
    const next = statusOf(
      ibStatus,
      entry.filled,
      completed ? entry.completedStatus : "",
      entry.fields.totalQuantity,
    );
    if (isFinal(entry.status) && !isFinal(next)) return;
    entry.ibStatus = ibStatus;
  }

  /** Runs `mutate`, recomputes the status, and reports the entry if anything visible changed. */
  private update(entry: BookEntry, mutate: () => void): void {
    const before = { status: entry.status, filled: entry.filled.toString(), avg: entry.avgFillPrice };
    mutate();
    const next = entry.rejection
      ? "rejected"
      : statusOf(entry.ibStatus, entry.filled, entry.completedStatus, entry.fields.totalQuantity);
    if (!(isFinal(entry.status) && !isFinal(next))) entry.status = next;
    if (
      entry.status !== before.status ||
      entry.filled.toString() !== before.filled ||
      entry.avgFillPrice !== before.avg
    ) {
      entry.updatedAt = this.clock.now();
      this.onChange(entry);
    }
  }
}
