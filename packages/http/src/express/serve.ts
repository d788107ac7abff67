/**
 * `serve(scheduler)`: the router on a port of its own, for programs that have no web app (a
 * standalone worker, the demo): an Express app with the router at `/scheduler`, on 127.0.0.1 by
 * default, and, unless tokens are given, one admin token made up for this run, to print once.
 */

import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Scheduler } from "@tradecron/core";
import express from "express";
import type { RouterOptions } from "../options.js";
import { createRouter, type TradecronRouter } from "./router.js";

/** Options of {@link serve}. */
export interface ServeOptions extends Omit<RouterOptions, "auth" | "dangerouslyDisableAuth"> {
  /** Port (0: any free one). Default 0. */
  port?: number;
  /** Address. Default 127.0.0.1: this machine only. */
  host?: string;
  /** Tokens; default one admin token named `admin`, made up for this run. */
  tokens?: NonNullable<RouterOptions["auth"]>["tokens"];
}

/** A running server. */
export interface Served {
  /** `http://host:port`. */
  url: string;
  /** The dashboard: `url` + `/scheduler/`. */
  dashboardUrl: string;
  /** The made-up admin token, or null when tokens were given. Show it once; it is not stored. */
  token: string | null;
  router: TradecronRouter;
  server: Server;
  /** Closes the server and the router (not the scheduler). Idempotent. */
  close(): Promise<void>;
}

/** Serves the router (API and dashboard) for `scheduler` on a port of its own. */
export async function serve(scheduler: Scheduler, options: ServeOptions = {}): Promise<Served> {
  const { port = 0, host = "127.0.0.1", tokens, ...routerOptions } = options;
  const token = tokens ? null : randomBytes(24).toString("base64url");
  const router = createRouter(scheduler, {
    ...routerOptions,
    auth: { tokens: tokens ?? [{ name: "admin", role: "admin", token: token as string }] },
  });
  const app = express();
  app.disable("x-powered-by");
  app.use("/scheduler", router);
  const server = app.listen(port, host);
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
  const url = `http://${address.address.includes(":") ? `[${address.address}]` : address.address}:${address.port}`;
  let closing: Promise<void> | null = null;
  return {
    url,
    dashboardUrl: `${url}/scheduler/`,
    token,
    router,
    server,
    close() {
      closing ??= new Promise<void>((resolve) => {
        router.close();
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
