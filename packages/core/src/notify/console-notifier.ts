/**
 * ConsoleNotifier: readable text per notification (a multi-line body indented under its header
 * line) or one JSON object per line, to stderr by default, to any write function, or through a
 * pino-compatible logger at the level matching the severity.
 */

import { z } from "zod";
import { toError } from "../errors.js";
import type { Logger } from "../logger.js";
import { parseInput } from "../validation.js";
import {
  type Notification,
  type Notifier,
  NotifierError,
  notificationPayload,
  parseNotification,
} from "./notifier.js";

/** Options of {@link ConsoleNotifier}. */
export interface ConsoleNotifierOptions {
  /** Name in error reports (default `console`). */
  name?: string;
  /** Where lines go (default: stderr). Ignored when `logger` is set. */
  write?: (line: string) => void;
  /** Log through this logger instead: info, warn or error by severity, fields `kind`, `severity`, `timestamp`, `data`. */
  logger?: Logger;
  /**
   * `line` (default): `2026-01-05T14:30:00.000Z CRITICAL run_failed: subject — body {data}`, a
   * multi-line body on the following lines, indented (see {@link formatNotificationLine});
   * `json`: the notification as one JSON object per line (newlines escaped, so each write is one line).
   */
  format?: "line" | "json";
}

const isFunction = (v: unknown) => typeof v === "function";

const optionsSchema = z.strictObject({
  name: z.string().trim().min(1).max(100).default("console"),
  write: z.custom<(line: string) => void>(isFunction, { message: "must be a function" }).optional(),
  logger: z
    .custom<Logger>(
      (v) =>
        typeof v === "object" &&
        v !== null &&
        isFunction((v as Logger).info) &&
        isFunction((v as Logger).warn) &&
        isFunction((v as Logger).error),
      { message: "must be a logger (info, warn, error)" },
    )
    .optional(),
  format: z.enum(["line", "json"]).default("line"),
});

const LEVEL = { info: "info", warning: "warn", critical: "error" } as const;

/** A subject is one line: a line break in it is shown as a space. */
function oneLine(text: string): string {
  return text.replace(/[ \t]*(?:\r\n|\r|\n)[ \t]*/g, " ");
}

/** Continuation lines are indented, so no line of a body can pass for the start of another notification. */
const INDENT = "  ";

/**
 * The readable text of a notification (the `line` format): one line,
 * `2026-01-05T14:30:00.000Z CRITICAL run_failed: subject — body {data}`, when the body is one line.
 * A multi-line body (a list of proposed trades) follows the header line as it was written, each
 * of its lines indented by two spaces.
 */
export function formatNotificationLine(n: Notification): string {
  const data = n.data === null ? "" : ` ${JSON.stringify(n.data)}`;
  const head = `${n.timestamp} ${n.severity.toUpperCase()} ${n.kind}: ${oneLine(n.subject)}`;
  const body = n.body.replace(/\s+$/, "");
  const lines = body.split(/\r\n|\r|\n/);
  if (lines.length === 1) return `${head}${body ? ` — ${body}` : ""}${data}`;
  return [`${head}${data}`, ...lines.map((l) => (l === "" ? "" : `${INDENT}${l}`))].join("\n");
}

/** Writes each notification as readable text (one line, or a header and an indented body) or as one JSON line. */
export class ConsoleNotifier implements Notifier {
  readonly name: string;
  private readonly options: z.output<typeof optionsSchema>;

  /** @throws ValidationError naming the bad option. */
  constructor(options: ConsoleNotifierOptions = {}) {
    this.options = parseInput(optionsSchema, options, "ConsoleNotifier");
    this.name = this.options.name;
  }

  async notify(notification: Notification): Promise<void> {
    const n = parseNotification(notification, `notifier ${this.name}`);
    try {
      const { logger, format } = this.options;
      if (logger) {
        const fields = { kind: n.kind, severity: n.severity, timestamp: n.timestamp, data: n.data };
        logger[LEVEL[n.severity]](fields, n.body ? `${n.subject}: ${n.body}` : n.subject);
        return;
      }
      const line = format === "json" ? JSON.stringify(notificationPayload(n)) : formatNotificationLine(n);
      const write = this.options.write ?? ((l: string) => process.stderr.write(`${l}\n`));
      write(line);
    } catch (error) {
      throw new NotifierError(`notifier ${this.name}: writing failed: ${toError(error).message}`, {
        cause: error,
        details: { notifier: this.name },
      });
    }
  }
}
