/** Writing answers: JSON results, problem details, and the session cookie. */

import type { Logger } from "@tradecron/core";
import type { Request, Response } from "express";
import type { ApiResult } from "../api/route.js";
import { HttpError } from "../errors.js";
import { PROBLEM_TYPE, problemOf, retryAfterOf } from "../problem.js";

/** How the session cookie is written. */
export interface CookieSettings {
  name: string;
  secure: boolean | "auto";
}

function cookieOptions(req: Request, settings: CookieSettings) {
  return {
    httpOnly: true,
    sameSite: "strict" as const,
    secure: settings.secure === "auto" ? req.secure : settings.secure,
    // Scoped to where the router is mounted: `/scheduler` matches `/scheduler/...` but not `/schedulerX`.
    path: req.baseUrl || "/",
  };
}

/** Sends a handler's result. API answers are never cached: they describe a live account. */
export function sendResult(req: Request, res: Response, result: ApiResult, cookie: CookieSettings): void {
  res.set("Cache-Control", "no-store");
  if (result.headers) res.set(result.headers);
  if (result.session && "set" in result.session) {
    res.cookie(cookie.name, result.session.set.value, {
      ...cookieOptions(req, cookie),
      expires: new Date(result.session.set.expiresAt),
    });
  } else if (result.session && "clear" in result.session) {
    res.clearCookie(cookie.name, cookieOptions(req, cookie));
  }
  if (result.status === 204 || result.body === undefined) {
    res.status(result.status).end();
    return;
  }
  res.status(result.status).json(result.body);
}

/** Sends `error` as problem details; 5xx are logged (name, code and message only: no headers, no body). */
export function sendProblem(req: Request, res: Response, error: unknown, logger: Logger): void {
  const problem = problemOf(error, req.originalUrl.split("?")[0]);
  if (problem.status >= 500) {
    const e = error instanceof Error ? error : new Error(String(error));
    logger.error(
      {
        route: res.locals.tcRoute ?? "unmatched",
        method: req.method,
        status: problem.status,
        err: { name: e.name, code: problem.code, message: e.message },
      },
      `http: ${req.method} ${res.locals.tcRoute ?? "unmatched"} failed with ${problem.status} ${problem.code}`,
    );
  }
  if (res.headersSent) {
    res.end();
    return;
  }
  res.set("Cache-Control", "no-store");
  const retryAfter = retryAfterOf(error);
  if (retryAfter !== null) res.set("Retry-After", String(retryAfter));
  if (problem.status === 401) res.set("WWW-Authenticate", 'Bearer realm="tradecron"');
  if (error instanceof HttpError && error.details?.allow) res.set("Allow", String(error.details.allow));
  res.status(problem.status).type(PROBLEM_TYPE).send(JSON.stringify(problem));
}
