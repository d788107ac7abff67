/**
 * What every command gets: where to write, the environment, the global flags; and the one helper
 * that picks the operations (direct on the storage, or remote through a running instance's API),
 * closing them however the command ends (a SIGINT stops a waiting run-job gracefully, a second
 * one exits at once).
 *
 * Which operations: `--url` (or TRADECRON_URL) always means remote. Otherwise direct, except where
 * the storage or the order is the service's: a file store the service holds (single writer),
 * memory storage, and `approvals approve` with the paper broker (its account lives in the service
 * process). Those go through the service's API when its address is known (the status file's
 * `url`, else the config's http block) and a token is at hand (`--token`, TRADECRON_TOKEN, or one
 * of the config's http.tokens whose variable is set here).
 */

import { readFile } from "node:fs/promises";
import { userInfo } from "node:os";
import type { Logger, LogLevel } from "@tradecron/core";
import { serviceOnlyBroker } from "../build/brokers.js";
import { describeStorage } from "../build/storage.js";
import { ENV_VARS, readEnv } from "../config/env.js";
import { findConfig, loadConfig } from "../config/load.js";
import type { ResolvedConfig } from "../config/validate.js";
import { CliError, ConfigError, EXIT, type ExitCode } from "../errors.js";
import { createLogger } from "../logging/logger.js";
import { ApiClient } from "../ops/api-client.js";
import { DirectOperations } from "../ops/direct.js";
import type { Operations } from "../ops/operations.js";
import { RemoteOperations } from "../ops/remote.js";
import { jsonView } from "../render/format.js";
import { tokenFromConfig } from "../service/http-auth.js";

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
  url?: string;
  token?: string;
}

/** What a command will do, so the right operations are chosen. */
export interface OperationsNeed {
  /** It may trade (run-job, pause-all --cancel-orders): direct mode builds the broker. */
  broker?: boolean;
  /** It submits orders that only the service's broker can place (approvals approve). */
  submits?: boolean;
  /** It may trade (run-job): run by the service when this process cannot have its broker. */
  trades?: boolean;
  /** It is `status`, which can fall back to the service's status file. */
  status?: boolean;
  /** It changes something (run-job, pause-all, resume-all, approve, reject): an operator's token. */
  writes?: boolean;
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

  /** `--actor` or TRADECRON_ACTOR, when given. */
  private get explicitActor(): string | null {
    return this.flags.actor ?? readEnv(this.io.env, ENV_VARS.actor)?.value ?? null;
  }

  /** Who acts, for the audit log: `--actor`, TRADECRON_ACTOR, else `cli:<os user>`. */
  get actor(): string {
    const explicit = this.explicitActor;
    if (explicit) return explicit;
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

  private get configPath(): string | undefined {
    return this.flags.config ?? readEnv(this.io.env, ENV_VARS.config)?.value;
  }

  /** Loads and resolves the config (`--config`, TRADECRON_CONFIG, or the default names in cwd). */
  loadConfig(): Promise<ResolvedConfig> {
    const path = this.configPath;
    return loadConfig({ cwd: this.io.cwd, env: this.io.env, ...(path ? { path } : {}) });
  }

  /** The config when one is named or lies in cwd; null when there is none (remote commands need none). */
  private async loadConfigIfAny(): Promise<ResolvedConfig | null> {
    if (!this.configPath) {
      try {
        await findConfig(undefined, this.io.cwd);
      } catch (error) {
        if (error instanceof ConfigError) return null;
        throw error;
      }
    }
    return this.loadConfig();
  }

  /** A logger on stderr: quiet (warn) unless the environment asks for more. */
  commandLogger(): Logger {
    const level = readEnv(this.io.env, ENV_VARS.logLevel)?.value.toLowerCase() as LogLevel | undefined;
    return createLogger({ level: level ?? "warn", fd: 2 });
  }

  private get flagToken(): string | null {
    return this.flags.token ?? readEnv(this.io.env, ENV_VARS.token)?.value ?? null;
  }

  private remote(url: string, token: string | null, config: ResolvedConfig | null): RemoteOperations {
    if (this.explicitActor) {
      this.io.err(
        "note: through the API the audit actor is the token's name; --actor / TRADECRON_ACTOR is not used\n",
      );
    }
    return new RemoteOperations({
      client: new ApiClient(url, token),
      declared: config?.schedules ?? null,
      onInterruptedRun: (id) =>
        this.io.err(
          `execution ${id} goes on in the instance at ${url} (see: tradecron history --url ${url})\n`,
        ),
    });
  }

  /**
   * Where this config's running service answers: its status file's `url`, else its http block.
   * `live`: only a status file that says the service is up (not `stopped`) counts.
   */
  private async serviceUrl(config: ResolvedConfig, live = false): Promise<string | null> {
    if (config.statusFile) {
      try {
        const snap = JSON.parse(await readFile(config.statusFile.path, "utf8")) as {
          url?: unknown;
          state?: unknown;
        };
        if (live && snap.state === "stopped") return null;
        if (typeof snap.url === "string" && URL.canParse(snap.url)) return snap.url;
      } catch {}
    }
    if (live) return null;
    const http = config.http;
    if (!http || http.port === 0) return null;
    const host = http.host === "0.0.0.0" ? "127.0.0.1" : http.host === "::" ? "::1" : http.host;
    return `http://${host.includes(":") ? `[${host}]` : host}:${http.port}${http.basePath}`;
  }

  /** The service's API for this config, or why it cannot be used. */
  private async serviceOperations(
    config: ResolvedConfig,
    need: OperationsNeed,
    live = false,
  ): Promise<RemoteOperations | string> {
    const url = await this.serviceUrl(config, live);
    if (!url)
      return live
        ? "no status file says the service is running"
        : "its address is unknown (no http block, or port 0 without a status file)";
    const token =
      this.flagToken ?? tokenFromConfig(config.http, this.io.env, need.writes ? "operate" : "read");
    if (!token) return `its API at ${url} needs a token: pass --token or set TRADECRON_TOKEN`;
    return this.remote(url, token, config);
  }

  /** The operations for a command. */
  async operations(need: OperationsNeed = {}): Promise<{ ops: Operations; stopTimeoutMs: number }> {
    const url = this.flags.url ?? readEnv(this.io.env, ENV_VARS.url)?.value;
    if (url) {
      if (!URL.canParse(url) || !/^https?:/.test(url)) {
        throw new CliError(
          "VALIDATION",
          "--url: expected an http(s) URL (http://127.0.0.1:8080)",
          EXIT.USAGE,
          {
            field: "url",
          },
        );
      }
      const config = await this.loadConfigIfAny();
      return { ops: this.remote(url, this.flagToken, config), stopTimeoutMs: 0 };
    }
    const config = await this.loadConfig();
    const direct = new DirectOperations(config, this.commandLogger(), this.io.env);
    const viaService = async (why: string, fallback: () => Operations | Promise<Operations>) => {
      const remote = await this.serviceOperations(config, need);
      if (typeof remote !== "string") return { ops: remote, stopTimeoutMs: 0 };
      this.io.err(`note: ${why}, and ${remote}\n`);
      return { ops: await fallback(), stopTimeoutMs: config.scheduler.stopTimeoutMs };
    };
    if (config.storage.type === "memory")
      return viaService("memory storage lives in the service", () => direct);
    const serviceOnly = serviceOnlyBroker(config.broker);
    if (need.submits && serviceOnly) return viaService(serviceOnly, () => direct);
    if (need.trades && !direct.buildsBroker() && config.storage.type !== "file") {
      // This process cannot have the broker (IBKR's connection is the service's): run it there when it runs.
      const remote = await this.serviceOperations(config, need, true);
      if (typeof remote !== "string") return { ops: remote, stopTimeoutMs: 0 };
    }
    if (config.storage.type === "file") {
      try {
        await direct.connect({ broker: need.broker === true || need.submits === true });
      } catch (error) {
        if ((error as CliError).code !== "STORAGE_LOCKED") throw error;
        const remote = await this.serviceOperations(config, need);
        if (typeof remote !== "string") return { ops: remote, stopTimeoutMs: 0 };
        // `status` reads the service's status file instead; every other command explains.
        if (need.status) return { ops: direct, stopTimeoutMs: 0 };
        throw new CliError(
          "STORAGE_LOCKED",
          `${describeStorage(config.storage)} is held by a running instance (file storage has one writer), so commands go through its API, but ${remote}`,
          EXIT.UNREACHABLE,
          { field: "storage", cause: error },
        );
      }
    }
    return { ops: direct, stopTimeoutMs: config.scheduler.stopTimeoutMs };
  }

  /** Runs `fn` over the operations for this command and closes them afterwards. */
  async withOperations(
    fn: (ops: Operations) => Promise<ExitCode>,
    need: OperationsNeed = {},
  ): Promise<ExitCode> {
    const { ops, stopTimeoutMs } = await this.operations(need);
    let interrupted = false;
    const onSignal = () => {
      if (interrupted) process.exit(EXIT.INTERRUPTED);
      interrupted = true;
      this.io.err("interrupted: stopping (a second Ctrl-C exits at once)\n");
      void ops.close(stopTimeoutMs).then(() => process.exit(EXIT.INTERRUPTED));
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      return await fn(ops);
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await ops.close(stopTimeoutMs);
    }
  }
}
