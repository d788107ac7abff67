/**
 * A pino-compatible logger interface: pass a pino logger (or anything with the same methods) and
 * tradecron logs through it. The default is silent: a library does not write to stdout uninvited.
 */

/** One log method: `(obj, msg?)` or `(msg)`, as in pino. */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/** The subset of pino's Logger tradecron uses. */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger that adds `bindings` to every line. */
  child(bindings: Record<string, unknown>): Logger;
}

const noop: LogFn = () => {};

/** A logger that discards everything. */
export const silentLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: () => silentLogger,
};

/** Log levels in pino's order. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal";
const LEVELS: LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal"];

/** Options of {@link consoleLogger}. */
export interface ConsoleLoggerOptions {
  /** Lowest level written; default `info`. */
  level?: LogLevel;
  /** Where lines go; default stderr. */
  write?: (line: string) => void;
  /** `json` writes pino-style JSON lines; `pretty` (default) writes `HH:MM:SS.mmm LEVEL msg key=value`. */
  format?: "pretty" | "json";
  /** Clock for the timestamp; default Date.now. */
  now?: () => number;
}

/** A small console logger for scripts and demos (use pino in production). */
export function consoleLogger(
  options: ConsoleLoggerOptions = {},
  bindings: Record<string, unknown> = {},
): Logger {
  const min = LEVELS.indexOf(options.level ?? "info");
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? Date.now;
  const make =
    (level: LogLevel): LogFn =>
    (a: object | string, b?: string) => {
      if (LEVELS.indexOf(level) < min) return;
      const obj = typeof a === "string" ? {} : a;
      const msg = typeof a === "string" ? a : (b ?? "");
      const fields = { ...bindings, ...obj };
      if (options.format === "json") {
        write(JSON.stringify({ level, time: now(), ...fields, msg }));
        return;
      }
      const time = new Date(now()).toISOString().slice(11, 23);
      const extra = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(" ");
      write(`${time} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? ` ${extra}` : ""}`);
    };
  return {
    trace: make("trace"),
    debug: make("debug"),
    info: make("info"),
    warn: make("warn"),
    error: make("error"),
    fatal: make("fatal"),
    child: (more) => consoleLogger(options, { ...bindings, ...more }),
  };
}
