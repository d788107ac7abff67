/**
 * What every command gets: where to write, the environment, the global flags; and the one helper
 * that loads the config and opens the operations for it, closing them however the command ends
 * (a SIGINT stops a waiting run-job gracefully, a second one exits at once).
 */

import { userInfo } from "node:os";
import type { Logger, LogLevel } from "@tradecron/core";
import { ENV_VARS, readEnv } from "../config/env.js";
import { loadConfig } from "../config/load.js";
import type { ResolvedConfig } from "../config/validate.js";
import { EXIT, type ExitCode } from "../errors.js";
import { createLogger } from "../logging/logger.js";
import { DirectOperations } from "../ops/direct.js";
import type { Operations } from "../ops/operations.js";
import { jsonView } from "../render/format.js";

/** Where a command writes and what it sees. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

/** The global flags. */
export interface GlobalFlags {
  config?: string;
  json?: boolean;
  actor?: string;
}

/** A command's context. */
export class CommandContext {
  constructor(
    readonly io: CliIO,
    readonly flags: GlobalFlags,
  ) {}

  /** `--json`. */
  get json(): boolean {
    return this.flags.json === true;
  }

  /** Who acts, for the audit log: `--actor`, TRADECRON_ACTOR, else `cli:<os user>`. */
  get actor(): string {
    if (this.flags.actor) return this.flags.actor;
    const fromEnv = readEnv(this.io.env, ENV_VARS.actor);
    if (fromEnv) return fromEnv.value;
    let user = "unknown";
    try {
      user = userInfo().username;
    } catch {}
    return `cli:${user}`;
  }

  /** Prints `data` as JSON (instants as ISO strings). */
  printJson(data: unknown): void {
    this.io.out(`${JSON.stringify(jsonView(data), null, 2)}\n`);
  }

  /** Prints a line (or lines). */
  print(text: string): void {
    this.io.out(text.endsWith("\n") ? text : `${text}\n`);
  }

  /** Loads and resolves the config (`--config`, TRADECRON_CONFIG, or the default names in cwd). */
  loadConfig(): Promise<ResolvedConfig> {
    const path = this.flags.config ?? readEnv(this.io.env, ENV_VARS.config)?.value;
    return loadConfig({ cwd: this.io.cwd, env: this.io.env, ...(path ? { path } : {}) });
  }

  /** A logger on stderr: quiet (warn) unless the environment asks for more. */
  commandLogger(): Logger {
    const level = readEnv(this.io.env, ENV_VARS.logLevel)?.value.toLowerCase() as LogLevel | undefined;
    return createLogger({ level: level ?? "warn", fd: 2 });
  }

  /** Runs `fn` over the config's operations and closes them afterwards. */
  async withOperations(
    fn: (ops: Operations, config: ResolvedConfig) => Promise<ExitCode>,
  ): Promise<ExitCode> {
    const config = await this.loadConfig();
    const ops: Operations = new DirectOperations(config, this.commandLogger(), this.io.env);
    let interrupted = false;
    const onSignal = () => {
      if (interrupted) process.exit(EXIT.INTERRUPTED);
      interrupted = true;
      this.io.err("interrupted: stopping (a second Ctrl-C exits at once)\n");
      void ops.close(config.scheduler.stopTimeoutMs).then(() => process.exit(EXIT.INTERRUPTED));
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      return await fn(ops, config);
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await ops.close(config.scheduler.stopTimeoutMs);
    }
  }
}
