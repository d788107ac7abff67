/**
 * Structured JSON logs with pino, through core's pino-compatible Logger interface: one JSON object
 * per line (`level`, `time`, `msg`, fields), errors under `err` with pino's serializer. Written
 * synchronously, so the last lines before a crash or `process.exit` are never lost.
 */

import type { Logger, LogLevel } from "@tradecron/core";
import { pino } from "pino";

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level: LogLevel;
  /** File descriptor: 1 (stdout, the service) or 2 (stderr, commands whose stdout is their output). */
  fd?: 1 | 2;
  /** Fields on every line. */
  base?: Record<string, unknown>;
}

/** A pino logger as core's Logger (pino's API is a superset: this is a typed view, no wrapper). */
export function createLogger(options: LoggerOptions): Logger {
  const instance = pino(
    {
      level: options.level,
      base: { pid: process.pid, ...options.base },
      // A secret that reaches a log line by accident is masked (connection strings, tokens).
      redact: {
        paths: ["*.password", "*.secret", "*.token", "*.authorization", "*.connectionString"],
        censor: "***",
      },
    },
    pino.destination({ dest: options.fd ?? 1, sync: true }),
  );
  return asCoreLogger(instance);
}

/** Core's Logger view of a pino logger; a compile-time check that pino fits the interface. */
export function asCoreLogger(instance: pino.Logger): Logger {
  const logger: Logger = instance;
  return logger;
}
