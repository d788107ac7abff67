/**
 * The errors the HTTP layer adds to core's: each a {@link HttpError} with a stable `code`, the
 * HTTP status it maps to, and (for bad input) the field at fault. Core's own errors keep their
 * codes; `problem.ts` maps both to RFC 9457 problem details.
 */

import { type ErrorCode, TradecronError, type TradecronErrorOptions } from "@tradecron/core";

/**
 * Codes of errors raised by the HTTP layer itself. They extend core's {@link ErrorCode} set; the
 * union lives here until core's `ErrorCode` lists them (see the package README, "Gaps in core").
 */
export type HttpErrorCode =
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "CSRF_REJECTED"
  | "RATE_LIMITED"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "MALFORMED_JSON"
  | "BAD_REQUEST"
  | "ROUTE_NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "LIFECYCLE_DISABLED"
  | "TOO_MANY_STREAMS"
  | "DASHBOARD_NOT_BUILT";

/** An error the HTTP layer raises, with the status it is answered with. */
export class HttpError extends TradecronError {
  /** HTTP status of the response. */
  readonly status: number;

  constructor(status: number, code: HttpErrorCode, message: string, options: TradecronErrorOptions = {}) {
    // Core's ErrorCode does not list the HTTP codes yet; the cast is the one place that knows.
    super(code as unknown as ErrorCode, `http: ${message}`, options);
    this.status = status;
  }
}
