/**
 * Environment variables: secrets and the usual switches, as a pure function of the environment.
 * `TRADECRON_*` names come first; the seeds' `SCHEDULER_*` names (and `DATABASE_URL`,
 * `LOG_LEVEL`) are read as aliases so an existing `.env` keeps working. The table in the README
 * is the documentation of {@link ENV_VARS}.
 */

import { isValidTimeZone, type LogLevel, type ValidationIssue } from "@tradecron/core";
import type { HttpConfig, StorageConfig } from "./schema.js";

/** One variable: its names (first wins) and the config field it sets. */
export interface EnvVar {
  names: readonly string[];
  field: string;
  description: string;
}

/** Every variable the CLI reads. */
export const ENV_VARS = {
  config: { names: ["TRADECRON_CONFIG"], field: "--config", description: "config file path" },
  enabled: {
    names: ["TRADECRON_ENABLED", "SCHEDULER_ENABLED"],
    field: "scheduler.enabled",
    description: "`false`: this instance fires nothing (standby)",
  },
  timezone: {
    names: ["TRADECRON_TIMEZONE", "SCHEDULER_TIMEZONE"],
    field: "scheduler.timezone",
    description: "zone of cron schedules that name none",
  },
  webhookUrl: {
    names: ["TRADECRON_WEBHOOK_URL", "SCHEDULER_WEBHOOK_URL"],
    field: "notifiers[+]",
    description: "adds a webhook notifier (failures, pause-all, approvals)",
  },
  webhookSecret: {
    names: ["TRADECRON_WEBHOOK_SECRET", "SCHEDULER_WEBHOOK_SECRET"],
    field: "notifiers[+].secret",
    description: "HMAC secret of that webhook",
  },
  storage: {
    names: ["TRADECRON_STORAGE"],
    field: "storage",
    description: "`file:<dir>`, `sqlite:<path>`, `postgres://...` or `memory`",
  },
  databaseUrl: {
    names: ["TRADECRON_DATABASE_URL", "DATABASE_URL"],
    field: "storage.url",
    description: "PostgreSQL connection string when the config gives none",
  },
  httpPort: {
    names: ["TRADECRON_HTTP_PORT"],
    field: "http.port",
    description:
      "port of /health, /status, /metrics, the API and the dashboard; `0` any free port, `off` none",
  },
  httpHost: {
    names: ["TRADECRON_HTTP_HOST"],
    field: "http.host",
    description: "address the HTTP server binds",
  },
  statusFile: {
    names: ["TRADECRON_STATUS_FILE"],
    field: "statusFile",
    description: "status file path, `off` to disable",
  },
  logLevel: {
    names: ["TRADECRON_LOG_LEVEL", "LOG_LEVEL"],
    field: "log.level",
    description: "trace, debug, info, warn, error, fatal (any case)",
  },
  instanceId: {
    names: ["TRADECRON_INSTANCE_ID"],
    field: "scheduler.instanceId",
    description: "this instance's id in claims",
  },
  stopTimeout: {
    names: ["TRADECRON_STOP_TIMEOUT"],
    field: "scheduler.stopTimeout",
    description: "graceful stop deadline (`30s`)",
  },
  actor: {
    names: ["TRADECRON_ACTOR"],
    field: "--actor",
    description: "who a command acts as, in the audit log (default `cli:<user>`)",
  },
  url: {
    names: ["TRADECRON_URL"],
    field: "--url",
    description: "a running instance's API (`http://127.0.0.1:8080`): commands go through it",
  },
  token: {
    names: ["TRADECRON_TOKEN"],
    field: "--token",
    description: "the bearer token commands send to that API (its name is the audit actor)",
  },
} as const satisfies Record<string, EnvVar>;

type Env = Readonly<Record<string, string | undefined>>;

/** The first set (non-empty) variable of `v`, with its name. */
export function readEnv(env: Env, v: EnvVar): { name: string; value: string } | null {
  for (const name of v.names) {
    const value = env[name];
    if (value !== undefined && value.trim() !== "") return { name, value: value.trim() };
  }
  return null;
}

/** What the environment overrides, already checked. */
export interface EnvOverrides {
  enabled?: boolean;
  timezone?: string;
  webhook?: { url: string; secret?: string };
  storage?: StorageConfig;
  databaseUrl?: string;
  http?: Pick<HttpConfig, "port" | "host"> | false;
  statusFile?: string | false;
  logLevel?: LogLevel;
  instanceId?: string;
  stopTimeout?: string;
}

const TRUE = /^(1|true|yes|on)$/i;
const FALSE = /^(0|false|no|off)$/i;
const LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal"]);

/** Parses a storage location: `file:<dir>`, `sqlite:<path>`, `postgres(ql)://...`, `memory`. */
export function parseStorageLocation(value: string): StorageConfig | null {
  if (value === "memory") return { type: "memory" };
  if (/^postgres(ql)?:\/\//.test(value)) return { type: "postgres", url: value };
  const m = /^(file|sqlite):(.+)$/.exec(value);
  if (!m) return null;
  return m[1] === "file" ? { type: "file", dir: m[2] as string } : { type: "sqlite", path: m[2] as string };
}

/**
 * Reads the overrides from `env`. Problems come back as issues whose field is the variable's
 * name (values are never echoed: they may be secrets).
 */
export function envOverrides(env: Env): { overrides: EnvOverrides; issues: ValidationIssue[] } {
  const o: EnvOverrides = {};
  const issues: ValidationIssue[] = [];
  const bad = (name: string, message: string) => issues.push({ field: name, message, code: "VALIDATION" });

  const enabled = readEnv(env, ENV_VARS.enabled);
  if (enabled) {
    if (TRUE.test(enabled.value)) o.enabled = true;
    else if (FALSE.test(enabled.value)) o.enabled = false;
    else bad(enabled.name, "expected true or false");
  }
  const tz = readEnv(env, ENV_VARS.timezone);
  if (tz) {
    if (isValidTimeZone(tz.value)) o.timezone = tz.value;
    else bad(tz.name, `unknown time zone '${tz.value}' (expected an IANA name such as America/New_York)`);
  }
  const hook = readEnv(env, ENV_VARS.webhookUrl);
  if (hook) {
    if (/^https?:\/\/[^\s]+$/.test(hook.value) && URL.canParse(hook.value)) {
      const secret = readEnv(env, ENV_VARS.webhookSecret);
      o.webhook = { url: hook.value, ...(secret ? { secret: secret.value } : {}) };
    } else bad(hook.name, "expected an http(s) URL");
  }
  const storage = readEnv(env, ENV_VARS.storage);
  if (storage) {
    const parsed = parseStorageLocation(storage.value);
    if (parsed) o.storage = parsed;
    else bad(storage.name, "expected file:<dir>, sqlite:<path>, postgres://... or memory");
  }
  const db = readEnv(env, ENV_VARS.databaseUrl);
  if (db) o.databaseUrl = db.value;
  const port = readEnv(env, ENV_VARS.httpPort);
  const host = readEnv(env, ENV_VARS.httpHost);
  // Port 0 is "any free port", so only the words turn the server off.
  if (port && /^(off|false|no)$/i.test(port.value)) o.http = false;
  else if (port || host) {
    const http: Pick<HttpConfig, "port" | "host"> = {};
    if (port) {
      const n = Number(port.value);
      if (Number.isInteger(n) && n >= 0 && n <= 65535) http.port = n;
      else bad(port.name, "expected a port number 0-65535, or off");
    }
    if (host) http.host = host.value;
    o.http = http;
  }
  const status = readEnv(env, ENV_VARS.statusFile);
  if (status) o.statusFile = FALSE.test(status.value) ? false : status.value;
  const level = readEnv(env, ENV_VARS.logLevel);
  if (level) {
    const l = level.value.toLowerCase();
    if (LEVELS.has(l)) o.logLevel = l as LogLevel;
    else bad(level.name, "expected trace, debug, info, warn, error or fatal");
  }
  const id = readEnv(env, ENV_VARS.instanceId);
  if (id) o.instanceId = id.value;
  const stop = readEnv(env, ENV_VARS.stopTimeout);
  if (stop) o.stopTimeout = stop.value;
  return { overrides: o, issues };
}
