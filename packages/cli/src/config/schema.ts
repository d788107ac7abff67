/**
 * The config file's shape: the TypeScript types a user writes against and the zod schema that
 * checks them. Everything is strict (an unknown key is an error: a typo must not silently turn a
 * setting off). Schedules and risk limits are checked afterwards with core's own rules (see
 * validate.ts), so a config accepts exactly what the Scheduler accepts.
 */

import type { IbkrBrokerOptions } from "@tradecron/broker-ibkr";
import type {
  Broker,
  NotifierConfig as CoreNotifierConfig,
  JobHandler,
  Logger,
  LogLevel,
  Notifier,
  RiskLimits,
  ScheduleInput,
} from "@tradecron/core";
import { z } from "zod";

/** FileStorage in a folder (one process at a time: commands then go through the running instance). */
export interface FileStorageConfig {
  type: "file";
  /** The store folder, relative to the config file. Default `./tradecron-data`. */
  dir?: string;
}

/** SqliteStorage in one database file. */
export interface SqliteStorageConfig {
  type: "sqlite";
  /** The database file, relative to the config file. */
  path: string;
}

/** PostgresStorage: several instances, every fire exactly once. */
export interface PostgresStorageConfig {
  type: "postgres";
  /** Connection string. Default: the environment's `TRADECRON_DATABASE_URL`, then `DATABASE_URL`. */
  url?: string;
  /** Schema of the tables (created if missing). Default `tradecron`. */
  schema?: string;
  /** Prefix of the table names. Default none. */
  tablePrefix?: string;
  /** Connections of the pool. Default 10. */
  poolSize?: number;
}

/** MemoryStorage: nothing survives the process (tests and trials only). */
export interface MemoryStorageConfig {
  type: "memory";
}

/** Where schedules, fires, approvals, orders and the audit log live. */
export type StorageConfig =
  | FileStorageConfig
  | SqliteStorageConfig
  | PostgresStorageConfig
  | MemoryStorageConfig;

/** The paper broker: a simulated account inside the `tradecron start` process. */
export interface PaperBrokerConfig {
  type: "paper";
  /** Starting cash. Default 100000. */
  initialCash?: string | number;
  /** ISO 4217 currency. Default USD. */
  currency?: string;
  allowShort?: boolean;
  /** Prices the account trades at, by symbol. */
  prices?: Record<string, string | number>;
}

/** A secret read from an environment variable: `{ env: "NAME" }` (never the value itself in a config file). */
export interface EnvSecret {
  env: string;
}

/**
 * AlpacaBroker (@tradecron/broker-alpaca) over Alpaca's Trading API v2. The keys come from the
 * environment: `APCA_API_KEY_ID` and `APCA_API_SECRET_KEY` (the names Alpaca's own SDKs read),
 * or the variables named here.
 */
export interface AlpacaBrokerConfig {
  type: "alpaca";
  /** Paper trading. Default true; `false` trades with real money on api.alpaca.markets. */
  paper?: boolean;
  /** Variable holding the API key id. Default `{ env: "APCA_API_KEY_ID" }`. */
  keyId?: EnvSecret;
  /** Variable holding the API secret. Default `{ env: "APCA_API_SECRET_KEY" }`. */
  secretKey?: EnvSecret;
  /** REST base URL (a proxy, a local fake). Default the paper or live host. */
  baseUrl?: string;
  /** trade_updates websocket URL. Default `<baseUrl as ws(s)>/stream`. */
  streamUrl?: string;
  /** Market data base URL. Default data.alpaca.markets. */
  dataUrl?: string;
  /** Market data feed of the latest-trade price source. Default `iex`. */
  feed?: "iex" | "sip" | "delayed_sip";
  /** How order updates arrive: own the stream (default), poll over REST, or none. */
  updates?: "stream" | "poll" | "none";
  /** Name in logs and order records. Default `alpaca`. */
  name?: string;
}

/**
 * IbkrBroker (@tradecron/broker-ibkr) over TWS / IB Gateway. No credentials: TWS is logged in
 * already. Its connection belongs to the service (one per client id), so commands in another
 * process trade through the service's API.
 */
export type IbkrBrokerConfig = { type: "ibkr" } & Pick<
  IbkrBrokerOptions,
  "host" | "port" | "clientId" | "account" | "currency" | "contracts" | "cancelAll" | "name"
>;

/**
 * Broker configs by `type`: the typed extension point. A broker package adds its member here
 * (or by module augmentation: `declare module "@tradecron/cli" { interface BrokerConfigs { ... } }`),
 * its schema to `brokerTypeSchemas` below and its factory to `BROKER_TYPES` in build/brokers.ts.
 */
export interface BrokerConfigs {
  paper: PaperBrokerConfig;
  alpaca: AlpacaBrokerConfig;
  ibkr: IbkrBrokerConfig;
}

/** What a broker factory receives. */
export interface BuildContext {
  /** The environment (for secrets). */
  env: Readonly<Record<string, string | undefined>>;
  /** Folder of the config file (relative paths are resolved against it). */
  configDir: string;
  /** The service's logger (the broker's own lines go through it). */
  logger?: Logger;
}

/** A function that makes the broker: the escape hatch for any broker the CLI does not know by name. */
export type BrokerFactory = (context: BuildContext) => Broker | Promise<Broker>;

/** A broker by config (`{ type: "paper" }`) or a factory function. */
export type BrokerConfig = BrokerConfigs[keyof BrokerConfigs] | BrokerFactory;

/**
 * A notifier: an entry of core's notifier config (`{ type: "console" | "webhook" | "slack" |
 * "discord" | "telegram", ... }`, secrets as values or `{ env: "NAME" }`), checked and built by
 * core's `notifierFromConfig`; or any object with a `notify(notification)` method.
 */
export type NotifierConfig = CoreNotifierConfig | Notifier;

/** A job: its handler, or the handler with a description. */
export type JobConfig = JobHandler<never> | { handler: JobHandler<never>; description?: string };

/** A declared schedule: core's ScheduleInput with a required, stable id. */
export type ScheduleConfig = ScheduleInput & { id: string };

/** Settings of the scheduler process. */
export interface SchedulerConfig {
  /** False: this instance fires nothing (standby: it declares nothing, serves health). Default true. */
  enabled?: boolean;
  /** Zone of cron schedules that name none. Default UTC. */
  timezone?: string;
  /** This instance's id in claims and leases. Default `host:pid:random`. */
  instanceId?: string;
  /** Lease of a claimed fire (ms or '30s'). Default 30 s. */
  lease?: number | string;
  /** How long approvals stay pending unless a schedule says otherwise. Default 4 h. */
  approvalExpiry?: number | string;
  /** How long a graceful stop waits for running handlers (ms or '30s'). Default 30 s. */
  stopTimeout?: number | string;
  /** Remove schedules an earlier start declared that the config no longer has. Default true. */
  removeUndeclared?: boolean;
  /**
   * What a graceful stop does with handlers still running at `stopTimeout`: `hand-over` (default)
   * exits without cancelling them, so their lease lapses and another instance (or this one after
   * its restart) takes them over with the same idempotency key, as after a crash; `cancel` aborts
   * them and records them cancelled (reason `shutdown`). Memory storage always cancels.
   */
  atStopTimeout?: "hand-over" | "cancel";
}

/**
 * One bearer token of the HTTP API. The token is read from an environment variable, never
 * written in the config: `{ name: "alice", role: "operator", env: "TRADECRON_ALICE_TOKEN" }`.
 */
export interface HttpTokenConfig {
  /** Who acts with it: the audit actor of everything done with this token. */
  name: string;
  /** `viewer` reads; `operator` also approves, rejects, pauses, runs now; `admin` also changes schedules. */
  role: "viewer" | "operator" | "admin";
  /** Variable holding the token (at least 16 characters: `openssl rand -base64 32`). */
  env?: string;
  /** Or: variable holding the token's SHA-256 in hex, so the token itself is not on this machine. */
  sha256Env?: string;
}

/**
 * What `tradecron start` serves over HTTP (@tradecron/http): `/health`, `/status`, `/metrics`,
 * the REST API, the event stream and the dashboard, all from one router.
 */
export interface HttpConfig {
  /** Port; 0 picks a free one (logged, and written to the status file). Default 8080. */
  port?: number;
  /** Address to bind. Default 127.0.0.1: this machine only. */
  host?: string;
  /** Path the router is mounted at (`/scheduler`). Default `/`. */
  basePath?: string;
  /** The API's bearer tokens. None: the API, `/status`, `/metrics` and the dashboard refuse every caller. */
  tokens?: HttpTokenConfig[];
  /** Serve the dashboard under `<basePath>/ui/`. Default true. */
  dashboard?: boolean;
  /** Endpoints that answer without a token. Default `{ health: true, metrics: false }`. */
  public?: { health?: boolean; metrics?: boolean };
  /** Per token (sign-in: per address), per minute. Default the router's: 120 changes, 10 manual runs, 10 sign-ins. */
  rateLimits?: { mutationsPerMinute?: number; triggersPerMinute?: number; signInsPerMinute?: number };
}

/** The status file of seed 004. */
export interface StatusFileConfig {
  /** Path, relative to the config file. */
  path: string;
  /** Rewritten at least this often (ms or '5s'), and after every run. Default 5 s. */
  interval?: number | string;
}

/** A tradecron config file's default export. */
export interface TradecronConfig {
  /** Default `{ type: "file", dir: "./tradecron-data" }`. */
  storage?: StorageConfig;
  /** Default none: `ctx.submit` then rejects with rule `broker_configured`. */
  broker?: BrokerConfig | null;
  /** Default `[{ type: "console" }]`. */
  notifiers?: NotifierConfig[];
  /** Scheduler-wide risk limits. */
  risk?: RiskLimits;
  /** Job handlers by name. */
  jobs: Record<string, JobConfig>;
  /** The schedules to declare at start (created, updated, left alone or removed to match). */
  schedules?: ScheduleConfig[];
  scheduler?: SchedulerConfig;
  /** `false` turns it off. Default `{ port: 8080, host: "127.0.0.1", basePath: "/" }` (no tokens). */
  http?: HttpConfig | false;
  /** A path, an object, or `false` (the default: no status file). */
  statusFile?: string | StatusFileConfig | false;
  log?: { level?: LogLevel };
}

const isFunction = (v: unknown): boolean => typeof v === "function";
const fn = (what: string) =>
  z.custom<(...args: never[]) => unknown>(isFunction, { message: `${what} must be a function` });
const duration = z.union([z.number().nonnegative(), z.string().min(1)]);
const relPath = z.string().trim().min(1);

const storageSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("file"), dir: relPath.optional() }),
  z.strictObject({ type: z.literal("sqlite"), path: relPath }),
  z.strictObject({
    type: z.literal("postgres"),
    url: z.string().min(1).optional(),
    schema: z.string().min(1).optional(),
    tablePrefix: z.string().optional(),
    poolSize: z.number().int().min(1).max(1000).optional(),
  }),
  z.strictObject({ type: z.literal("memory") }),
]);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envName = z.string().regex(ENV_NAME, "must be an environment variable name");
const envSecret = z.strictObject({ env: envName });
const httpUrl = z.url({ protocol: /^https?$/, message: "must be an http(s) URL" });

/** The schema of each named broker type (kept in step with BROKER_TYPES in build/brokers.ts). */
export const brokerTypeSchemas = {
  paper: z.strictObject({
    type: z.literal("paper"),
    initialCash: z.union([z.string(), z.number()]).optional(),
    currency: z.string().optional(),
    allowShort: z.boolean().optional(),
    prices: z.record(z.string().min(1), z.union([z.string(), z.number()])).optional(),
  }),
  alpaca: z.strictObject({
    type: z.literal("alpaca"),
    paper: z.boolean().optional(),
    keyId: envSecret.optional(),
    secretKey: envSecret.optional(),
    baseUrl: httpUrl.optional(),
    streamUrl: z.url({ protocol: /^wss?$/, message: "must be a ws(s) URL" }).optional(),
    dataUrl: httpUrl.optional(),
    feed: z.enum(["iex", "sip", "delayed_sip"]).optional(),
    updates: z.enum(["stream", "poll", "none"]).optional(),
    name: z.string().trim().min(1).max(64).optional(),
  }),
  // Shapes only: IbkrBroker validates the values itself (its errors are mapped under `broker.`).
  ibkr: z.strictObject({
    type: z.literal("ibkr"),
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    clientId: z.number().int().optional(),
    account: z.string().min(1).optional(),
    currency: z.string().optional(),
    contracts: z.record(z.string().min(1), z.record(z.string(), z.unknown())).optional(),
    cancelAll: z.enum(["client", "global"]).optional(),
    name: z.string().trim().min(1).max(64).optional(),
  }),
};

const brokerSchema = z.union([
  fn("broker factory"),
  z.discriminatedUnion("type", [brokerTypeSchemas.paper, brokerTypeSchemas.alpaca, brokerTypeSchemas.ibkr]),
]);

// Typed entries are checked by core's notifierFromConfig afterwards (validate.ts): its schemas own the fields.
const notifierSchema = z.union([
  z.looseObject({ type: z.string().min(1) }),
  z.custom<Notifier>((v) => typeof v === "object" && v !== null && isFunction((v as Notifier).notify), {
    message:
      "a notifier is { type: 'console' | 'webhook' | 'slack' | 'discord' | 'telegram' | 'email', ... } or an object with notify()",
  }),
]);

const tokenSchema = z
  .strictObject({
    name: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9 _.@:-]{0,99}$/,
        "must be 1-100 characters of letters, digits, space and _ . @ : -",
      ),
    role: z.enum(["viewer", "operator", "admin"]),
    env: envName.optional(),
    sha256Env: envName.optional(),
  })
  .refine((t) => (t.env === undefined) !== (t.sha256Env === undefined), {
    message: "give exactly one of env (the token's variable) and sha256Env (its SHA-256's variable)",
    path: ["env"],
  });

const perMinute = z.number().int().min(1).max(1_000_000);

const basePath = z
  .string()
  .regex(/^\/([A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*)?\/?$/, "must be a path such as / or /scheduler");

const jobSchema = z.union([
  fn("a job handler"),
  z.strictObject({ handler: fn("handler"), description: z.string().max(2000).optional() }),
]);

const logLevel = z.enum(["trace", "debug", "info", "warn", "error", "fatal"]);

/** The config file's schema (schedule contents and risk limits are checked by core afterwards). */
export const configSchema = z.strictObject({
  storage: storageSchema.optional(),
  broker: brokerSchema.nullable().optional(),
  notifiers: z.array(notifierSchema).optional(),
  risk: z.record(z.string(), z.unknown()).optional(),
  jobs: z.record(z.string().trim().min(1).max(200), jobSchema),
  schedules: z.array(z.record(z.string(), z.unknown())).optional(),
  scheduler: z
    .strictObject({
      enabled: z.boolean().optional(),
      timezone: z.string().min(1).optional(),
      instanceId: z.string().min(1).max(200).optional(),
      lease: duration.optional(),
      approvalExpiry: duration.optional(),
      stopTimeout: duration.optional(),
      removeUndeclared: z.boolean().optional(),
      atStopTimeout: z.enum(["hand-over", "cancel"]).optional(),
    })
    .optional(),
  http: z
    .union([
      z.literal(false),
      z.strictObject({
        port: z.number().int().min(0).max(65535).optional(),
        host: z.string().min(1).optional(),
        basePath: basePath.optional(),
        tokens: z.array(tokenSchema).max(1000).optional(),
        dashboard: z.boolean().optional(),
        public: z
          .strictObject({ health: z.boolean().optional(), metrics: z.boolean().optional() })
          .optional(),
        rateLimits: z
          .strictObject({
            mutationsPerMinute: perMinute.optional(),
            triggersPerMinute: perMinute.optional(),
            signInsPerMinute: perMinute.optional(),
          })
          .optional(),
      }),
    ])
    .optional(),
  statusFile: z
    .union([z.literal(false), relPath, z.strictObject({ path: relPath, interval: duration.optional() })])
    .optional(),
  log: z.strictObject({ level: logLevel.optional() }).optional(),
});

/** The config as parsed by {@link configSchema}, before defaults. */
export type ParsedConfig = z.output<typeof configSchema>;

/**
 * Identity function that gives a config file its types:
 * `export default defineConfig({ jobs: { ... }, schedules: [ ... ] })`.
 */
export function defineConfig(config: TradecronConfig): TradecronConfig {
  return config;
}
