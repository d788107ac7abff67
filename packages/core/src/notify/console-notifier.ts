/**
 * ConsoleNotifier: one readable line per notification, to stderr by default, to any write
 * function, or through a pino-compatible logger at the level matching the severity.
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
   * `line` (default): `2026-01-05T14:30:00.000Z CRITICAL run_failed: subject — body {data}`;
   * `json`: the notification as one JSON object per line.
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

/** Newlines would split one notification over several log lines; show them escaped. */
function oneLine(text: string): string {
  return text.replace(/\r?\n/g, "\\n");
}

/** The readable line of a notification (the `line` format). */
export function formatNotificationLine(n: Notification): string {
  const body = n.body ? ` — ${oneLine(n.body)}` : "";
  const data = n.data === null ? "" : ` ${JSON.stringify(n.data)}`;
  return `${n.timestamp} ${n.severity.toUpperCase()} ${n.kind}: ${oneLine(n.subject)}${body}${data}`;
}

/** Writes each notification as one line. */
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
