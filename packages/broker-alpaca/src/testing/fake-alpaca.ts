/**
 * FakeAlpaca: a local Alpaca for tests (yours too), speaking Alpaca's real wire protocol over a
 * real HTTP server and a real websocket: point `AlpacaBroker` (or Alpaca's own SDK) at `url` and
 * `streamUrl`. It keeps real state (orders, fills, positions, cash, buying power), refuses a
 * reused client order id as Alpaca does, and injects the faults real connections produce.
 *
 * ```ts
 * const fake = await FakeAlpaca.start();
 * const broker = new AlpacaBroker({ keyId: fake.keyId, secretKey: fake.secretKey,
 *   baseUrl: fake.url, streamUrl: fake.streamUrl });
 * fake.setPrice("AAPL", "187.31");
 * fake.faults.inject({ kind: "accept_then_timeout", route: "postOrder" });
 * ...
 * await fake.close();
 * ```
 */

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type Clock,
  createCalendar,
  Decimal,
  decimalString,
  type MarketCalendar,
  systemClock,
  XNYS_DEFINITION,
} from "@tradecron/core";
import { z } from "zod";
import { FaultQueue } from "./fake-faults.js";
import { FakeHttp, type JournalEntry, sameSecret } from "./fake-http.js";
import { DEFAULT_ASSETS, FakeLedger, type FakeTradeEvent } from "./fake-ledger.js";
import type { FakeOrder } from "./fake-order.js";
import { FakeStream, type StreamStats } from "./fake-stream.js";
import { orderJson } from "./fake-wire.js";

/** Options of {@link FakeAlpaca.start}. */
export interface FakeAlpacaOptions {
  /** The key id the fake accepts (default `test-key-id`). */
  keyId?: string;
  /** The secret the fake accepts (default `test-secret`). */
  secretKey?: string;
  /** Starting cash (default 100,000). */
  initialCash?: string | number;
  /** Symbols tradable before a price is set (default AAPL, MSFT, TSLA and a few more). */
  assets?: readonly string[];
  /** Clock for time stamps, `/v2/clock` and rate-limit windows (default the system clock). */
  clock?: Clock;
  /** The calendar `/v2/calendar` and `/v2/clock` answer from (default a private copy of XNYS). */
  calendar?: MarketCalendar;
  /** `X-RateLimit-*` headers per minute; `enforce` answers 429 beyond it (default 200, not enforced). */
  rateLimit?: { requestsPerMinute?: number; enforce?: boolean };
  /** trade_updates connections allowed at once (default 1, as Alpaca allows one per account). */
  streamLimit?: number;
  /** Record requests and answers in `journal` (default true). */
  journal?: boolean;
  /** Host to listen on (default 127.0.0.1; the port is always an ephemeral one). */
  host?: string;
}

const optionsSchema = z.strictObject({
  keyId: z.string().min(1).default("test-key-id"),
  secretKey: z.string().min(1).default("test-secret"),
  initialCash: z.union([z.string(), z.number()]).default("100000"),
  assets: z.array(z.string().min(1)).default(DEFAULT_ASSETS),
  clock: z.custom<Clock>((v) => typeof (v as Clock)?.now === "function").optional(),
  calendar: z
    .custom<MarketCalendar>((v) => typeof (v as MarketCalendar)?.sessionsBetween === "function")
    .optional(),
  rateLimit: z
    .strictObject({ requestsPerMinute: z.int().min(1).default(200), enforce: z.boolean().default(false) })
    .default({ requestsPerMinute: 200, enforce: false }),
  streamLimit: z.int().min(1).default(1),
  journal: z.boolean().default(true),
  host: z.string().default("127.0.0.1"),
});

/** A local Alpaca: REST on `url`, trade_updates on `streamUrl`. */
export class FakeAlpaca {
  /** The HTTP faults to inject (see {@link FaultQueue.inject}). */
  readonly faults = new FaultQueue();
  /** The calendar `/v2/calendar` answers from: add closures to it to simulate Alpaca knowing more. */
  readonly calendar: MarketCalendar;
  readonly keyId: string;
  readonly secretKey: string;
  private readonly ledger: FakeLedger;
  private readonly http: FakeHttp;
  private readonly stream: FakeStream;
  private readonly eventLog: FakeTradeEvent[] = [];
  private server: Server | null = null;
  private base = "";

  private constructor(options: z.output<typeof optionsSchema>) {
    this.keyId = options.keyId;
    this.secretKey = options.secretKey;
    const clock = options.clock ?? systemClock;
    this.calendar = options.calendar ?? createCalendar(XNYS_DEFINITION);
    this.ledger = new FakeLedger({
      clock,
      initialCash: new Decimal(options.initialCash),
      assets: options.assets.map((s) => s.toUpperCase()),
      onEvent: (event) => this.onEvent(event),
    });
    this.stream = new FakeStream({
      authorized: (k, s) => sameSecret(k, this.keyId) && sameSecret(s, this.secretKey),
      legsOf: (event) => this.ledger.legsOf(event.order),
      limit: options.streamLimit,
    });
    this.http = new FakeHttp({
      ledger: this.ledger,
      faults: this.faults,
      clock,
      calendar: this.calendar,
      keyId: options.keyId,
      secretKey: options.secretKey,
      rateLimit: options.rateLimit,
      journal: options.journal,
    });
  }

  /** Starts a fake on an ephemeral port. */
  static async start(options: FakeAlpacaOptions = {}): Promise<FakeAlpaca> {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new TypeError(`FakeAlpaca: ${issue?.path.join(".")}: ${issue?.message}`);
    }
    const fake = new FakeAlpaca(parsed.data);
    await fake.listen(parsed.data.host);
    return fake;
  }

  private async listen(host: string): Promise<void> {
    const server = createServer((req, res) => {
      this.http.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    server.keepAliveTimeout = 5_000;
    server.on("upgrade", (req, socket, head) => {
      if (new URL(req.url ?? "/", "http://fake").pathname === "/stream")
        this.stream.upgrade(req, socket, head);
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, host, () => resolve());
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.base = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  }

  /** REST base URL (pass as `baseUrl`, and as `dataUrl` for latest prices). */
  get url(): string {
    return `http://${this.base}`;
  }

  /** trade_updates URL (pass as `streamUrl`). */
  get streamUrl(): string {
    return `ws://${this.base}/stream`;
  }

  /** Every request and answer so far (header values are never recorded). */
  get journal(): readonly JournalEntry[] {
    return this.http.journal;
  }

  /**
   * How many responses a `timeout` or `accept_then_timeout` fault has held back so far. A test on
   * an injected clock moves it past the client's request timeout once per held response, so only
   * the requests the fake holds back ever time out, however slow the machine.
   */
  get responsesHeld(): number {
    return this.http.heldTotal;
  }

  /** Every trade_updates event the fake produced, sent or not. */
  get events(): readonly FakeTradeEvent[] {
    return this.eventLog;
  }

  /** What the stream did (connections, drops, duplicates, ...). */
  get streamStats(): Readonly<StreamStats> {
    return this.stream.stats;
  }

  /** Number of trade_updates listeners connected now. */
  get streamListeners(): number {
    return this.stream.listening;
  }

  // ---- market and account -------------------------------------------------------------------

  /** Sets the price of `symbol` (making it tradable) and executes the open orders it crosses. */
  setPrice(symbol: string, price: string | number): void {
    this.ledger.setPrice(symbol.trim().toUpperCase(), new Decimal(price));
  }

  /** Executes (part of) an open order, e.g. `{ qty: "1" }` for a partial fill. */
  execute(orderId: string, fill: { qty?: string | number; price?: string | number } = {}): boolean {
    return this.ledger.execute(orderId, {
      ...(fill.qty === undefined ? {} : { qty: new Decimal(fill.qty) }),
      ...(fill.price === undefined ? {} : { price: new Decimal(fill.price) }),
    });
  }

  /** Expires the open day orders, as the close does; returns how many. */
  expireDayOrders(): number {
    return this.ledger.expireDayOrders();
  }

  /** Cash, as a decimal string. */
  get cash(): string {
    return decimalString(this.ledger.cash);
  }

  /** Every order as Alpaca would show it (`GET /v2/orders/{id}`), in submission order. */
  orders(): Record<string, unknown>[] {
    return this.ledger.allOrders().map((o) => orderJson(o, null));
  }

  /** One order as Alpaca would show it, by id or client order id; null when unknown. */
  order(ref: { id: string } | { clientOrderId: string }): Record<string, unknown> | null {
    const o: FakeOrder | undefined =
      "id" in ref ? this.ledger.order(ref.id) : this.ledger.orderByClientId(ref.clientOrderId);
    return o ? orderJson(o, null) : null;
  }

  /** Positions as `{ symbol, qty }` decimal strings. */
  positions(): { symbol: string; qty: string }[] {
    return this.ledger.positionList().map((p) => ({ symbol: p.symbol, qty: decimalString(p.qty) }));
  }

  // ---- stream faults ------------------------------------------------------------------------

  /** Drops every trade_updates connection now; events until the client is back are lost, as on Alpaca. */
  dropStream(): void {
    this.stream.drop();
  }

  /** Refuses the next `n` stream connections with 429 (a stale connection Alpaca has not reaped). */
  refuseStream(n = 1): void {
    this.stream.refuse(n);
  }

  /** Sends each of the next `n` events twice. */
  duplicateEvents(n = 1): void {
    this.stream.duplicate(n);
  }

  /** Delivers each of the next `n` events after the one that follows it. */
  reorderEvents(n = 1): void {
    this.stream.reorder(n);
  }

  /** Stops the servers and drops every connection. */
  async close(): Promise<void> {
    this.stream.close();
    this.http.close();
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private onEvent(event: FakeTradeEvent): void {
    this.eventLog.push(event);
    if (this.eventLog.length > 50_000) this.eventLog.splice(0, 10_000);
    this.stream.publish(event);
  }
}
