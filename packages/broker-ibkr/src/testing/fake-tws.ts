/**
 * FakeTws: a local TWS / IB Gateway for tests. A real TCP server speaking the TWS API socket
 * protocol at server version 193 (the handshake, length-prefixed NUL-separated fields, the message
 * layouts @stoqey/ib 1.6.10 decodes), with real state: orders per client id with permIds and
 * orderRefs, completed orders, the day's executions, positions and account values (a PaperBroker
 * per account is the matching engine). It can be told to misbehave the way TWS does: the nightly
 * restart (the socket closes, the port refuses, it comes back with nextValidId rolled back and
 * earlier orders only among completed orders), a restart between placeOrder and its openOrder,
 * repeated orderStatus/openOrder messages, connectivity notices 1100/1101/1102/2110 on request id
 * -1, rejections (201), pacing violations (100) and lost connections.
 */

import { randomUUID } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { type Clock, systemClock } from "@tradecron/core";
import type { BrokerFault } from "@tradecron/core/testing";
import { delay } from "../delay.js";
import { Admission } from "./admission.js";
import {
  OUT,
  parseCancelOrder,
  parsePlaceOrder,
  parseReqAccountSummary,
  parseReqExecutions,
  parseReqIdAfterVersion,
  parseStartApi,
  REQUEST_NAMES,
} from "./client-messages.js";
import {
  DEFAULT_SYMBOLS,
  type ExchangeEvent,
  FakeExchange,
  type FakeOrder,
  type FakeSymbol,
  ibTime,
} from "./exchange.js";
import { Reports } from "./reports.js";
import * as msg from "./server-messages.js";
import { FrameReader } from "./wire.js";

/** Options of {@link FakeTws}. */
export interface FakeTwsOptions {
  /** Managed accounts; orders without an account go to the first (default `["DU1234567"]`, a paper account). */
  accounts?: string[];
  /** Starting cash of every account (default 1,000,000). */
  initialCash?: string | number;
  /** Account and contract currency (default USD). */
  currency?: string;
  /** Extra tradable stocks (IB symbol -> contract id and primary exchange), added to a list of US stocks. */
  symbols?: Record<string, FakeSymbol>;
  /** Time source for pacing windows, reqCurrentTime, execution times and restart pauses (default system clock). */
  clock?: Clock;
  /** The nextValidId a client first gets, and gets again after a restart that rolls ids back (default 1). */
  nextValidId?: number;
  /**
   * For how many trading days (nightly restarts with `newDay`) reqCompletedOrders reports an order
   * after it completed: 1 = the current day only, 2 = today and yesterday (default: forever).
   */
  completedOrderDays?: number;
  /** Messages per second per client above which TWS answers error 100 and drops the message (default 50; 0 = off). */
  maxMessagesPerSecond?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: an ephemeral port, see {@link FakeTws.port}). */
  port?: number;
}

/** How TWS comes back from {@link FakeTws.goDown}. */
export interface ComeUpOptions {
  /** Start every client's nextValidId again from the configured value, as after a nightly restart (default true). */
  rollBackIds?: boolean;
  /** A new trading day: open DAY orders expire, the day's executions are forgotten (default true). */
  newDay?: boolean;
}

/** Counters for assertions. */
export interface FakeTwsStats {
  /** Messages received, by request name. */
  received: Record<string, number>;
  /** Orders accepted (new, not modifications). */
  placed: number;
  /** placeOrder calls that modified an existing open order (an adapter should never cause one by accident). */
  modified: number;
  /** placeOrder calls refused with 103 Duplicate order id. */
  duplicateIds: number;
  /** Messages answered with 100 (pacing violation). */
  pacingViolations: number;
  /** Connections accepted, and START_API handshakes completed. */
  connections: number;
  sessions: number;
}

/** The fake TWS's side of one client connection. */
interface Connection {
  id: string;
  socket: Socket;
  clientId: number | null;
  /** Writes are dropped (the "response lost" faults). */
  muted: boolean;
  /** Order events held while IB's link is down. */
  held: Buffer[];
  accountSummaries: Set<number>;
  /** Receive times of recent messages, for pacing. */
  recent: number[];
  /** A half-open connection: the socket stays up, nothing it sends is ever answered. */
  stalled: boolean;
}

/** IB allows two account summary subscriptions at a time. */
const MAX_ACCOUNT_SUMMARIES = 2;

/** A fake TWS / IB Gateway on a local port. */
export class FakeTws {
  /** The fake's books (orders, executions, accounts); read-only use from tests. */
  readonly exchange: FakeExchange;
  private readonly counters = {
    received: {} as Record<string, number>,
    placed: 0,
    modified: 0,
    duplicateIds: 0,
    connections: 0,
    sessions: 0,
  };
  private readonly clock: Clock;
  private readonly options: Required<
    Omit<FakeTwsOptions, "clock" | "symbols" | "initialCash" | "completedOrderDays">
  >;
  private server: Server | null = null;
  private listeningPort = 0;
  private readonly connections = new Set<Connection>();
  private readonly nextIds = new Map<number, number>();
  /** Ids ever used per client, to refuse a reused one (103). */
  private readonly usedIds = new Map<number, Set<number>>();
  private restartOnNextOrder = false;
  private repeats = 1;
  private linkDown = false;
  private up = false;
  /** Serializes message handling, as TWS handles one message at a time. */
  private queue: Promise<void> = Promise.resolve();
  private readonly reports: Reports;
  private readonly admission: Admission;

  private constructor(options: FakeTwsOptions) {
    this.clock = options.clock ?? systemClock;
    this.options = {
      accounts: options.accounts ?? ["DU1234567"],
      currency: options.currency ?? "USD",
      nextValidId: options.nextValidId ?? 1,
      maxMessagesPerSecond: options.maxMessagesPerSecond ?? 50,
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 0,
    };
    this.exchange = new FakeExchange({
      clock: this.clock,
      accounts: this.options.accounts,
      initialCash: String(options.initialCash ?? "1000000"),
      currency: this.options.currency,
      symbols: { ...DEFAULT_SYMBOLS, ...options.symbols },
      completedOrderDays: options.completedOrderDays,
    });
    this.exchange.onEvent((event) => this.onExchangeEvent(event));
    this.reports = new Reports(this.exchange);
    this.admission = new Admission(this.clock, this.options.maxMessagesPerSecond);
  }

  /** Starts a fake TWS listening on `options.port` (default: an ephemeral port). */
  static async start(options: FakeTwsOptions = {}): Promise<FakeTws> {
    const tws = new FakeTws(options);
    await tws.listen(tws.options.port);
    return tws;
  }

  /** Counters for assertions (a snapshot). */
  get stats(): FakeTwsStats {
    return {
      ...this.counters,
      received: { ...this.counters.received },
      pacingViolations: this.admission.violations,
    };
  }

  /** The port it listens on (stable across {@link goDown}/{@link comeUp}). */
  get port(): number {
    return this.listeningPort;
  }

  get host(): string {
    return this.options.host;
  }

  /** Whether TWS is up (accepting connections). */
  get isUp(): boolean {
    return this.up;
  }

  /** Client ids with a live API session. */
  clientIds(): number[] {
    return [...this.connections].flatMap((c) => (c.clientId === null ? [] : [c.clientId]));
  }

  // ---- market and books --------------------------------------------------------------------

  /** Sets the price of a stock (making it tradable); executes the resting orders it crosses. */
  setPrice(symbol: string, price: string | number): void {
    this.exchange.setPrice(symbol, String(price));
  }

  /** Every order the fake knows (copies), oldest first. */
  orders(): FakeOrder[] {
    return this.exchange.list();
  }

  /** Orders carrying `orderRef` (an adapter's client order id): more than one is a duplicate. */
  ordersWithRef(orderRef: string): FakeOrder[] {
    return this.orders().filter((o) => o.orderRef === orderRef);
  }

  /** Enters an order by hand in TWS (client 0), as a trader would. */
  placeManualOrder(input: { symbol: string; side: "buy" | "sell"; qty: string; limitPrice: string }) {
    return this.enqueue(() => this.exchange.placeManual(input));
  }

  // ---- faults --------------------------------------------------------------------------------

  /**
   * Makes the next `count` calls fail (the conformance suite's hook). A call is any request but a
   * heartbeat or an unsubscribe. `unavailable`: the connection drops when the request arrives
   * (nothing is processed). `accept_then_timeout`: the next placeOrder is accepted, then the
   * connection drops before openOrder/orderStatus are sent. `rate_limited`: the request is
   * answered with error 100 and dropped.
   */
  injectFault(fault: BrokerFault, count = 1): void {
    this.admission.inject(fault, count);
  }

  /** Accepts the next placeOrder, then restarts before its openOrder: TWS stays down until {@link comeUp}. */
  restartAfterNextOrder(): void {
    this.restartOnNextOrder = true;
  }

  /** Sends every openOrder, orderStatus and execution `times` times (IB repeats them; 1 = once). */
  repeatMessages(times: number): void {
    this.repeats = Math.max(1, Math.floor(times));
  }

  /** Rejects the next `count` orders with 201 and `reason`. */
  rejectNext(reason: string, count = 1): void {
    this.exchange.rejectNext(reason, count);
  }

  /**
   * TWS loses its link to IB: 1100 (or 2110) on request id -1 to every client. Order events are
   * held until {@link restoreLink}.
   */
  loseLink(code: 1100 | 2110 = 1100): void {
    this.linkDown = true;
    this.broadcast(msg.errorMessage(-1, code, msg.CONNECTIVITY_NOTICES[code]));
  }

  /** The link is back: 1101 (data lost: held events are dropped) or 1102 (data maintained: they are sent). */
  restoreLink(options: { dataLost: boolean }): void {
    this.linkDown = false;
    const code = options.dataLost ? 1101 : 1102;
    for (const conn of this.connections) {
      const held = conn.held.splice(0);
      this.write(conn, msg.errorMessage(-1, code, msg.CONNECTIVITY_NOTICES[code]));
      if (!options.dataLost) for (const b of held) this.write(conn, b);
    }
  }

  /** Sends an info notice (request id -1) to every client. */
  notice(code: number, message: string): void {
    this.broadcast(msg.errorMessage(-1, code, message));
  }

  /** Closes every client connection; TWS stays up (as when the clients' process dies). */
  dropConnections(): void {
    for (const conn of this.connections) conn.socket.destroy();
  }

  /**
   * Makes every current connection half-open: the sockets stay up but TWS never answers them
   * again (a zombie session). New connections are served as usual.
   */
  stallConnections(): void {
    for (const conn of this.connections) conn.stalled = true;
  }

  /** Closes one client's connection. */
  dropClient(clientId: number): void {
    for (const conn of this.connections) if (conn.clientId === clientId) conn.socket.destroy();
  }

  /** TWS shuts down: every connection closes and the port refuses connections. */
  async goDown(): Promise<void> {
    this.up = false;
    const server = this.server;
    this.server = null;
    for (const conn of this.connections) conn.socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** TWS is back on the same port, as after its nightly restart. */
  async comeUp(options: ComeUpOptions = {}): Promise<void> {
    if (this.up) return;
    if (options.rollBackIds ?? true) this.nextIds.clear();
    if (options.newDay ?? true) await this.enqueue(() => this.exchange.newDay());
    this.linkDown = false;
    await this.listen(this.listeningPort);
  }

  /** The nightly restart: down for `downMs` on the fake's clock, then back ({@link ComeUpOptions}). */
  async restart(options: ComeUpOptions & { downMs?: number } = {}): Promise<void> {
    await this.goDown();
    if (options.downMs) await delay(this.clock, options.downMs);
    await this.comeUp(options);
  }

  /** Stops the server for good. */
  async close(): Promise<void> {
    await this.goDown();
    await this.queue;
  }

  // ---- server ------------------------------------------------------------------------------

  private async listen(port: number): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(port, this.options.host, () => {
            server.off("error", reject);
            resolve();
          });
        });
        break;
      } catch (error) {
        // The port was just released by goDown(); the kernel may need a moment.
        if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt >= 50) throw error;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    const address = server.address();
    this.listeningPort = typeof address === "object" && address ? address.port : port;
    this.server = server;
    this.up = true;
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.counters.connections++;
    const conn: Connection = {
      id: randomUUID(),
      socket,
      clientId: null,
      muted: false,
      held: [],
      accountSummaries: new Set(),
      recent: [],
      stalled: false,
    };
    this.connections.add(conn);
    const reader = new FrameReader(
      (hello) => {
        if (!hello || hello.maxVersion < msg.SERVER_VERSION || hello.minVersion > msg.SERVER_VERSION) {
          socket.destroy();
          return;
        }
        this.write(conn, msg.serverHello(ibTime(this.clock.now())));
      },
      (fields) => {
        this.queue = this.queue
          .then(() => this.handle(conn, fields))
          .catch((error: unknown) => {
            // A bug in the fake must be visible, not silently swallowed: fail the connection.
            process.emitWarning(`FakeTws: ${String((error as Error)?.stack ?? error)}`);
            socket.destroy();
          });
      },
      () => socket.destroy(),
    );
    socket.on("data", (chunk) => reader.push(chunk));
    socket.on("error", () => {});
    socket.on("close", () => this.connections.delete(conn));
  }

  private enqueue<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private write(conn: Connection, data: Buffer | Buffer[]): void {
    if (conn.muted || conn.socket.destroyed) return;
    conn.socket.write(Array.isArray(data) ? Buffer.concat(data) : data);
  }

  private broadcast(data: Buffer): void {
    for (const conn of this.connections) if (conn.clientId !== null) this.write(conn, data);
  }

  private owner(clientId: number): Connection | null {
    for (const conn of this.connections)
      if (conn.clientId === clientId && !conn.socket.destroyed) return conn;
    return null;
  }

  private nextIdFor(clientId: number): number {
    return this.nextIds.get(clientId) ?? this.options.nextValidId;
  }

  private onExchangeEvent(event: ExchangeEvent): void {
    const conn = this.owner(event.order.clientId);
    if (!conn) return;
    const once =
      event.kind === "execution"
        ? [
            msg.execution(-1, event.execution),
            msg.commissionReport(event.execution.execId, this.exchange.currency),
          ]
        : [msg.openOrder(event.order), msg.orderStatus(event.order)];
    const out: Buffer[] = [];
    for (let i = 0; i < this.repeats; i++) out.push(...once);
    if (this.linkDown) conn.held.push(...out);
    else this.write(conn, out);
  }

  private async handle(conn: Connection, fields: string[]): Promise<void> {
    if (conn.socket.destroyed || conn.stalled) return;
    const id = Number(fields[0]);
    const name = REQUEST_NAMES[id] ?? `UNKNOWN_${fields[0]}`;
    this.counters.received[name] = (this.counters.received[name] ?? 0) + 1;
    if (id !== OUT.START_API && conn.clientId === null) {
      conn.socket.destroy(); // TWS drops clients that skip START_API
      return;
    }
    const verdict = this.admission.admit(conn.recent, fields);
    if (verdict.kind === "drop") {
      conn.socket.destroy();
      return;
    }
    if (verdict.kind === "refuse") {
      this.write(conn, verdict.reply);
      return;
    }
    // accept_then_timeout: the order is processed, but the client never hears of it.
    if (verdict.kind === "handle_muted") conn.muted = true;
    switch (id) {
      case OUT.START_API:
        return this.startApi(conn, fields);
      case OUT.PLACE_ORDER:
        return this.placeOrder(conn, fields);
      case OUT.CANCEL_ORDER:
        return this.cancelOrder(conn, fields);
      case OUT.REQ_GLOBAL_CANCEL:
        return this.globalCancel();
      case OUT.REQ_ALL_OPEN_ORDERS:
        return this.write(conn, this.reports.openOrders());
      case OUT.REQ_OPEN_ORDERS:
        return this.write(conn, this.reports.openOrders(conn.clientId as number));
      case OUT.REQ_COMPLETED_ORDERS:
        return this.write(conn, this.reports.completedOrders(fields[1] === "1"));
      case OUT.REQ_EXECUTIONS:
        return this.write(conn, this.reports.executions(parseReqExecutions(fields)));
      case OUT.REQ_POSITIONS:
        return this.write(conn, await this.reports.positions());
      case OUT.REQ_ACCOUNT_SUMMARY:
        return this.accountSummary(conn, fields);
      case OUT.CANCEL_ACCOUNT_SUMMARY:
        conn.accountSummaries.delete(parseReqIdAfterVersion(fields));
        return;
      case OUT.CANCEL_POSITIONS:
        return;
      case OUT.REQ_CURRENT_TIME:
        return this.write(conn, msg.currentTime(Math.floor(this.clock.now() / 1000)));
      case OUT.REQ_IDS:
        return this.write(conn, msg.nextValidId(this.nextIdFor(conn.clientId as number)));
      case OUT.REQ_MANAGED_ACCTS:
        return this.write(conn, msg.managedAccounts(this.exchange.accounts));
      default:
        return; // requests the fake does not model are ignored, as TWS ignores unknown ones
    }
  }

  private startApi(conn: Connection, fields: string[]): void {
    const { clientId } = parseStartApi(fields);
    if (this.owner(clientId)) {
      this.write(
        conn,
        msg.errorMessage(
          -1,
          326,
          "Unable to connect as the client id is already in use. Retry with a unique client id.",
        ),
      );
      conn.socket.end();
      return;
    }
    conn.clientId = clientId;
    this.counters.sessions++;
    const out = [msg.managedAccounts(this.exchange.accounts), msg.nextValidId(this.nextIdFor(clientId))];
    for (const [code, text] of msg.FARM_NOTICES) out.push(msg.errorMessage(-1, code, text));
    if (this.linkDown) out.push(msg.errorMessage(-1, 1100, msg.CONNECTIVITY_NOTICES[1100]));
    this.write(conn, out);
  }

  private async placeOrder(conn: Connection, fields: string[]): Promise<void> {
    const clientId = conn.clientId as number;
    const req = parsePlaceOrder(fields);
    const restart = this.restartOnNextOrder;
    if (restart) {
      this.restartOnNextOrder = false;
      conn.muted = true;
    }
    const used = this.usedIds.get(clientId) ?? new Set<number>();
    this.usedIds.set(clientId, used);
    const existing = this.exchange.findByClient(clientId, req.orderId);
    let result: Awaited<ReturnType<FakeExchange["place"]>>;
    if (!existing && used.has(req.orderId)) {
      result = { ok: false, code: 103, message: "Duplicate order id" };
    } else {
      result = await this.exchange.place(clientId, req);
    }
    used.add(req.orderId);
    this.nextIds.set(clientId, Math.max(this.nextIdFor(clientId), req.orderId + 1));
    if (result.ok) {
      if (existing) this.counters.modified++;
      else this.counters.placed++;
    } else {
      if (result.code === 103) this.counters.duplicateIds++;
      this.write(conn, msg.errorMessage(req.orderId, result.code, result.message));
    }
    if (conn.muted) {
      conn.socket.destroy();
      if (restart) await this.goDown();
    }
  }

  private async cancelOrder(conn: Connection, fields: string[]): Promise<void> {
    const { orderId } = parseCancelOrder(fields);
    const order = this.exchange.findByClient(conn.clientId as number, orderId);
    if (!order) {
      this.write(
        conn,
        msg.errorMessage(orderId, 10147, `OrderId ${orderId} that needs to be cancelled is not found.`),
      );
      return;
    }
    if (order.final) {
      this.write(
        conn,
        msg.errorMessage(
          orderId,
          10148,
          `OrderId ${orderId} that needs to be cancelled cannot be cancelled, state: ${order.status}.`,
        ),
      );
      return;
    }
    await this.exchange.cancel(order);
    if (order.status === "Cancelled")
      this.write(conn, msg.errorMessage(orderId, 202, "Order Canceled - reason:"));
  }

  private async globalCancel(): Promise<void> {
    const open = this.exchange.openOrders();
    await this.exchange.cancelAll();
    for (const order of open) {
      const owner = this.owner(order.clientId);
      if (owner && order.status === "Cancelled") {
        this.write(owner, msg.errorMessage(order.orderId, 202, "Order Canceled - reason:"));
      }
    }
  }

  private async accountSummary(conn: Connection, fields: string[]): Promise<void> {
    const { reqId, group, tags } = parseReqAccountSummary(fields);
    if (conn.accountSummaries.size >= MAX_ACCOUNT_SUMMARIES) {
      this.write(
        conn,
        msg.errorMessage(
          reqId,
          322,
          "Error processing request:-'bB' : cause - Maximum number of account summary requests exceeded",
        ),
      );
      return;
    }
    conn.accountSummaries.add(reqId);
    const out = await this.reports.accountSummary(reqId, group, tags);
    this.write(conn, out);
  }
}
