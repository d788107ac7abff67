/**
 * One connection to TWS: a fresh @stoqey/ib client per connection, its handshake (ready once
 * nextValidId and managedAccounts have arrived), and request/answer pairs with timeouts.
 *
 * A new client per connection is deliberate: @stoqey/ib queues commands while disconnected and
 * sends them after the next connect, so a placeOrder issued just before a drop could reach TWS
 * on a later connection, after we reported it failed. A session that ends takes its client with
 * it; nothing of it is ever sent again.
 *
 * Requests without a request id (all open orders, completed orders, positions, current time) are
 * answered in order with an end marker, so at most one of each kind is in flight, and callers
 * that arrive while one waits to be sent share it. A request that times out, or a pacing
 * violation TWS cannot attribute (request id -1), ends the session: a late answer could otherwise
 * be taken for the answer to the next request of its kind.
 */

import {
  type Contract,
  EventName,
  type Execution,
  type ExecutionFilter,
  IBApi,
  type Order,
  type OrderState,
} from "@stoqey/ib";
import { type BrokerUnavailableError, type Clock, type TimerHandle, TradecronError } from "@tradecron/core";
import {
  CLIENT_ID_IN_USE,
  type IbErrorInfo,
  isInformational,
  PACING_RETRY_AFTER_MS,
  PACING_VIOLATION,
  toBrokerError,
  unavailable,
} from "./ib-errors.js";
import type { OrderStatusReport } from "./order-book.js";
import type { Pacer } from "./pacer.js";

/** An openOrder as reported. */
export interface OpenOrderReport {
  orderId: number;
  contract: Contract;
  order: Order;
  state: OrderState;
}

/** A completedOrder as reported. */
export interface CompletedOrderReport {
  contract: Contract;
  order: Order;
  state: OrderState;
}

/** An execDetails as reported. */
export interface ExecutionReport {
  contract: Contract;
  execution: Execution;
}

/** A position line as reported. */
export interface PositionReport {
  account: string;
  contract: Contract;
  pos: number;
  avgCost: number;
}

/** An account summary line as reported. */
export interface SummaryReport {
  account: string;
  tag: string;
  value: string;
  currency: string;
}

/** Where a session reports what TWS pushes. */
export interface SessionHandlers {
  openOrder(report: OpenOrderReport): void;
  orderStatus(report: OrderStatusReport): void;
  completedOrder(report: CompletedOrderReport): void;
  execution(report: ExecutionReport): void;
  /** An error for a request id no pending request owns (order errors carry the order id). */
  error(info: IbErrorInfo): void;
  /** A notice on request id -1 (connectivity 1100/1101/1102/2110, farm status, ...). */
  notice(code: number, message: string): void;
  /** The session ended (after `open` resolved, or while opening). */
  closed(reason: string): void;
  /** Something unexpected from the client library (decoding errors and the like). */
  problem(error: Error, context: string): void;
}

/** Connection settings of a session. */
export interface SessionSettings {
  host: string;
  port: number;
  clientId: number;
  connectMs: number;
  requestMs: number;
}

/** Where one request's answers go. */
interface Sink<T> {
  item: (x: T) => void;
  end: () => void;
}

interface Pending {
  what: string;
  reqId: number | null;
  fail(error: TradecronError): void;
}

/** Request ids far above any order id, so an error's id tells a request from an order. */
let nextReqId = 1_900_000_000;
const newReqId = () => {
  nextReqId = nextReqId >= 2_100_000_000 ? 1_900_000_000 : nextReqId + 1;
  return nextReqId;
};

/**
 * One in flight per kind; callers that come while one is queued (not yet started) share it, since
 * its answer reflects the state after they called.
 */
class SingleFlight<T> {
  private running: Promise<T> | null = null;
  private queued: Promise<T> | null = null;

  run(start: () => Promise<T>): Promise<T> {
    if (this.queued) return this.queued;
    if (!this.running) return this.begin(start);
    const queued = this.running
      .catch(() => {})
      .then(() => {
        this.queued = null;
        return this.begin(start);
      });
    this.queued = queued;
    return queued;
  }

  private begin(start: () => Promise<T>): Promise<T> {
    const p = start();
    this.running = p;
    const clear = () => {
      if (this.running === p) this.running = null;
    };
    p.then(clear, clear);
    return p;
  }
}

/** A connection to TWS and its requests. */
export class Session {
  /** The client for this connection only. */
  readonly ib: IBApi;
  nextValidId = 0;
  accounts: string[] = [];
  private closedReason: string | null = null;
  private readonly pending = new Set<Pending>();
  private readonly flights = {
    openOrders: new SingleFlight<OpenOrderReport[]>(),
    completed: new SingleFlight<CompletedOrderReport[]>(),
    positions: new SingleFlight<PositionReport[]>(),
    time: new SingleFlight<number>(),
    summary: new SingleFlight<SummaryReport[]>(),
  };
  /** Where the answers of the requests in flight go, fed by the one set of client listeners. */
  private readonly sinks = {
    openOrders: { sink: null as Sink<OpenOrderReport> | null },
    completed: { sink: null as Sink<CompletedOrderReport> | null },
    positions: { sink: null as Sink<PositionReport> | null },
    time: { sink: null as Sink<number> | null },
    executions: new Map<number, Sink<ExecutionReport>>(),
    summary: new Map<number, Sink<SummaryReport>>(),
  };
  private opened: { resolve: () => void; reject: (e: TradecronError) => void } | null = null;
  private connecting = false;
  private resolveSocketClosed: () => void = () => {};
  private readonly socketClosed = new Promise<void>((resolve) => {
    this.resolveSocketClosed = resolve;
  });

  constructor(
    private readonly settings: SessionSettings,
    private readonly clock: Clock,
    private readonly pacer: Pacer,
    private readonly handlers: SessionHandlers,
  ) {
    // host, port, clientId and the rate are always passed: with all four set, @stoqey/ib never
    // loads its configuration, which would read a .env file from the working directory.
    this.ib = new IBApi({
      host: settings.host,
      port: settings.port,
      clientId: settings.clientId,
      // Our Pacer keeps us under IB's limit; the client's own limiter must never hold messages back.
      maxReqPerSec: 10_000,
    });
    this.listen();
  }

  /** Whether the session has ended. */
  get closed(): boolean {
    return this.closedReason !== null;
  }

  /** Connects, and resolves once nextValidId and managedAccounts have arrived. */
  open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let gotId = false;
      let gotAccounts = false;
      const timer = this.clock.setTimeout(() => {
        void this.close(`no nextValidId/managedAccounts within ${this.settings.connectMs} ms`);
      }, this.settings.connectMs);
      const settle = (error?: TradecronError) => {
        this.clock.clearTimeout(timer);
        this.opened = null;
        this.ib.off(EventName.nextValidId, onId);
        this.ib.off(EventName.managedAccounts, onAccounts);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (gotId && gotAccounts) settle();
      };
      const onId = () => {
        gotId = true;
        check();
      };
      const onAccounts = () => {
        gotAccounts = true;
        check();
      };
      this.opened = { resolve: () => settle(), reject: (e) => settle(e) };
      this.ib.on(EventName.nextValidId, onId);
      this.ib.on(EventName.managedAccounts, onAccounts);
      this.connecting = true;
      this.ib.connect(this.settings.clientId);
    });
  }

  /**
   * Ends the session: every pending request fails as unavailable and the socket closes. Resolves
   * once the socket is closed, so a reconnect with the same client id is not refused as "in use".
   */
  close(reason: string): Promise<void> {
    if (this.closedReason === null) {
      this.closedReason = reason;
      this.opened?.reject(unavailable("connection", reason));
      for (const p of [...this.pending]) p.fail(unavailable(p.what, reason));
      this.pending.clear();
      if (this.ib.isConnected || this.connecting) {
        try {
          this.ib.disconnect();
        } catch {
          // already down
        }
      } else {
        this.markSocketClosed();
      }
      this.handlers.closed(reason);
      // A safety net in real time, not a behaviour tests depend on: should the client never report
      // its socket closed, a disconnect() must not hang.
      setTimeout(() => this.markSocketClosed(), 2_000).unref();
    }
    return this.socketClosed;
  }

  private markSocketClosed(): void {
    this.resolveSocketClosed();
    this.ib.removeAllListeners();
  }

  // ---- requests ----------------------------------------------------------------------------

  /** All open orders of every client (reqAllOpenOrders). */
  openOrders(): Promise<OpenOrderReport[]> {
    return this.flights.openOrders.run(() =>
      this.gather("reqAllOpenOrders", this.sinks.openOrders, () => this.ib.reqAllOpenOrders()),
    );
  }

  /**
   * Completed (filled, cancelled, rejected) orders, including those entered by hand in TWS
   * (reqCompletedOrders(apiOnly=false)): after a global cancel, that is how we learn of theirs.
   */
  completedOrders(): Promise<CompletedOrderReport[]> {
    return this.flights.completed.run(() =>
      this.gather("reqCompletedOrders", this.sinks.completed, () => this.ib.reqCompletedOrders(false)),
    );
  }

  /** The day's executions matching `filter` (reqExecutions). */
  executions(filter: ExecutionFilter): Promise<ExecutionReport[]> {
    return this.gatherById("reqExecutions", this.sinks.executions, (reqId) =>
      this.ib.reqExecutions(reqId, filter),
    );
  }

  /** Positions of every managed account (reqPositions, then cancelPositions). */
  positions(): Promise<PositionReport[]> {
    return this.flights.positions.run(async () => {
      const list = await this.gather("reqPositions", this.sinks.positions, () => this.ib.reqPositions());
      await this.send("cancelPositions", () => this.ib.cancelPositions());
      return list;
    });
  }

  /** One account summary of every account (reqAccountSummary, then its cancel: IB allows two at once). */
  accountSummary(tags: readonly string[]): Promise<SummaryReport[]> {
    return this.flights.summary.run(async () => {
      let id = 0;
      const list = await this.gatherById("reqAccountSummary", this.sinks.summary, (reqId) => {
        id = reqId;
        this.ib.reqAccountSummary(reqId, "All", tags.join(","));
      });
      await this.send("cancelAccountSummary", () => this.ib.cancelAccountSummary(id));
      return list;
    });
  }

  /** TWS's clock, in epoch seconds (the heartbeat). */
  currentTime(): Promise<number> {
    return this.flights.time.run(async () => {
      const [time] = await this.gather("reqCurrentTime", this.sinks.time, () => this.ib.reqCurrentTime());
      return time as number;
    });
  }

  /** A request without a request id: its answers go to the kind's one sink. */
  private gather<T>(what: string, slot: { sink: Sink<T> | null }, send: () => void): Promise<T[]> {
    return this.collect<T>(what, null, (sink) => {
      slot.sink = sink;
      return {
        send,
        off: () => {
          slot.sink = null;
        },
      };
    });
  }

  /** A request with its own request id. */
  private gatherById<T>(
    what: string,
    sinks: Map<number, Sink<T>>,
    send: (reqId: number) => void,
  ): Promise<T[]> {
    const reqId = newReqId();
    return this.collect<T>(what, reqId, (sink) => {
      sinks.set(reqId, sink);
      return { send: () => send(reqId), off: () => sinks.delete(reqId) };
    });
  }

  /** Sends one message once the pacer allows, unless the session ended meanwhile. */
  async send(what: string, fn: () => void): Promise<void> {
    await this.pacer.take();
    if (this.closedReason !== null) throw unavailable(what, this.closedReason);
    fn();
  }

  /**
   * Sends a request and gathers its answers until the end marker. Times out (and ends the session)
   * after `requestMs`.
   */
  private collect<T>(
    what: string,
    reqId: number | null,
    install: (sink: Sink<T>) => { send: () => void; off: () => void },
  ): Promise<T[]> {
    return new Promise<T[]>((resolve, reject) => {
      if (this.closedReason !== null) {
        reject(unavailable(what, this.closedReason));
        return;
      }
      const items: T[] = [];
      let timer: TimerHandle | null = null;
      let hooks: { send: () => void; off: () => void } | null = null;
      const pending: Pending = {
        what,
        reqId,
        fail: (error) => finish(error),
      };
      const finish = (error?: TradecronError) => {
        if (!this.pending.delete(pending)) return;
        if (timer !== null) this.clock.clearTimeout(timer);
        hooks?.off();
        if (error) reject(error);
        else resolve(items);
      };
      this.pending.add(pending);
      hooks = install({ item: (x) => items.push(x), end: () => finish() });
      this.send(what, () => {
        timer = this.clock.setTimeout(() => {
          // A late answer could be mistaken for the next request's: this connection is done.
          void this.close(`${what}: no answer within ${this.settings.requestMs} ms`);
        }, this.settings.requestMs);
        hooks?.send();
      }).catch((error: BrokerUnavailableError) => finish(error));
    });
  }

  // ---- client events ---------------------------------------------------------------------------

  private listen(): void {
    // Events after close (a last burst still in the client's buffer) are ignored.
    const ib = {
      on: (event: EventName, fn: (...args: never[]) => void) =>
        this.ib.on(event as never, (...args: never[]) => {
          if (this.closedReason === null || event === EventName.disconnected) fn(...args);
        }),
    };
    const c = this.sinks;
    ib.on(EventName.nextValidId, (id: number) => {
      this.nextValidId = id;
    });
    ib.on(EventName.managedAccounts, (list: string) => {
      this.accounts = list
        .split(",")
        .map((a) => a.trim())
        .filter((a) => a.length > 0);
    });
    ib.on(EventName.openOrder, (orderId: number, contract: Contract, order: Order, state: OrderState) => {
      const report = { orderId, contract, order, state };
      this.handlers.openOrder(report);
      c.openOrders.sink?.item(report);
    });
    ib.on(EventName.openOrderEnd, () => c.openOrders.sink?.end());
    ib.on(
      EventName.orderStatus,
      (
        orderId: number,
        status: string,
        filled: number,
        _remaining: number,
        avgFillPrice: number,
        permId?: number,
        _parentId?: number,
        _lastFillPrice?: number,
        clientId?: number,
      ) => this.handlers.orderStatus({ orderId, status, filled, avgFillPrice, permId, clientId }),
    );
    ib.on(EventName.completedOrder, (contract: Contract, order: Order, state: OrderState) => {
      const report = { contract, order, state };
      this.handlers.completedOrder(report);
      c.completed.sink?.item(report);
    });
    ib.on(EventName.completedOrdersEnd, () => c.completed.sink?.end());
    ib.on(EventName.execDetails, (reqId: number, contract: Contract, execution: Execution) => {
      const report = { contract, execution };
      this.handlers.execution(report);
      c.executions.get(reqId)?.item(report);
    });
    ib.on(EventName.execDetailsEnd, (reqId: number) => c.executions.get(reqId)?.end());
    ib.on(EventName.position, (account: string, contract: Contract, pos: number, avgCost?: number) =>
      c.positions.sink?.item({ account, contract, pos, avgCost: avgCost ?? 0 }),
    );
    ib.on(EventName.positionEnd, () => c.positions.sink?.end());
    ib.on(
      EventName.accountSummary,
      (reqId: number, account: string, tag: string, value: string, currency: string) =>
        c.summary.get(reqId)?.item({ account, tag, value, currency }),
    );
    ib.on(EventName.accountSummaryEnd, (reqId: number) => c.summary.get(reqId)?.end());
    ib.on(EventName.currentTime, (time: number) => {
      c.time.sink?.item(time);
      c.time.sink?.end();
    });
    ib.on(EventName.info, (message: string, code: number) => this.onInfo(code, message));
    ib.on(EventName.error, (error: Error, code: number, reqId: number, advancedOrderReject?: unknown) =>
      this.onError(error, code, reqId, advancedOrderReject),
    );
    ib.on(EventName.disconnected, () => {
      this.connecting = false;
      void this.close("connection to TWS closed");
      this.markSocketClosed();
    });
  }

  private onInfo(code: number, message: string): void {
    if (code === CLIENT_ID_IN_USE) {
      void this.close(`client id ${this.settings.clientId} is already in use (IB 326: ${message})`);
      return;
    }
    if (code === PACING_VIOLATION) {
      // TWS dropped a message it cannot name: fail everything in flight, and start clean.
      this.failPending({ code, message, reqId: -1 });
      void this.close(`pacing violation (IB 100: ${message})`);
      return;
    }
    this.handlers.notice(code, message);
  }

  private onError(error: Error, code: number, reqId: number, advancedOrderReject?: unknown): void {
    const info: IbErrorInfo = {
      code,
      message: error?.message ?? String(error),
      reqId,
      ...(advancedOrderReject === undefined ? {} : { advancedOrderReject }),
    };
    if (code === PACING_VIOLATION) this.pacer.backOff(PACING_RETRY_AFTER_MS);
    if (reqId >= 0) {
      for (const p of this.pending) {
        if (p.reqId === reqId && !isInformational(code)) {
          p.fail(toBrokerError(info, p.what));
          return;
        }
      }
      this.handlers.error(info);
      return;
    }
    // Request id -1 on `error`: the client library itself (connect failures, decoding errors).
    if (code === 502 || code === 504) {
      void this.close(`cannot reach TWS at ${this.settings.host}:${this.settings.port} (${info.message})`);
      return;
    }
    this.handlers.problem(
      new TradecronError("BROKER_UNAVAILABLE", `IbkrBroker: IB client error ${code}: ${info.message}`),
      "client",
    );
  }

  private failPending(info: IbErrorInfo): void {
    for (const p of [...this.pending]) p.fail(toBrokerError(info, p.what));
  }
}
