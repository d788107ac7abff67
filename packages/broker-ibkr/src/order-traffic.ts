/**
 * Placing and cancelling orders on a session, and waiting for TWS's answer: the first
 * openOrder/orderStatus of a placement (its acknowledgement, which carries the permId), an
 * error for its order id (201 rejected, 103 duplicate id), the order's final status after a
 * cancel. A session that ends fails what waits on it as unavailable.
 *
 * Order ids: next = max(nextValidId, highest id seen + 1), because nextValidId can go backwards
 * after a TWS restart while ids we (or an earlier run of this process) used are still taken. A
 * 103 "Duplicate order id" means nothing was placed; the id is skipped, by a growing step, and the
 * placement tried again.
 */

import type { Contract, Order } from "@stoqey/ib";
import { type Clock, FINAL_ORDER_STATUSES, type TimerHandle, type TradecronError } from "@tradecron/core";
import {
  CANCEL_NOT_CANCELLABLE,
  CANCEL_NOT_FOUND,
  DUPLICATE_ORDER_ID,
  type IbErrorInfo,
  isInformational,
  ORDER_CANCELED,
  toBrokerError,
  unavailable,
} from "./ib-errors.js";
import type { BookEntry, OrderBook } from "./order-book.js";
import type { Session } from "./session.js";

/** Placement attempts when IB keeps saying 103 (the id step doubles each time: 2^20 ids covered). */
const MAX_ID_ATTEMPTS = 20;

interface Waiter {
  session: Session;
  entry: BookEntry;
  done: (outcome: "acked" | "duplicate" | "final" | "unknown") => void;
  fail: (error: TradecronError) => void;
  timer: TimerHandle | null;
}

/** Settings of {@link OrderTraffic}. */
export interface TrafficSettings {
  clientId: number;
  orderAckMs: number;
  cancelMs: number;
}

/** Order placements and cancels in flight. */
export class OrderTraffic {
  private readonly placements = new Map<number, Waiter>();
  private readonly cancels = new Map<number, Waiter>();

  constructor(
    private readonly settings: TrafficSettings,
    private readonly clock: Clock,
    private readonly book: OrderBook,
    /** Errors for orders nothing waits on (a late rejection, say). */
    private readonly stray: (info: IbErrorInfo) => void,
  ) {}

  /**
   * Places an order and resolves with its book entry once TWS acknowledged it.
   * @throws BrokerRejectedError when IB refuses it; BrokerUnavailableError when the connection
   *   drops or no acknowledgement comes in time (the order may have reached TWS: a retry
   *   reconciles by orderRef before placing again).
   */
  async place(
    session: Session,
    input: { orderRef: string; account: string; symbol: string; contract: Contract; order: Order },
  ): Promise<BookEntry> {
    const clientId = this.settings.clientId;
    let step = 1;
    for (let attempt = 1; attempt <= MAX_ID_ATTEMPTS; attempt++) {
      const orderId = Math.max(session.nextValidId, this.book.highestOrderId(clientId) + 1);
      const entry = this.book.placing({ clientId, orderId, ...input });
      const outcome = await this.wait(
        this.placements,
        orderId,
        session,
        entry,
        this.settings.orderAckMs,
        () => session.send("placeOrder", () => session.ib.placeOrder(orderId, input.contract, input.order)),
      );
      if (outcome !== "duplicate") return entry;
      this.book.discard(entry);
      this.book.noteOrderId(clientId, orderId + step);
      step *= 2;
    }
    throw unavailable(
      `order ${input.orderRef}`,
      `IB refused ${MAX_ID_ATTEMPTS} order ids as duplicates (103)`,
    );
  }

  /** Requests the cancel of one of our orders and waits (up to cancelMs) for its final status. */
  async cancel(session: Session, entry: BookEntry): Promise<void> {
    const orderId = entry.orderId as number;
    await this.wait(this.cancels, orderId, session, entry, this.settings.cancelMs, () =>
      session.send("cancelOrder", () => session.ib.cancelOrder(orderId)),
    );
  }

  /** Waits for the final status of orders a global cancel is cancelling (up to cancelMs). */
  async settle(session: Session, entries: readonly BookEntry[]): Promise<void> {
    await Promise.all(
      entries
        .filter((e) => e.orderId !== null && !this.cancels.has(e.orderId))
        .map((e) =>
          this.wait(this.cancels, e.orderId as number, session, e, this.settings.cancelMs, async () => {}),
        ),
    );
  }

  /** A book entry changed: an acknowledgement, or a final status a cancel waits for. */
  changed(entry: BookEntry): void {
    if (entry.orderId === null || entry.clientId !== this.settings.clientId) return;
    const placement = this.placements.get(entry.orderId);
    if (placement?.entry === entry && entry.permId !== 0) placement.done("acked");
    const cancel = this.cancels.get(entry.orderId);
    if (cancel?.entry === entry && FINAL_ORDER_STATUSES.includes(entry.status)) cancel.done("final");
  }

  /** An error TWS sent for an order id (or a request id no request owns). */
  error(info: IbErrorInfo): void {
    if (isInformational(info.code)) return;
    const placement = this.placements.get(info.reqId);
    if (placement) {
      if (info.code === DUPLICATE_ORDER_ID) placement.done("duplicate");
      else {
        const error = toBrokerError(info, `order ${placement.entry.orderRef}`, {
          clientOrderId: placement.entry.orderRef,
          orderId: info.reqId,
        });
        if (error.code === "BROKER_REJECTED") this.book.reject(placement.entry, info.code, info.message);
        placement.fail(error);
      }
      return;
    }
    const cancel = this.cancels.get(info.reqId);
    if (cancel) {
      // 202 confirms (the Cancelled status comes too); 10147/10148: IB says there is nothing to cancel.
      if (info.code === CANCEL_NOT_FOUND || info.code === CANCEL_NOT_CANCELLABLE) cancel.done("unknown");
      else if (info.code !== ORDER_CANCELED)
        cancel.fail(toBrokerError(info, `cancel of order ${info.reqId}`));
      return;
    }
    if (info.code === ORDER_CANCELED) return;
    const entry = this.book.byClientOrderId(this.settings.clientId, info.reqId);
    if (entry && info.code === 201) this.book.reject(entry, info.code, info.message);
    else this.stray(info);
  }

  /** The session ended: everything waiting on it fails as unavailable. */
  sessionClosed(session: Session, reason: string): void {
    for (const map of [this.placements, this.cancels]) {
      for (const w of [...map.values()]) {
        if (w.session !== session) continue;
        const what =
          map === this.placements ? `order ${w.entry.orderRef}` : `cancel of order ${w.entry.orderId}`;
        w.fail(
          unavailable(
            what,
            map === this.placements
              ? `the connection to TWS ended after placeOrder (${reason}); the order may have reached TWS, and a retry reconciles before placing again`
              : `the connection to TWS ended (${reason})`,
            { clientOrderId: w.entry.orderRef },
          ),
        );
      }
    }
  }

  /** Registers a waiter, sends, and arms the timeout once the message has actually gone out. */
  private wait(
    map: Map<number, Waiter>,
    orderId: number,
    session: Session,
    entry: BookEntry,
    timeoutMs: number,
    send: () => Promise<void>,
  ): Promise<"acked" | "duplicate" | "final" | "unknown"> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = () => {
        settled = true;
        if (waiter.timer !== null) this.clock.clearTimeout(waiter.timer);
        if (map.get(orderId) === waiter) map.delete(orderId);
      };
      const waiter: Waiter = {
        session,
        entry,
        done: (outcome) => {
          settle();
          resolve(outcome);
        },
        fail: (error) => {
          settle();
          reject(error);
        },
        timer: null,
      };
      map.set(orderId, waiter);
      send().then(
        () => {
          if (settled) return;
          waiter.timer = this.clock.setTimeout(() => {
            settle();
            if (map === this.cancels) resolve("unknown");
            else
              reject(
                unavailable(`order ${entry.orderRef}`, `no acknowledgement from TWS within ${timeoutMs} ms`, {
                  clientOrderId: entry.orderRef,
                }),
              );
          }, timeoutMs);
        },
        (error: TradecronError) => waiter.fail(error),
      );
    });
  }
}
