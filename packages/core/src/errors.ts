/**
 * Every error tradecron throws or emits is a {@link TradecronError}: a stable `code` to branch on,
 * the offending `field` when bad input caused it, and the underlying `cause`.
 *
 * @packageDocumentation
 */

/** Stable machine-readable error codes. Adding a code is a minor change; renaming one is major. */
export type ErrorCode =
  | "VALIDATION"
  | "INVALID_CRON"
  | "UNKNOWN_TIMEZONE"
  | "UNKNOWN_CALENDAR"
  | "INVALID_INTERVAL"
  | "INVALID_INSTANT"
  | "INVALID_DATA"
  | "UNKNOWN_JOB"
  | "JOB_EXISTS"
  | "SCHEDULE_NOT_FOUND"
  | "SCHEDULE_EXISTS"
  | "REVISION_CONFLICT"
  | "FIRE_ALREADY_CLAIMED"
  | "NOT_RUNNING"
  | "PAUSED"
  | "RUN_TIMEOUT"
  | "RUN_CANCELLED"
  | "LEASE_LOST"
  | "LEASE_EXPIRED"
  | "STORAGE"
  | "STORAGE_CORRUPT"
  | "STORAGE_LOCKED"
  | "STORAGE_VERSION"
  | "NOT_FOUND"
  | "CONFLICT"
  | "BROKER_UNAVAILABLE"
  | "BROKER_RATE_LIMITED"
  | "BROKER_REJECTED"
  | "BROKER_AUTH"
  | "BROKER_NOT_CONFIGURED"
  | "RISK_REJECTED"
  | "APPROVAL_NOT_PENDING"
  | "APPROVAL_GROUP_NOT_PENDING"
  | "APPROVAL_IN_GROUP"
  | "NOTIFIER";

/** Options shared by every tradecron error constructor. */
export interface TradecronErrorOptions {
  /** The input field at fault, as a dotted path (`trigger.expression`). */
  field?: string;
  /** The error that caused this one. */
  cause?: unknown;
  /** Structured data that helps a caller act on the error (ids, limits, ...). */
  details?: Record<string, unknown>;
}

/** Base class of every tradecron error. `code` is stable; `message` is for people. */
export class TradecronError extends Error {
  /** Stable code to branch on. */
  readonly code: ErrorCode;
  /** The input field at fault, if the error is about input. */
  readonly field: string | undefined;
  /** Structured context. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: TradecronErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.field = options.field;
    this.details = options.details;
  }

  /** A plain object for logs and HTTP bodies. */
  toJSON(): {
    name: string;
    code: ErrorCode;
    message: string;
    field?: string;
    details?: Record<string, unknown>;
  } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.field === undefined ? {} : { field: this.field }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

/** One problem found in an input, as reported by {@link ValidationError.issues}. */
export interface ValidationIssue {
  /** Dotted path of the field (`retry.attempts`), empty for the input as a whole. */
  field: string;
  /** What is wrong with it. */
  message: string;
  /** The specific code of this issue. */
  code: ErrorCode;
}

/** Bad input, rejected at the call. `field` names the first offending field; `issues` lists all. */
export class ValidationError extends TradecronError {
  /** Every problem found, first one first. */
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[], options: { cause?: unknown; component?: string } = {}) {
    const first = issues[0] ?? { field: "", message: "invalid input", code: "VALIDATION" as const };
    const where = first.field ? `${first.field}: ` : "";
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super(first.code, `${options.component ?? "tradecron"}: ${where}${first.message}${more}`, {
      field: first.field || undefined,
      cause: options.cause,
    });
    this.issues = issues;
  }
}

/** A schedule, job or record that does not exist. */
export class NotFoundError extends TradecronError {}

/** A write that lost a race: the id exists already, or the revision moved on. */
export class ConflictError extends TradecronError {}

/** The call is not allowed in the scheduler's current state (stopped, paused-all, ...). */
export class StateError extends TradecronError {}

/** A run that exceeded its timeout; the handler's signal was aborted. */
export class RunTimeoutError extends TradecronError {
  constructor(timeoutMs: number) {
    super("RUN_TIMEOUT", `run exceeded its timeout of ${timeoutMs} ms`, { details: { timeoutMs } });
  }
}

/** A run that was cancelled (overlap policy, shutdown, lost lease). */
export class RunCancelledError extends TradecronError {}

/** A storage backend failed, or found data it cannot trust. */
export class StorageError extends TradecronError {}

/** Wraps anything thrown into an Error, so events and records always carry a message. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === "string" ? value : `non-error thrown: ${safeString(value)}`);
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The `code` of an error if it has a string one (ours, Node's, a broker SDK's), else null. */
export function errorCode(error: unknown): string | null {
  if (error && typeof error === "object" && "code" in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === "string") return code;
    if (typeof code === "number") return String(code);
  }
  return null;
}
