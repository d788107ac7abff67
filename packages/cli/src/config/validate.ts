/**
 * From what a config file exports to a {@link ResolvedConfig}: the zod schema, then core's own
 * rules for every schedule and the risk limits, then the environment's overrides, then defaults.
 * A pure function (no I/O): every problem is collected and thrown as one ConfigError naming the
 * file and each field path.
 */

import { dirname, isAbsolute, resolve } from "node:path";
import {
  DEFAULT_LEASE_MS,
  declarationIssues,
  isValidTimeZone,
  type JobHandler,
  type LogLevel,
  parseRiskLimits,
  type RiskLimits,
  type ScheduleInput,
  ValidationError,
  type ValidationIssue,
} from "@tradecron/core";
import ms from "ms";
import type { z } from "zod";
import { createNotifier } from "../build/notifiers.js";
import { ConfigError } from "../errors.js";
import { type EnvOverrides, envOverrides } from "./env.js";
import {
  type BrokerConfigs,
  type BrokerFactory,
  configSchema,
  type HttpTokenConfig,
  type NotifierConfig,
} from "./schema.js";

/** Storage with its paths made absolute and its connection string found. */
export type ResolvedStorage =
  | { type: "file"; dir: string }
  | { type: "sqlite"; path: string }
  | { type: "postgres"; url: string; schema?: string; tablePrefix?: string; poolSize?: number }
  | { type: "memory" };

/** A broker to build: a named type with its config, or a factory. */
export type ResolvedBroker =
  | { kind: "type"; config: BrokerConfigs[keyof BrokerConfigs] }
  | { kind: "factory"; create: BrokerFactory };

/** The HTTP server's settings, defaults filled in. */
export interface ResolvedHttp {
  port: number;
  host: string;
  /** Where the router is mounted: `""` for the root, else `/scheduler` (no trailing slash). */
  basePath: string;
  /** The tokens' names, roles and variables (read by `tradecron start`, see service/http-auth.ts). */
  tokens: HttpTokenConfig[];
  dashboard: boolean;
  publicHealth: boolean;
  publicMetrics: boolean;
  /** The router's rate limits, as given (the router fills in its defaults). */
  rateLimits: { mutationsPerMinute?: number; triggersPerMinute?: number; signInsPerMinute?: number };
}

/** A job to register. */
export interface ResolvedJob {
  name: string;
  handler: JobHandler<never>;
  description: string | null;
}

/** A config ready to build from: validated, defaults filled, paths absolute, environment applied. */
export interface ResolvedConfig {
  /** The config file (absolute). */
  file: string;
  /** Its folder, against which relative paths were resolved. */
  dir: string;
  storage: ResolvedStorage;
  broker: ResolvedBroker | null;
  /** Entries of core's notifier config, or notifier objects. */
  notifiers: NotifierConfig[];
  risk: RiskLimits | undefined;
  jobs: ResolvedJob[];
  /** Declared schedules, each with an id and cron zones filled in. */
  schedules: ScheduleInput[];
  scheduler: {
    enabled: boolean;
    timezone: string;
    instanceId: string | undefined;
    leaseMs: number;
    approvalExpiryMs: number | undefined;
    stopTimeoutMs: number;
    removeUndeclared: boolean;
    atStopTimeout: "hand-over" | "cancel";
  };
  /** The HTTP server (@tradecron/http), or null when off. */
  http: ResolvedHttp | null;
  statusFile: { path: string; intervalMs: number } | null;
  logLevel: LogLevel;
}

/** The path of a zod issue as people write it: `schedules[1].trigger.cron`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

type ZodIssue = z.ZodError["issues"][number];

/**
 * zod's issues as ValidationIssues. A union (`http: false | { port, host, ... }`) that failed reports
 * the branch that got furthest into the value (the one whose issues have the longest paths), so
 * `http: { port: "80" }` reads `http.port: expected number`, not `http: Invalid input`.
 */
function zodIssues(issues: readonly ZodIssue[], prefix: readonly PropertyKey[] = []): ValidationIssue[] {
  return issues.flatMap((issue): ValidationIssue[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const depth = (branch: readonly ZodIssue[]) => Math.max(...branch.map((i) => i.path.length));
      const best = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0] as ZodIssue[];
      if (depth(best) > 0) return zodIssues(best, path);
    }
    let message = issue.message;
    if (issue.code === "unrecognized_keys") message = `unknown key(s): ${issue.keys.join(", ")}`;
    return [{ field: fieldPath(path), message, code: "VALIDATION" }];
  });
}

/** Core's dotted field (`trigger.expression`) under a config path, in the words the user wrote. */
function coreField(prefix: string, field: string, input: Record<string, unknown>): string {
  let f = field;
  const trigger = input.trigger as Record<string, unknown> | undefined;
  // Core reports the canonical field; a config written with the shorthand `cron:` should see `cron`.
  if (trigger && "cron" in trigger && f === "trigger.expression") f = "trigger.cron";
  f = f.replace(/\.(\d+)(?=\.|$)/g, "[$1]");
  return f ? `${prefix}.${f}` : prefix;
}

function withZone(input: Record<string, unknown>, timezone: string): Record<string, unknown> {
  const trigger = input.trigger;
  if (!trigger || typeof trigger !== "object") return input;
  const t = trigger as Record<string, unknown>;
  const isCron = "cron" in t || t.type === "cron";
  if (!isCron || t.timezone !== undefined) return input;
  return { ...input, trigger: { ...t, timezone } };
}

function checkSchedules(
  raw: readonly Record<string, unknown>[],
  jobs: ReadonlySet<string>,
  timezone: string,
  now: number,
  issues: ValidationIssue[],
): ScheduleInput[] {
  const zoned = raw.map((s) => withZone(s, timezone)) as unknown as ScheduleInput[];
  // Core's own check of a declaration (ids, duplicates, every field, a future fire), under config paths.
  const found: { i: number; issue: ValidationIssue }[] = [];
  for (const issue of declarationIssues(zoned, now)) {
    const m = /^\[(\d+)\]\.?(.*)$/.exec(issue.field);
    const i = Number(m?.[1] ?? -1);
    found.push({ i, issue: { ...issue, field: coreField(`schedules[${i}]`, m?.[2] ?? "", raw[i] ?? {}) } });
  }
  const bad = new Set(found.map((f) => f.i));
  const out: ScheduleInput[] = [];
  for (const [i, input] of zoned.entries()) {
    if (bad.has(i)) continue;
    if (!jobs.has(input.job.trim())) {
      const known = [...jobs];
      found.push({
        i,
        issue: {
          field: `schedules[${i}].job`,
          message: `unknown job '${input.job}' (jobs: ${known.length ? known.join(", ") : "none"})`,
          code: "UNKNOWN_JOB",
        },
      });
      continue;
    }
    out.push(input);
  }
  // In the order of the file, whichever check found them.
  issues.push(...found.sort((a, b) => a.i - b.i).map((f) => f.issue));
  return out;
}

function resolveStorage(
  parsed: z.output<typeof configSchema>["storage"],
  env: EnvOverrides,
  dir: string,
  cwd: string,
  issues: ValidationIssue[],
): ResolvedStorage {
  // A location from the environment is relative to where the command runs; one in the file, to the file.
  const [s, base] = env.storage ? [env.storage, cwd] : [parsed ?? { type: "file" as const }, dir];
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  switch (s.type) {
    case "file":
      return { type: "file", dir: abs(s.dir ?? "tradecron-data") };
    case "sqlite":
      return { type: "sqlite", path: abs(s.path) };
    case "memory":
      return { type: "memory" };
    case "postgres": {
      const url = s.url ?? env.databaseUrl;
      if (!url) {
        issues.push({
          field: "storage.url",
          message:
            "PostgreSQL needs a connection string: set storage.url, TRADECRON_DATABASE_URL or DATABASE_URL",
          code: "VALIDATION",
        });
        return { type: "memory" };
      }
      const { type: _t, url: _u, ...rest } = s as Extract<typeof s, { type: "postgres" }>;
      return { type: "postgres", url, ...rest };
    }
  }
}

/**
 * Validates what a config module exported (`raw`) and resolves it against the environment.
 * Throws a ConfigError naming `file` and every field at fault; a bad environment variable is
 * reported under `environment` with the variable's name.
 */
export function resolveConfig(
  raw: unknown,
  file: string,
  env: Readonly<Record<string, string | undefined>>,
  options: { cwd?: string; now?: number } = {},
): ResolvedConfig {
  const cwd = options.cwd ?? process.cwd();
  const now = options.now ?? Date.now();
  const dir = dirname(file);
  const fromEnv = envOverrides(env);
  if (fromEnv.issues.length > 0) throw new ConfigError("environment", fromEnv.issues);
  const o = fromEnv.overrides;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(file, [
      {
        field: "",
        message: "the config must export an object (export default { jobs, schedules, ... })",
        code: "VALIDATION",
      },
    ]);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(file, zodIssues(result.error.issues), { cause: result.error });
  const c = result.data;
  const issues: ValidationIssue[] = [];

  const timezone = o.timezone ?? c.scheduler?.timezone ?? "UTC";
  if (!isValidTimeZone(timezone)) {
    issues.push({
      field: "scheduler.timezone",
      message: `unknown time zone '${timezone}' (expected an IANA name such as America/New_York)`,
      code: "UNKNOWN_TIMEZONE",
    });
  }
  const durationOf = (field: string, value: number | string | undefined, fallback: number, min = 0) => {
    if (value === undefined) return fallback;
    const n = typeof value === "number" ? value : ms(value as ms.StringValue);
    if (typeof n !== "number" || !Number.isFinite(n) || n < min) {
      issues.push({
        field,
        message: `'${String(value)}' is not a duration of at least ${min} ms (use ms, or '30s', '5m')`,
        code: "INVALID_INTERVAL",
      });
      return fallback;
    }
    return Math.round(n);
  };
  const leaseMs = durationOf("scheduler.lease", c.scheduler?.lease, DEFAULT_LEASE_MS, 1000);
  const stopTimeoutMs = o.stopTimeout
    ? durationOf("TRADECRON_STOP_TIMEOUT", o.stopTimeout, 30_000)
    : durationOf("scheduler.stopTimeout", c.scheduler?.stopTimeout, 30_000);
  const approvalExpiryMs =
    c.scheduler?.approvalExpiry === undefined
      ? undefined
      : durationOf("scheduler.approvalExpiry", c.scheduler.approvalExpiry, 0, 1);
  const statusIntervalMs = durationOf(
    "statusFile.interval",
    typeof c.statusFile === "object" && c.statusFile ? c.statusFile.interval : undefined,
    5000,
    100,
  );
  const jobs: ResolvedJob[] = Object.entries(c.jobs).map(([name, j]) =>
    typeof j === "function"
      ? { name, handler: j as JobHandler<never>, description: null }
      : { name, handler: j.handler as JobHandler<never>, description: j.description ?? null },
  );
  const schedules = checkSchedules(
    c.schedules ?? [],
    new Set(jobs.map((j) => j.name)),
    timezone,
    now,
    issues,
  );
  let risk: RiskLimits | undefined;
  if (c.risk) {
    try {
      parseRiskLimits(c.risk);
      risk = c.risk as RiskLimits;
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const issue of error.issues) {
        const field = issue.field.replace(/^(risk|limits)\.?/, "");
        issues.push({ ...issue, field: field ? `risk.${field}` : "risk" });
      }
    }
  }
  const storage = resolveStorage(c.storage, o, dir, cwd, issues);
  const notifiers = [...((c.notifiers ?? [{ type: "console" }]) as NotifierConfig[])];
  // A webhook entry without a url reads TRADECRON_WEBHOOK_URL itself (core); otherwise the
  // variable (or the seeds' SCHEDULER_WEBHOOK_URL) adds one, so it is never delivered twice.
  const readsEnv = notifiers.some((n) => "type" in n && n.type === "webhook" && !("url" in n));
  if (o.webhook && !readsEnv) notifiers.push({ type: "webhook", ...o.webhook });
  for (const [i, entry] of notifiers.entries()) {
    try {
      createNotifier(entry, env, `notifiers[${i}]`); // checks the entry and that its secrets are there
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const issue of error.issues)
        issues.push({ ...issue, field: issue.field.replace(/\.(\d+)(?=\.|$)/g, "[$1]") });
    }
  }
  if (issues.length > 0) throw new ConfigError(file, issues);

  const http =
    o.http === false || (o.http === undefined && c.http === false) ? null : { ...(c.http || {}), ...o.http };
  const status = o.statusFile !== undefined ? o.statusFile : c.statusFile;
  const statusBase = o.statusFile !== undefined ? cwd : dir;
  const statusPath = typeof status === "string" ? status : status ? status.path : null;
  return {
    file,
    dir,
    storage,
    broker:
      c.broker === undefined || c.broker === null
        ? null
        : typeof c.broker === "function"
          ? { kind: "factory", create: c.broker as BrokerFactory }
          : { kind: "type", config: c.broker as BrokerConfigs[keyof BrokerConfigs] },
    notifiers,
    risk,
    jobs,
    schedules,
    scheduler: {
      enabled: o.enabled ?? c.scheduler?.enabled ?? true,
      timezone,
      instanceId: o.instanceId ?? c.scheduler?.instanceId,
      leaseMs,
      approvalExpiryMs,
      stopTimeoutMs,
      removeUndeclared: c.scheduler?.removeUndeclared ?? true,
      atStopTimeout: c.scheduler?.atStopTimeout ?? "hand-over",
    },
    http: http
      ? {
          port: http.port ?? 8080,
          host: http.host ?? "127.0.0.1",
          basePath: (http.basePath ?? "/").replace(/\/+$/, ""),
          tokens: http.tokens ?? [],
          dashboard: http.dashboard ?? true,
          publicHealth: http.public?.health ?? true,
          publicMetrics: http.public?.metrics ?? false,
          rateLimits: http.rateLimits ?? {},
        }
      : null,
    statusFile:
      statusPath === null
        ? null
        : {
            path: isAbsolute(statusPath) ? statusPath : resolve(statusBase, statusPath),
            intervalMs: statusIntervalMs,
          },
    logLevel: o.logLevel ?? c.log?.level ?? "info",
  };
}
