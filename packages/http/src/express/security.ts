/**
 * What stands between the internet and a live account, as Express middleware: security headers
 * with a strict CSP (helmet), authentication and role checks, CSRF and Origin checks on every
 * mutation, per-token rate limits (express-rate-limit), and the JSON body rules.
 */

import type { NextFunction, Request, RequestHandler, Response } from "express";
import express from "express";
import { ipKeyGenerator, MemoryStore, rateLimit } from "express-rate-limit";
import helmet from "helmet";
import type { RouteSpec } from "../api/route.js";
import type { Authenticator } from "../auth/authenticator.js";
import { roleAllows } from "../auth/roles.js";
import { HttpError } from "../errors.js";

/**
 * Security headers: helmet's set with a CSP that allows only this origin's own scripts, styles
 * and connections (the dashboard has no inline script or style), no framing, no referrer. HSTS is
 * left to the host: a router mounted on one path must not decide it for the whole domain.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
      },
    },
    strictTransportSecurity: false,
    referrerPolicy: { policy: "no-referrer" },
    crossOriginResourcePolicy: { policy: "same-origin" },
  });
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** True when the request changes something (anything but GET, HEAD, OPTIONS). */
export function isMutation(req: Request): boolean {
  return !SAFE_METHODS.has(req.method);
}

/**
 * A browser sends `Origin` on every cross-site POST: a mutation whose Origin is not this host is
 * refused, whatever its credentials (login CSRF, and drive-by requests to a router without auth).
 */
function originOk(req: Request): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (origin === "null") return false;
  try {
    return new URL(origin).host === req.host;
  } catch {
    return false;
  }
}

/** Authenticates the caller and checks its role, the CSRF token and the Origin of mutations. */
export function authorize(spec: RouteSpec, auth: Authenticator): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    res.locals.tcRoute = spec.id;
    const outcome = auth.authenticate({
      authorization: req.headers.authorization,
      cookie: req.headers.cookie,
    });
    if (outcome.ok) res.locals.identity = outcome.identity;
    if (isMutation(req) && !originOk(req)) {
      next(new HttpError(403, "CSRF_REJECTED", "cross-origin request refused"));
      return;
    }
    if (spec.role === "public") {
      next();
      return;
    }
    if (!outcome.ok) {
      next(
        new HttpError(
          401,
          "UNAUTHORIZED",
          outcome.reason === "missing"
            ? "credentials required (Authorization: Bearer <token>)"
            : "unknown or expired credentials",
        ),
      );
      return;
    }
    const identity = outcome.identity;
    if (!roleAllows(identity.role, spec.role)) {
      next(new HttpError(403, "FORBIDDEN", `the ${identity.role} role may not do this (needs ${spec.role})`));
      return;
    }
    if (isMutation(req) && !auth.csrfOk(identity, req.get("x-csrf-token"))) {
      next(new HttpError(403, "CSRF_REJECTED", "missing or wrong X-CSRF-Token header for this session"));
      return;
    }
    next();
  };
}

/** Limits of the rate limiters, per minute. */
export interface RateLimitSettings {
  mutationsPerMinute: number;
  triggersPerMinute: number;
  signInsPerMinute: number;
}

function limiter(
  store: MemoryStore,
  limit: number,
  key: (req: Request, res: Response) => string,
  what: string,
  byAddress: boolean,
) {
  return rateLimit({
    store,
    windowMs: 60_000,
    limit,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    keyGenerator: key,
    // Keyed by token name, the address checks do not apply; the sign-in limiter keeps them.
    ...(byAddress ? {} : { validate: { trustProxy: false, xForwardedForHeader: false, ip: false } }),
    handler: (_req, _res, next, options) => {
      next(
        new HttpError(429, "RATE_LIMITED", `too many ${what}; try again later`, {
          details: { retryAfterMs: options.windowMs, limit: options.limit },
        }),
      );
    },
  });
}

/** The three rate limiters of a router, and `close()` to stop their stores' timers. */
export function rateLimiters(settings: RateLimitSettings): {
  mutation: RequestHandler;
  trigger: RequestHandler;
  signIn: RequestHandler;
  close(): void;
} {
  const byToken = (_req: Request, res: Response) => `token:${res.locals.identity?.name ?? "anonymous"}`;
  const stores = [new MemoryStore(), new MemoryStore(), new MemoryStore()] as const;
  return {
    mutation: limiter(stores[0], settings.mutationsPerMinute, byToken, "changes from this token", false),
    trigger: limiter(stores[1], settings.triggersPerMinute, byToken, "manual runs from this token", false),
    close: () => {
      for (const store of stores) store.shutdown();
    },
    signIn: limiter(
      stores[2],
      settings.signInsPerMinute,
      (req) => `ip:${ipKeyGenerator(req.ip ?? "unknown")}`,
      "sign-in attempts from this address",
      true,
    ),
  };
}

/** Deepest JSON nesting accepted: well past any real schedule, far from the stack's limit. */
export const MAX_JSON_DEPTH = 64;

/** True if `value` nests deeper than `max` (checked without recursion). */
export function tooDeep(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== "object") continue;
    if (depth > max) return true;
    for (const child of Object.values(v as object)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * The JSON body rules: a body must be `application/json`, at most `limit` bytes, well-formed and
 * not absurdly deep. No body at all stands for `{}`.
 */
export function jsonBody(limit: number): RequestHandler[] {
  const parse = express.json({ limit, strict: true, type: () => true });
  return [
    (req, _res, next) => {
      const length = req.headers["content-length"];
      const hasBody =
        req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
      if (!hasBody) {
        next();
        return;
      }
      if (!req.is("application/json")) {
        next(new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json"));
        return;
      }
      parse(req, _res, next);
    },
    (req, _res, next) => {
      if (req.body !== undefined && tooDeep(req.body, MAX_JSON_DEPTH)) {
        next(new HttpError(400, "MALFORMED_JSON", `the body nests deeper than ${MAX_JSON_DEPTH} levels`));
        return;
      }
      next();
    },
  ];
}

/**
 * Express's and body-parser's own failures as our errors: too large, malformed, bad charset, a
 * path that does not decode. Anything else is not theirs (null).
 */
export function requestError(error: unknown): HttpError | null {
  if (!error || typeof error !== "object" || error instanceof HttpError) return null;
  if (!("type" in error)) {
    // http-errors from the router (a path with malformed percent-encoding is a 400).
    const status = (error as { status?: unknown; expose?: unknown }).status;
    return typeof status === "number" && status >= 400 && status < 500
      ? new HttpError(status, "BAD_REQUEST", "the request could not be read")
      : null;
  }
  const type = String((error as { type: unknown }).type);
  switch (type) {
    case "entity.too.large":
      return new HttpError(413, "PAYLOAD_TOO_LARGE", "the body is larger than this router accepts");
    case "entity.parse.failed":
      return new HttpError(
        400,
        "MALFORMED_JSON",
        "the body is not well-formed JSON (or not an object or array)",
      );
    case "encoding.unsupported":
    case "charset.unsupported":
      return new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "unsupported body encoding or charset");
    case "request.aborted":
    case "request.size.invalid":
    case "stream.encoding.set":
    case "stream.not.readable":
      return new HttpError(400, "MALFORMED_JSON", "the body could not be read");
    default:
      return null;
  }
}
