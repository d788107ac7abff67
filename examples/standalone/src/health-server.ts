/**
 * The health server of seed 004: `GET /health` answers `OK` (200) while the scheduler is healthy
 * or degraded and 503 with the reasons when it is unhealthy; `GET /status` returns the status
 * snapshot as JSON. Bound to 127.0.0.1 by default: it is for the local supervisor and monitoring.
 */

import { createServer, type Server } from "node:http";
import type { Scheduler } from "@tradecron/core";
import { statusSnapshot } from "./status-file.js";

/** Starts the health server; resolves with the server once it listens. */
export function startHealthServer(scheduler: Scheduler, port: number, host = "127.0.0.1"): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET") {
      res.writeHead(405, { allow: "GET" }).end();
      return;
    }
    if (url.pathname === "/health") {
      const health = scheduler.health();
      const ok = health.status !== "unhealthy";
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain; charset=utf-8" });
      res.end(
        ok
          ? health.status === "healthy"
            ? "OK\n"
            : `OK (degraded: ${health.reasons.join("; ")})\n`
          : `UNHEALTHY: ${health.reasons.join("; ")}\n`,
      );
      return;
    }
    if (url.pathname === "/status") {
      statusSnapshot(scheduler).then(
        (snapshot) => {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(`${JSON.stringify(snapshot, null, 2)}\n`);
        },
        (error: unknown) => {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: String(error) }));
        },
      );
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
