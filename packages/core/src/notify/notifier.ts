/**
 * The notifier contract: how tradecron tells a person that something needs them (a job exhausted
 * its retries, approvals wait, the broker dropped). A notifier delivers one {@link Notification}
 * per call; the {@link NotifierHub} fans them out in the background so no caller ever waits.
 */

import { z } from "zod";
import { TradecronError, type TradecronErrorOptions } from "../errors.js";
import type { JsonValue } from "../storage/records.js";
import type { Clock } from "../time/clock.js";
import { parseInput } from "../validation.js";

/** How urgent a notification is. */
export type NotificationSeverity = "info" | "warning" | "critical";

/** Severities, least urgent first. */
export const NOTIFICATION_SEVERITIES = ["info", "warning", "critical"] as const;

/** The kinds tradecron raises itself. */
export const NOTIFICATION_KINDS = [
  "run_failed",
  "approvals_requested",
  "approval_expired",
  "paused_all",
  "resumed_all",
  "broker_disconnected",
  "broker_reconnected",
] as const;

/** What a notification is about: one of tradecron's kinds, or an application's own. */
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number] | (string & {});

/** One message for a person, with structured fields for machines. */
export interface Notification {
  /** One line. */
  subject: string;
  /** The details, for people. */
  body: string;
  /** When it happened: ISO-8601 in UTC. */
  timestamp: string;
  severity: NotificationSeverity;
  kind: NotificationKind;
  /** Structured details (ids, counts, errors) for receivers that act on them. */
  data: JsonValue;
}

/** A notification as callers raise it: the timestamp defaults to now, the rest to empty. */
export interface NotificationInput {
  subject: string;
  kind: NotificationKind;
  body?: string;
  /** Default: the current time of the hub's clock. */
  timestamp?: string | Date | number;
  /** Default `info`. */
  severity?: NotificationSeverity;
  /** Default null. */
  data?: JsonValue;
}

/** Delivers notifications to one destination. */
export interface Notifier {
  /** Short name for logs and error reports (`console`, `webhook`, ...). */
  readonly name: string;
  /**
   * Delivers `notification`. Resolves once the destination has it; rejects with a
   * {@link NotifierError} when delivery failed for good, or a ValidationError for a malformed
   * notification. Never throws synchronously.
   */
  notify(notification: Notification): Promise<void>;
  /**
   * Optional: takes the function to call with failures of work the notifier does on its own, in
   * the background, where no `notify` promise can carry them (a storm summary sent on a timer).
   * A {@link NotifierHub} calls it when the notifier is added, so those failures reach the hub's
   * `onError` with the notifier's name; `notification` is what could not be delivered, if known.
   * Failures a `notify` promise already carries are not reported here again.
   */
  attach?(report: (error: Error, notification?: Notification) => void): void;
  /**
   * Optional: sends what the notifier still holds (pending summaries) and resolves when it is
   * delivered or has failed. A hub's `flush()` and `close()` await it, bounded by the hub's
   * `flushTimeout`, so a scheduler's `stop()` does not drop it.
   */
  flush?(): Promise<void>;
}

/** A notification could not be delivered (code `NOTIFIER`). */
export class NotifierError extends TradecronError {
  /** True when another try might succeed (network error, 5xx, 429, timeout). */
  readonly retryable: boolean;

  constructor(message: string, options: TradecronErrorOptions & { retryable?: boolean } = {}) {
    const { retryable = false, ...rest } = options;
    super("NOTIFIER", message, rest);
    this.retryable = retryable;
  }
}

/** Longest subject and body accepted: a notification is a message, not a report. */
const MAX_SUBJECT = 1_000;
const MAX_BODY = 100_000;
/** Deepest nesting accepted in `data` (also stops cycles). */
const MAX_DEPTH = 64;

function isJson(value: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJson(v, depth + 1));
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false;
    return Object.values(value).every((v) => isJson(v, depth + 1));
  }
  return false;
}

const jsonData = z.custom<JsonValue>((v) => isJson(v, 0), {
  message: `must be JSON (plain objects, arrays, strings, finite numbers, booleans, null; at most ${MAX_DEPTH} levels)`,
});

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

const timestampSchema = z.string().refine((s) => ISO_INSTANT.test(s) && Number.isFinite(Date.parse(s)), {
  message: "must be an ISO-8601 instant with a zone (e.g. 2026-01-05T14:30:00.000Z)",
});

const subject = z.string().trim().min(1).max(MAX_SUBJECT);
const body = z.string().max(MAX_BODY);
const kind = z.string().trim().min(1).max(100);

/** The schema of a complete {@link Notification}. */
export const notificationSchema = z.strictObject({
  subject,
  body,
  timestamp: timestampSchema,
  severity: z.enum(NOTIFICATION_SEVERITIES),
  kind,
  data: jsonData,
});

const inputSchema = z.strictObject({
  subject,
  kind,
  body: body.default(""),
  timestamp: z.union([timestampSchema, z.date(), z.number().min(0).max(8.64e15)]).optional(),
  severity: z.enum(NOTIFICATION_SEVERITIES).default("info"),
  data: jsonData.default(null),
});

/** Validates a complete notification; throws a ValidationError naming the field. */
export function parseNotification(input: unknown, component = "notifier"): Notification {
  return parseInput(notificationSchema, input, component) as Notification;
}

/**
 * Completes a {@link NotificationInput}: timestamp from `clock` when absent (always rendered as
 * ISO-8601 UTC), severity `info`, empty body, null data. Throws a ValidationError naming the field.
 */
export function toNotification(input: NotificationInput, clock: Clock, component = "notifier"): Notification {
  const parsed = parseInput(inputSchema, input, component);
  const at = parsed.timestamp ?? clock.now();
  const instant = typeof at === "string" ? Date.parse(at) : at instanceof Date ? at.getTime() : at;
  if (!Number.isFinite(instant)) {
    parseInput(timestampSchema, String(at), component, "timestamp");
  }
  return {
    subject: parsed.subject,
    body: parsed.body,
    timestamp: new Date(instant).toISOString(),
    severity: parsed.severity,
    kind: parsed.kind,
    data: parsed.data as JsonValue,
  };
}

/** The payload of a notification in a fixed key order (what webhooks sign and JSON lines print). */
export function notificationPayload(n: Notification): Notification {
  return {
    subject: n.subject,
    body: n.body,
    timestamp: n.timestamp,
    severity: n.severity,
    kind: n.kind,
    data: n.data,
  };
}
