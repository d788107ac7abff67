/**
 * The fake's trade_updates websocket, as Alpaca speaks it: authenticate with
 * `{"action":"authenticate","data":{"key_id","secret_key"}}`, answered on the `authorization`
 * stream; `{"action":"listen","data":{"streams":["trade_updates"]}}`, answered on `listening`;
 * then every order event as `{"stream":"trade_updates","data":{event, execution_id, order,
 * timestamp, ...}}`, in binary frames like the paper stream. One connection per account: a
 * second upgrade is refused with 429 while one is open. No replay: events sent while nobody
 * listens are gone. Faults: drop every connection, refuse the next upgrades, duplicate events,
 * deliver events out of order.
 */

import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { decimalString } from "@tradecron/core";
import { WebSocket, WebSocketServer } from "ws";
import type { FakeTradeEvent } from "./fake-ledger.js";
import { orderJson } from "./fake-wire.js";

/** How long an event held back for reordering waits for a successor before it goes out anyway. */
const REORDER_HOLD_MS = 30;

/** Counts of what the stream did. */
export interface StreamStats {
  connections: number;
  refused: number;
  drops: number;
  eventsSent: number;
  eventsLost: number;
  duplicatesSent: number;
  reordered: number;
}

/** The trade_updates server. */
export class FakeStream {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly listeners = new Set<WebSocket>();
  /** Every socket, authenticated or not (for drops and close). */
  private readonly open = new Set<WebSocket>();
  /** Authenticated sockets: these hold the account's stream slots. */
  private readonly authenticated = new Set<WebSocket>();
  private refuseNext = 0;
  private duplicateNext = 0;
  private reorderNext = 0;
  private held: { frame: Buffer; timer: ReturnType<typeof setTimeout> } | null = null;
  readonly stats: StreamStats = {
    connections: 0,
    refused: 0,
    drops: 0,
    eventsSent: 0,
    eventsLost: 0,
    duplicatesSent: 0,
    reordered: 0,
  };

  constructor(
    private readonly deps: {
      /** Constant-time check of a key id and secret. */
      authorized: (keyId: unknown, secret: unknown) => boolean;
      legsOf: (event: FakeTradeEvent) => FakeTradeEvent["order"][];
      /** Connections allowed at once (Alpaca: one per account). */
      limit: number;
    },
  ) {}

  /** Handles an HTTP upgrade to the stream path. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.refuseNext > 0 || this.authenticated.size >= this.deps.limit) {
      if (this.refuseNext > 0) this.refuseNext--;
      this.stats.refused++;
      socket.end(
        "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" +
          JSON.stringify({ code: 42910000, message: "connection limit exceeded" }),
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    this.stats.connections++;
    this.open.add(ws);
    const send = (value: unknown) => ws.send(Buffer.from(JSON.stringify(value)));
    ws.on("message", (data: Buffer) => {
      let message: { action?: unknown; data?: Record<string, unknown> };
      try {
        message = JSON.parse(data.toString("utf8"));
      } catch {
        send({ stream: "error", data: { error_message: "invalid message" } });
        return;
      }
      if (message.action === "authenticate") {
        const ok = this.deps.authorized(message.data?.key_id, message.data?.secret_key);
        // A second authenticated connection on the account loses: Alpaca allows one.
        const full = ok && !this.authenticated.has(ws) && this.authenticated.size >= this.deps.limit;
        if (full) {
          this.stats.refused++;
          send({ action: "error", data: { error_message: "connection limit exceeded", error_code: 406 } });
          ws.close(1008, "connection limit exceeded");
          return;
        }
        send({
          stream: "authorization",
          data: { action: "authenticate", status: ok ? "authorized" : "unauthorized" },
        });
        if (ok) this.authenticated.add(ws);
        else ws.close(1008, "unauthorized");
      } else if (message.action === "listen") {
        if (!this.authenticated.has(ws)) {
          send({ stream: "authorization", data: { action: "listen", status: "unauthorized" } });
          ws.close(1008, "unauthorized");
          return;
        }
        const streams = Array.isArray(message.data?.streams) ? (message.data.streams as unknown[]) : [];
        if (streams.includes("trade_updates")) this.listeners.add(ws);
        else this.listeners.delete(ws);
        send({ stream: "listening", data: { streams: streams.filter((s) => s === "trade_updates") } });
      } else {
        send({ stream: "error", data: { error_message: "unknown action" } });
      }
    });
    const forget = () => {
      this.open.delete(ws);
      this.authenticated.delete(ws);
      this.listeners.delete(ws);
    };
    ws.on("close", forget);
    ws.on("error", forget);
  }

  /** Sends an order event to every listener, through the injected faults. */
  publish(event: FakeTradeEvent): void {
    const data: Record<string, unknown> = {
      event: event.event,
      execution_id: event.executionId,
      timestamp: event.timestamp,
      order: orderJson(event.order, this.deps.legsOf(event)),
    };
    if (event.price) data.price = decimalString(event.price);
    if (event.qty) data.qty = decimalString(event.qty);
    if (event.positionQty) data.position_qty = decimalString(event.positionQty);
    const frame = Buffer.from(JSON.stringify({ stream: "trade_updates", data }));
    if (this.listeners.size === 0) {
      this.stats.eventsLost++;
      return;
    }
    if (this.reorderNext > 0 && this.held === null) {
      this.reorderNext--;
      this.stats.reordered++;
      this.held = { frame, timer: setTimeout(() => this.release(), REORDER_HOLD_MS) };
      return;
    }
    this.broadcast(frame);
    if (this.duplicateNext > 0) {
      this.duplicateNext--;
      this.stats.duplicatesSent++;
      this.broadcast(frame);
    }
    this.release();
  }

  private release(): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    clearTimeout(held.timer);
    this.broadcast(held.frame);
  }

  private broadcast(frame: Buffer): void {
    for (const ws of this.listeners) {
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(frame);
        this.stats.eventsSent++;
      }
    }
  }

  /** Drops every connection at once, as a network failure would (no close handshake). */
  drop(): void {
    this.stats.drops++;
    if (this.held) {
      clearTimeout(this.held.timer);
      this.held = null;
      this.stats.eventsLost++;
    }
    for (const ws of this.open) ws.terminate();
    this.open.clear();
    this.authenticated.clear();
    this.listeners.clear();
  }

  /** Refuses the next `n` upgrades with 429 (a stale connection not yet reaped). */
  refuse(n: number): void {
    this.refuseNext += n;
  }

  /** Sends each of the next `n` events twice (same execution id). */
  duplicate(n: number): void {
    this.duplicateNext += n;
  }

  /** Delivers each of the next `n` events after the event that follows it. */
  reorder(n: number): void {
    this.reorderNext += n;
  }

  /** Number of connections listening to trade_updates. */
  get listening(): number {
    return this.listeners.size;
  }

  close(): void {
    if (this.held) clearTimeout(this.held.timer);
    this.held = null;
    for (const ws of this.open) ws.terminate();
    this.open.clear();
    this.authenticated.clear();
    this.listeners.clear();
    this.wss.close();
  }
}
