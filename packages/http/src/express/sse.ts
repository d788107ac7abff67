/** `/events` over Express: an HTTP response as an {@link EventSink}, resumed from Last-Event-ID. */

import type { Request, Response } from "express";
import { HttpError } from "../errors.js";
import type { EventHub } from "../events/event-hub.js";

/** Streams the hub's events to one response until the client goes away. */
export function streamEvents(hub: EventHub, maxClients: number, req: Request, res: Response): void {
  if (hub.clients >= maxClients) {
    throw new HttpError(503, "TOO_MANY_STREAMS", "too many event streams open; try again later", {
      details: { retryAfterMs: 5000 },
    });
  }
  const header = req.get("last-event-id");
  const fromQuery = typeof req.query.lastEventId === "string" ? req.query.lastEventId : undefined;
  const lastEventId = (header ?? fromQuery ?? "").slice(0, 100) || null;
  res.status(200).set({
    "Content-Type": "text/event-stream; charset=utf-8",
    // no-transform keeps compression middleware from buffering the stream.
    "Cache-Control": "no-store, no-transform",
    Connection: "keep-alive",
    "X-Accel-Buffering": "no",
  });
  res.flushHeaders();
  const disconnect = hub.connect(
    {
      write: (text) => res.write(text),
      buffered: () => res.writableLength,
      end: () => res.end(),
    },
    lastEventId,
  );
  if (!disconnect) {
    res.end();
    return;
  }
  req.on("close", disconnect);
  res.on("close", disconnect);
}
