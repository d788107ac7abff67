/**
 * The health server of seed 004: `GET /health` answers `OK` (200) while the scheduler is healthy
 * or degraded, 503 with the reasons when it is unhealthy (starting, stopping, no heartbeat,
 * storage failing); `GET /status` answers the status snapshot as JSON. Bound to 127.0.0.1 by
 * default: it is for the local supervisor and monitoring, and it has no authentication.
 * Phase 2 replaces it with @tradecron/http's router (which adds /metrics and the API).
 */

import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Health } from "@tradecron/core";

/** What the server reports. */
export interface HealthSource {
  health(): Health;
  status(): Promise<unknown>;
}

/** The request handler (a plain Node listener, so another server can mount it). */
export function healthHandler(source: HealthSource): RequestListener {
  return (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/health") {
      const h = source.health();
      const ok = h.status !== "unhealthy";
      const body = ok
        ? h.status === "healthy"
          ? "OK\n"
          : `OK (degraded: ${h.reasons.join("; ")})\n`
        : `UNHEALTHY: ${h.reasons.join("; ")}\n`;
      res.writeHead(ok ? 200 : 503, {
        "content-type": "text/plain; charset=utf-8",
        "cache-control": "no-store",
      });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    if (path === "/status") {
      source.status().then(
        (snapshot) => {
          res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
          res.end(req.method === "HEAD" ? undefined : `${JSON.stringify(snapshot, null, 2)}\n`);
        },
        (error: unknown) => {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: (error as Error)?.message ?? String(error) }));
        },
      );
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  };
}

/** A listening health server. */
export interface HealthServer {
  server: Server;
  address: AddressInfo;
  close(): Promise<void>;
}

/** Listens on `host:port` (0 picks a free port). Rejects when the port is taken. */
export function startHealthServer(source: HealthSource, port: number, host: string): Promise<HealthServer> {
  const server = createServer(healthHandler(source));
  // Keep-alive sockets from a monitor must not hold a stopping process open.
  server.keepAliveTimeout = 2000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve({
        server,
        address: server.address() as AddressInfo,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
