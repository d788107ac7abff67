/**
 * Server-sent events, framework-neutral: the hub listens to every scheduler event, gives each an
 * id, keeps the latest in a ring for resuming, and writes them to the connected streams, with a
 * heartbeat comment so proxies keep idle streams open. A stream that cannot keep up (its socket
 * buffer past a limit) is closed rather than buffered without bound; the client reconnects and
 * resumes from its Last-Event-ID.
 */

import { randomBytes } from "node:crypto";
import type { Clock, Scheduler, SchedulerEventName } from "@tradecron/core";
import { iso } from "../dto.js";
import type { Json } from "../schemas/common.js";
import { SCHEDULER_EVENT_NAMES } from "./event-names.js";
import { EventRing } from "./event-ring.js";
import { serializePayload } from "./serialize.js";

/** Where a stream's frames go (an HTTP response, in the Express adapter). */
export interface EventSink {
  /** Writes text; false when the socket's buffer is full. */
  write(text: string): boolean;
  /** Bytes written but not yet sent. */
  buffered(): number;
  /** Ends the stream. */
  end(): void;
}

/** Options of {@link EventHub}. */
export interface EventHubOptions {
  clock: Clock;
  /** Events kept for resuming. */
  replay: number;
  /** Heartbeat interval in ms; 0 turns heartbeats off. */
  heartbeatMs: number;
  maxClients: number;
  /** A stream with more than this many bytes unsent is closed. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** How long a browser waits before reconnecting, sent as the stream's `retry`. Default 3000 ms. */
  retryMs?: number;
}

/** The JSON of one event, as the `data:` of its frame. */
export interface EventEnvelope {
  id: string;
  type: SchedulerEventName | "stream:open" | "stream:reset";
  at: string;
  data: Record<string, Json>;
}

/** Fans the scheduler's events out to SSE streams. */
export class EventHub {
  private readonly ring: EventRing;
  private readonly sinks = new Set<EventSink>();
  private readonly detach: () => void;
  private seq = 0;
  private heartbeat: unknown = null;
  private closed = false;

  constructor(
    scheduler: Scheduler,
    private readonly options: EventHubOptions,
  ) {
    this.ring = new EventRing(options.replay, randomBytes(6).toString("base64url").replaceAll("-", "_"));
    const listeners = SCHEDULER_EVENT_NAMES.map((name) => {
      const fn = (payload: unknown) => this.publish(name, payload as Record<string, unknown>);
      scheduler.on(name, fn as never);
      return () => scheduler.off(name, fn as never);
    });
    this.detach = () => {
      for (const off of listeners) off();
    };
  }

  /** Streams connected now. */
  get clients(): number {
    return this.sinks.size;
  }

  /** The id of the latest event (what a client that saw everything would send as Last-Event-ID). */
  get lastId(): string {
    return `${this.ring.epoch}-${this.seq}`;
  }

  /**
   * Connects a stream. With `lastEventId` the events after it are replayed, or a `stream:reset`
   * tells the client to reload when they are no longer held. Returns a function that disconnects
   * it, or null when the hub is full or closed.
   */
  connect(sink: EventSink, lastEventId: string | null): (() => void) | null {
    if (this.closed || this.sinks.size >= this.options.maxClients) return null;
    this.sinks.add(sink);
    let text = `retry: ${this.options.retryMs ?? 3000}\n\n`;
    if (lastEventId) {
      const missed = this.ring.since(lastEventId);
      if (missed === null)
        text += this.frame(this.envelope("stream:reset", { reason: "unknown or expired Last-Event-ID" }));
      else for (const entry of missed) text += entry.frame;
    } else {
      text += this.frame(this.envelope("stream:open", {}));
    }
    this.send(sink, text);
    this.armHeartbeat();
    return () => this.disconnect(sink);
  }

  /** Closes every stream and stops listening to the scheduler. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    if (this.heartbeat !== null) this.options.clock.clearTimeout(this.heartbeat);
    this.heartbeat = null;
    for (const sink of [...this.sinks]) {
      this.sinks.delete(sink);
      sink.end();
    }
  }

  private publish(type: SchedulerEventName, payload: Record<string, unknown>): void {
    let data: Record<string, Json>;
    try {
      data = serializePayload(payload ?? {});
    } catch {
      data = {};
    }
    this.seq++;
    const envelope: EventEnvelope = { id: this.lastId, type, at: iso(this.options.clock.now()), data };
    const frame = this.frame(envelope);
    this.ring.push({ id: envelope.id, seq: this.seq, frame });
    for (const sink of [...this.sinks]) this.send(sink, frame);
  }

  private envelope(type: EventEnvelope["type"], data: Record<string, Json>): EventEnvelope {
    return { id: this.lastId, type, at: iso(this.options.clock.now()), data };
  }

  private frame(envelope: EventEnvelope): string {
    // JSON.stringify escapes line breaks, so the data is one line.
    return `id: ${envelope.id}\ndata: ${JSON.stringify(envelope)}\n\n`;
  }

  private send(sink: EventSink, text: string): void {
    try {
      sink.write(text);
      if (sink.buffered() > (this.options.maxBufferedBytes ?? 1_048_576)) this.drop(sink);
    } catch {
      this.drop(sink);
    }
  }

  private drop(sink: EventSink): void {
    this.disconnect(sink);
    try {
      sink.end();
    } catch {
      // the socket is gone already
    }
  }

  private disconnect(sink: EventSink): void {
    this.sinks.delete(sink);
    if (this.sinks.size === 0 && this.heartbeat !== null) {
      this.options.clock.clearTimeout(this.heartbeat);
      this.heartbeat = null;
    }
  }

  /** One heartbeat timer for all streams, running only while a stream is connected. */
  private armHeartbeat(): void {
    if (this.heartbeat !== null || this.options.heartbeatMs <= 0 || this.closed) return;
    this.heartbeat = this.options.clock.setTimeout(() => {
      this.heartbeat = null;
      if (this.sinks.size === 0) return;
      const text = `: heartbeat ${iso(this.options.clock.now())}\n\n`;
      for (const sink of [...this.sinks]) this.send(sink, text);
      this.armHeartbeat();
    }, this.options.heartbeatMs);
  }
}
