/**
 * The host's own Express 5 app, as an existing service would have it (its own pages and API), with
 * the tradecron router mounted at `/scheduler` in one line. Nothing here knows about scheduling.
 */

import type { TradecronRouter } from "@tradecron/http";
import express, { type Express } from "express";

/** The app: its own routes beside the mounted router. */
export function createApp(router: TradecronRouter): Express {
  const app = express();
  app.disable("x-powered-by");

  // The host's own routes: a home page and an API of its own.
  app.get("/", (_req, res) => {
    res
      .type("html")
      .send(
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>My trading app</title>' +
          '<h1>My trading app</h1><p>The scheduler dashboard is at <a href="/scheduler/">/scheduler/</a>.</p></html>',
      );
  });
  app.get("/api/quote/:symbol", (req, res) => {
    res.json({ symbol: req.params.symbol.toUpperCase(), source: "the host's own API" });
  });
  app.get("/healthz", (_req, res) => {
    res.json({ ok: true });
  });

  // The one line.
  app.use("/scheduler", router);
  return app;
}
