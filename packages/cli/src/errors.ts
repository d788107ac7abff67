/**
 * The CLI's errors and exit codes. Every failure a command reports is a TradecronError; its class
 * and code decide the exit code, so a shell can branch on it (documented in the README).
 */

import {
  type ErrorCode,
  NotFoundError,
  StateError,
  TradecronError,
  ValidationError,
  type ValidationIssue,
} from "@tradecron/core";

/** Exit codes of the `tradecron` command. */
export const EXIT = {
  /** Done. */
  OK: 0,
  /** The operation ran and failed: a job failed or timed out, an approval was refused, a partial failure. */
  FAILED: 1,
  /** Bad usage or a bad config: nothing was changed. */
  USAGE: 2,
  /** Storage, the port or the running instance could not be reached or locked. */
  UNREACHABLE: 3,
  /** The schedule, job or approval named does not exist. */
  NOT_FOUND: 4,
  /** Refused by the current state: pause-all in force, the run was skipped, the approval is not pending, rate-limited. */
  REFUSED: 5,
  /** The running instance refused the credentials (no or unknown token) or the token's role. */
  DENIED: 6,
  /** A bug: an unexpected error (EX_SOFTWARE). */
  INTERNAL: 70,
  /** Stopped by SIGINT before the operation finished (128 + 2). */
  INTERRUPTED: 130,
  /** A second SIGTERM forced the stop (128 + 15). */
  TERMINATED: 143,
} as const;

/** One of {@link EXIT}'s values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports with a chosen exit code. */
export class CliError extends TradecronError {
  /** The process exit code this error ends with. */
  readonly exitCode: ExitCode;

  constructor(
    code: ErrorCode,
    message: string,
    exitCode: ExitCode,
    options: { field?: string; cause?: unknown } = {},
  ) {
    super(code, message, options);
    this.exitCode = exitCode;
  }
}

/**
 * A config that cannot be used: it does not load (missing, throws, a module it imports is
 * missing) or it does not validate. `file` names the config file (or `environment` for a bad
 * variable); every issue names the field path (`schedules[1].trigger.expression`).
 */
export class ConfigError extends ValidationError {
  /** The config file (absolute path), or `environment`. */
  readonly file: string;

  constructor(file: string, issues: readonly ValidationIssue[], options: { cause?: unknown } = {}) {
    super(issues, { component: file, ...options });
    this.file = file;
  }

  /** Every issue, one per line, for people. */
  describe(): string {
    const lines = this.issues.map((i) => `  ${i.field || "(config)"}: ${i.message}`);
    return `invalid config ${this.file}:\n${lines.join("\n")}`;
  }
}

/** The exit code an error ends a command with. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof ValidationError) return EXIT.USAGE;
  if (error instanceof NotFoundError) return EXIT.NOT_FOUND;
  if (error instanceof StateError) return EXIT.REFUSED;
  if (error instanceof TradecronError) {
    if (error.code === "STORAGE_LOCKED" || error.code === "STORAGE") return EXIT.UNREACHABLE;
    if (error.code === "SCHEDULE_NOT_FOUND" || error.code === "NOT_FOUND") return EXIT.NOT_FOUND;
    return EXIT.FAILED;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (
    typeof code === "string" &&
    /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EADDRINUSE|EACCES|28P01|3D000)$/.test(code)
  ) {
    return EXIT.UNREACHABLE;
  }
  return EXIT.INTERNAL;
}
