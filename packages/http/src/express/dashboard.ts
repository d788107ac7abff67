/**
 * The dashboard's files: built into `dist/dashboard` when the package is built, served from
 * there under `/ui/`. Nothing is fetched at run time and nothing comes from a CDN.
 */

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import express, { type RequestHandler } from "express";
import { HttpError } from "../errors.js";

/** Where the built dashboard is: next to the bundle in `dist`, or `dist/dashboard` when run from source. */
export function dashboardDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "dashboard"), join(here, "..", "..", "dist", "dashboard")];
  for (const dir of candidates) if (existsSync(join(dir, "index.html"))) return dir;
  return null;
}

/** Serves the dashboard's static files (or a 503 problem when the package was not built). */
export function dashboardFiles(): RequestHandler {
  const dir = dashboardDir();
  if (!dir) {
    return (_req, _res, next) =>
      next(new HttpError(503, "DASHBOARD_NOT_BUILT", "the dashboard is not built (run the package build)"));
  }
  return express.static(dir, {
    index: "index.html",
    fallthrough: true,
    redirect: true,
    dotfiles: "ignore",
    setHeaders(res) {
      // Revalidate every time (ETag): a new version of the package is picked up at once.
      res.setHeader("Cache-Control", "no-cache");
    },
  });
}
