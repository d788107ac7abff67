/**
 * RFC 9457 problem details: every error the API answers with is `application/problem+json`
 * carrying the SDK error's stable `code` and `field`. A 30-line mapping is simpler than any of the
 * 7807-era libraries (see README "Why these libraries").
 */

import { TradecronError, ValidationError } from "@tradecron/core";
import { HttpError } from "./errors.js";

/** The media type of problem details. */
export const PROBLEM_TYPE = "application/problem+json";

/** A problem details body (RFC 9457) with tradecron's extensions. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  /** The SDK error's stable code (`VALIDATION`, `SCHEDULE_NOT_FOUND`, `UNAUTHORIZED`, ...). */
  code: string;
  /** The input field at fault, when bad input caused it. */
  field?: string;
  /** Every validation issue, first one first. */
  errors?: { field: string; message: string; code: string }[];
}

/** Status of each core error code that is not a 400. */
const STATUS_BY_CODE: Record<string, number> = {
  SCHEDULE_NOT_FOUND: 404,
  NOT_FOUND: 404,
  BROKER_NOT_CONFIGURED: 404,
  SCHEDULE_EXISTS: 409,
  JOB_EXISTS: 409,
  REVISION_CONFLICT: 409,
  FIRE_ALREADY_CLAIMED: 409,
  CONFLICT: 409,
  APPROVAL_NOT_PENDING: 409,
  APPROVAL_GROUP_NOT_PENDING: 409,
  APPROVAL_IN_GROUP: 409,
  NOT_RUNNING: 409,
  PAUSED: 409,
  RISK_REJECTED: 422,
  BROKER_REJECTED: 422,
  BROKER_UNAVAILABLE: 503,
  BROKER_RATE_LIMITED: 503,
  STORAGE: 503,
  STORAGE_CORRUPT: 503,
  STORAGE_LOCKED: 503,
  STORAGE_VERSION: 503,
  LEASE_LOST: 503,
  LEASE_EXPIRED: 503,
  NOTIFIER: 503,
  RUN_TIMEOUT: 504,
  RUN_CANCELLED: 409,
};

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** The HTTP status an error is answered with. */
export function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (error instanceof TradecronError) return STATUS_BY_CODE[error.code] ?? 400;
  return 500;
}

/**
 * The problem details of `error`. Messages of tradecron errors are for people and never carry a
 * secret; anything else (a bug, a driver error) is answered with a generic text, so a stack or a
 * connection string never reaches a client.
 */
export function problemOf(error: unknown, instance?: string): Problem {
  const status = statusOf(error);
  const known = error instanceof TradecronError;
  const code = known ? String(error.code) : "INTERNAL";
  // Storage and unknown failures may quote paths or connection details: say what, not the text.
  const detail =
    known && status < 500
      ? error.message
      : known
        ? `${String(error.code).toLowerCase().replaceAll("_", " ")}: the service cannot answer right now`
        : "internal error";
  const problem: Problem = {
    type: `urn:tradecron:error:${code.toLowerCase().replaceAll("_", "-")}`,
    title: TITLES[status] ?? "Error",
    status,
    detail,
    code,
  };
  if (instance !== undefined) problem.instance = instance;
  if (known && error.field) problem.field = error.field;
  if (error instanceof ValidationError && error.issues.length > 0) {
    problem.errors = error.issues.map((i) => ({ field: i.field, message: i.message, code: String(i.code) }));
  }
  return problem;
}

/** Seconds a client should wait before retrying, for errors that say so. */
export function retryAfterOf(error: unknown): number | null {
  if (error instanceof TradecronError && typeof error.details?.retryAfterMs === "number") {
    return Math.max(1, Math.ceil(error.details.retryAfterMs / 1000));
  }
  return null;
}
