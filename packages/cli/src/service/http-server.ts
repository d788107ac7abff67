/**
 * What `tradecron start` serves over HTTP: an Express app with @tradecron/http's router mounted at
 * the config's base path, so `/health`, `/status`, `/metrics`, the REST API, the event stream and
 * the dashboard all come from one place (and one auth). Bound before storage is opened (a taken
 * port changes nothing); until the service has started, every route but `/health` answers 503.
 */

import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger, Scheduler } from "@tradecron/core";
import { createRouter, type TokenSpec, type TradecronRouter } from "@tradecron/http";
import express, { type NextFunction, type Request, type Response } from "express";
import type { ResolvedHttp } from "../config/validate.js";

/** A listening HTTP server. */
export interface HttpServer {
  /** Where clients reach the router (`http://127.0.0.1:8080`, with the base path): commands' `--url`. */
  url: string;
  /** The dashboard, when served. */
  dashboardUrl: string | null;
  address: AddressInfo;
  router: TradecronRouter;
  /** Lets every route answer (until then only `/health` does: 503 "starting"). */
  ready(): void;
  /** Ends the event streams and closes every connection. Idempotent. */
  close(): Promise<void>;
}

/** `http://host:port`, with an address a client on this machine can use for a wildcard bind. */
export function clientUrl(address: AddressInfo, basePath: string): string {
  let host = address.address;
  if (host === "0.0.0.0") host = "127.0.0.1";
  if (host === "::") host = "::1";
  return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}${basePath}`;
}

function starting(_req: Request, res: Response): void {
  res
    .status(503)
    .type("application/problem+json")
    .set("Cache-Control", "no-store")
    .send(
      JSON.stringify({
        type: "urn:tradecron:error:starting",
        title: "Service Unavailable",
        status: 503,
        detail: "tradecron is starting",
        code: "STARTING",
      }),
    );
}

/**
 * Listens on `http.host:http.port` with the router for `scheduler`. With no tokens the router is
 * mounted locked: its one token is 32 random bytes that are never shown, so nobody can sign in,
 * and only the public endpoints (`/health` by default) answer. Rejects when the port is taken.
 */
export async function startHttpServer(
  scheduler: Scheduler,
  http: ResolvedHttp,
  tokens: TokenSpec[],
  logger: Logger,
): Promise<HttpServer> {
  const locked = tokens.length === 0;
  const router = createRouter(scheduler, {
    auth: {
      tokens: locked ? [{ name: "locked", role: "viewer", token: randomBytes(32).toString("hex") }] : tokens,
    },
    public: { health: http.publicHealth, metrics: http.publicMetrics },
    rateLimits: http.rateLimits,
    dashboard: http.dashboard,
    logger,
  });
  if (locked) {
    logger.warn(
      { event: "http:locked" },
      "http: no tokens configured (http.tokens): /status, /metrics, the API and the dashboard refuse every caller",
    );
  }
  let isReady = false;
  const app = express();
  app.disable("x-powered-by");
  const health = `${http.basePath}/health`;
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (isReady || req.path === health) return next();
    starting(req, res);
  });
  app.use(http.basePath || "/", router);
  if (http.basePath === "" && http.dashboard) app.get("/", (_req, res) => res.redirect(302, "/ui/"));
  app.use((_req: Request, res: Response) => {
    res
      .status(404)
      .type("application/problem+json")
      .send(
        JSON.stringify({
          type: "urn:tradecron:error:route-not-found",
          title: "Not Found",
          status: 404,
          detail: `not found; the API is at ${http.basePath || "/"}`,
          code: "ROUTE_NOT_FOUND",
        }),
      );
  });

  const server: Server = app.listen(http.port, http.host);
  // Keep-alive sockets from a monitor must not hold a stopping process open.
  server.keepAliveTimeout = 2000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
  } catch (error) {
    router.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const url = clientUrl(address, http.basePath);
  let closing: Promise<void> | null = null;
  return {
    url,
    dashboardUrl: http.dashboard ? `${url}/ui/` : null,
    address,
    router,
    ready() {
      isReady = true;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        router.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
