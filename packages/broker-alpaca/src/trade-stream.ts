/**
 * The trade_updates websocket: connect, authenticate (`{"action":"authenticate"}`), listen
 * (`{"action":"listen","data":{"streams":["trade_updates"]}}`), then hand each event on. Frames
 * are JSON in binary frames (the paper stream sends binary) or text; a lone `0x01` byte is a
 * heartbeat. A ping every `heartbeatMs` whose pong does not come back drops a half-dead socket.
 * Lost connections are reopened with exponential backoff and jitter, so instances that lost the
 * stream together do not come back in step; a refused upgrade (Alpaca allows one stream per
 * account and answers others with 429/406) counts as `refused`, and is retried the same way.
 * Wrong credentials (`unauthorized`) are final: the stream stops rather than hammer Alpaca.
 *
 * Uses the `ws` package rather than Node's global WebSocket: `ws` can send pings and see pongs
 * (the global one cannot, so a half-open socket would go unnoticed), reports the HTTP status of a
 * refused upgrade, and bounds the opening handshake with a timeout.
 */

import type { Clock, Logger, TimerHandle } from "@tradecron/core";
import WebSocket from "ws";
import { backoffMs } from "./clock.js";
import type { Credentials } from "./credentials.js";
import { streamFrameSchema } from "./wire.js";

/** Where the stream is. */
export type StreamState =
  /** Not started, or stopped. */
  | "stopped"
  /** Opening, authenticating, subscribing. */
  | "connecting"
  /** Authenticated and listening to trade_updates. */
  | "listening"
  /** Lost; waiting to reconnect. */
  | "reconnecting"
  /** Alpaca refused the connection (another holder of the account's one stream, or throttling); retrying. */
  | "refused"
  /** Alpaca refused the credentials; stopped for good. */
  | "unauthorized";

/** What the stream needs. */
export interface TradeStreamDeps {
  url: string;
  credentials: Credentials;
  clock: Clock;
  logger: Logger;
  reconnect: { baseMs: number; maxMs: number; jitter: number };
  heartbeatMs: number;
  /** One trade_updates event's `data`. */
  onEvent: (data: unknown) => void;
  onState: (state: StreamState) => void;
  random?: () => number;
}

/** Statuses of a refused upgrade that mean "not now" rather than "never". */
const REFUSED_STATUSES = new Set([406, 409, 429, 503]);

/** One reconnecting trade_updates connection. */
export class TradeStream {
  private socket: WebSocket | null = null;
  private current: StreamState = "stopped";
  private attempt = 0;
  private reconnectTimer: TimerHandle | null = null;
  private heartbeatTimer: TimerHandle | null = null;
  private awaitingPong = false;
  private generation = 0;
  /** Times the stream came back after being lost. */
  reconnects = 0;
  private everListened = false;

  constructor(private readonly deps: TradeStreamDeps) {}

  get state(): StreamState {
    return this.current;
  }

  /** Starts connecting (no-op when already running). */
  start(): void {
    if (this.current !== "stopped" && this.current !== "unauthorized") return;
    this.attempt = 0;
    this.open();
  }

  /** Closes the socket and stops reconnecting. */
  stop(): void {
    this.generation++;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) closeQuietly(socket);
    this.setState("stopped");
  }

  private open(): void {
    const generation = ++this.generation;
    this.setState("connecting");
    const socket = new WebSocket(this.deps.url, {
      handshakeTimeout: Math.max(1_000, this.deps.heartbeatMs),
      perMessageDeflate: false,
    });
    this.socket = socket;
    const live = () => generation === this.generation;
    socket.on("open", () => {
      if (!live()) return;
      socket.send(this.deps.credentials.authFrame());
      this.armHeartbeat(socket, generation);
    });
    socket.on("message", (data: WebSocket.RawData) => {
      if (live()) this.receive(socket, data);
    });
    socket.on("pong", () => {
      this.awaitingPong = false;
    });
    socket.on("unexpected-response", (_req, res) => {
      if (!live()) return;
      const status = res.statusCode ?? 0;
      res.resume();
      this.deps.logger.warn({ status }, "alpaca trade_updates connection refused");
      if (status === 401 || status === 403) this.unauthorized();
      else this.lost(REFUSED_STATUSES.has(status) ? "refused" : "reconnecting");
    });
    socket.on("error", (error: Error) => {
      if (!live()) return;
      this.deps.logger.debug(
        { reason: this.deps.credentials.redact(error.message) },
        "alpaca trade_updates error",
      );
      this.lost("reconnecting");
    });
    socket.on("close", () => {
      if (live()) this.lost("reconnecting");
    });
  }

  private receive(socket: WebSocket, data: WebSocket.RawData): void {
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (buffer.length === 1 && buffer[0] === 0x01) return; // heartbeat
    let message: unknown;
    try {
      message = JSON.parse(buffer.toString("utf8"));
    } catch {
      this.deps.logger.warn({ bytes: buffer.length }, "alpaca trade_updates frame is not JSON; ignored");
      return;
    }
    for (const item of Array.isArray(message) ? message : [message]) {
      const frame = streamFrameSchema.safeParse(item);
      if (!frame.success) continue;
      const { stream, data: payload } = frame.data;
      const body = (payload ?? {}) as { status?: unknown; streams?: unknown; error_message?: unknown };
      if (stream === "authorization") {
        if (body.status === "authorized") {
          socket.send(JSON.stringify({ action: "listen", data: { streams: ["trade_updates"] } }));
        } else this.unauthorized();
      } else if (stream === "listening") {
        const streams = Array.isArray(body.streams) ? body.streams : [];
        if (streams.includes("trade_updates")) this.listening();
      } else if (stream === "trade_updates") {
        this.deps.onEvent(payload);
      } else if (frame.data.action === "error" || body.error_message !== undefined) {
        const text = this.deps.credentials.redact(String(body.error_message ?? "error"));
        this.deps.logger.warn({ message: text }, "alpaca trade_updates error frame");
        // Another connection holds the account's one stream: not now, maybe later.
        if (/limit|already/i.test(text)) this.lost("refused");
      }
    }
  }

  private listening(): void {
    if (this.everListened && this.attempt > 0) this.reconnects++;
    this.everListened = true;
    this.attempt = 0;
    this.setState("listening");
  }

  private unauthorized(): void {
    this.generation++;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) closeQuietly(socket);
    this.deps.logger.error({}, "alpaca trade_updates refused the credentials; the stream stays off");
    this.setState("unauthorized");
  }

  /** The socket is gone: schedule a reconnect with backoff. */
  private lost(state: "reconnecting" | "refused"): void {
    if (this.current === "stopped" || this.current === "unauthorized") return;
    this.generation++;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) closeQuietly(socket);
    this.attempt++;
    const wait = backoffMs(this.attempt, this.deps.reconnect, this.deps.random);
    this.deps.logger.info(
      { attempt: this.attempt, waitMs: wait, state },
      "alpaca trade_updates reconnecting",
    );
    this.setState(state);
    this.reconnectTimer = this.deps.clock.setTimeout(() => {
      this.reconnectTimer = null;
      this.open();
    }, wait);
  }

  /** Pings every `heartbeatMs`; a ping still unanswered at the next beat means the socket is dead. */
  private armHeartbeat(socket: WebSocket, generation: number, pinged = false): void {
    if (!pinged) this.awaitingPong = false;
    this.heartbeatTimer = this.deps.clock.setTimeout(() => {
      this.heartbeatTimer = null;
      if (generation !== this.generation) return;
      if (pinged && this.awaitingPong) {
        this.deps.logger.warn({}, "alpaca trade_updates missed a pong; dropping the socket");
        this.lost("reconnecting");
        return;
      }
      this.awaitingPong = true;
      try {
        socket.ping();
      } catch {
        // a closing socket: its close event reconnects
      }
      this.armHeartbeat(socket, generation, true);
    }, this.deps.heartbeatMs);
  }

  private clearTimers(): void {
    if (this.reconnectTimer !== null) this.deps.clock.clearTimeout(this.reconnectTimer);
    if (this.heartbeatTimer !== null) this.deps.clock.clearTimeout(this.heartbeatTimer);
    this.reconnectTimer = null;
    this.heartbeatTimer = null;
  }

  private setState(state: StreamState): void {
    if (state === this.current) return;
    this.current = state;
    this.deps.onState(state);
  }
}

function closeQuietly(socket: WebSocket): void {
  socket.removeAllListeners("message");
  socket.on("error", () => {});
  try {
    if (socket.readyState === WebSocket.OPEN) socket.close(1000, "bye");
    else socket.terminate();
  } catch {
    // already closed
  }
}
