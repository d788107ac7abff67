/**
 * AlpacaBroker's options, validated with zod. Credentials default to the environment variables
 * Alpaca's own SDKs read (`APCA_API_KEY_ID`, `APCA_API_SECRET_KEY`); the hosts default to paper
 * trading, and `baseUrl` / `streamUrl` point the adapter at a proxy or a local fake instead.
 * Messages about credentials say what is wrong with them, never what they are.
 */

import { type Clock, clockSchema, type Logger, ValidationError, type ValidationIssue } from "@tradecron/core";
import { z } from "zod";

/** Alpaca's paper trading REST host. */
export const PAPER_BASE_URL = "https://paper-api.alpaca.markets";
/** Alpaca's live trading REST host. */
export const LIVE_BASE_URL = "https://api.alpaca.markets";
/** Alpaca's market data REST host (the same for paper and live). */
export const DATA_BASE_URL = "https://data.alpaca.markets";

/** How one instance learns about fills and cancels; see the README on sharing one account. */
export type UpdatesMode =
  /** Own the account's trade_updates stream (default); polls while the stream is down or taken. */
  | "stream"
  /** Never open the stream: poll open orders over REST (for instances that share an account). */
  | "poll"
  /** No order updates at all. */
  | "none";

/** Decides, from time to time, whether this instance should own the account's one stream. */
export interface StreamOwnership {
  /** True when this instance should hold the stream (a leader lock, an env flag, ...). */
  isOwner: () => boolean | Promise<boolean>;
  /** How often to ask again, ms (default 15,000). */
  checkEveryMs?: number;
}

/** Options of `new AlpacaBroker(...)`. */
export interface AlpacaBrokerOptions {
  /** API key id; default `process.env.APCA_API_KEY_ID`. */
  keyId?: string;
  /** API secret; default `process.env.APCA_API_SECRET_KEY`. */
  secretKey?: string;
  /** Paper trading (default true). Ignored for a host given by `baseUrl`. */
  paper?: boolean;
  /** REST base URL (default the paper or live host), e.g. a local fake's `url`. */
  baseUrl?: string;
  /** trade_updates websocket URL (default `<baseUrl as ws(s)>/stream`). */
  streamUrl?: string;
  /** Market data base URL for {@link AlpacaBroker.latestPrice} (default data.alpaca.markets). */
  dataUrl?: string;
  /** Market data feed for latest trades: `iex` (default, free) or `sip`. */
  feed?: "iex" | "sip" | "delayed_sip";
  /** Name in logs and order records (default `alpaca`). */
  name?: string;
  /** Per-request timeout, ms (default 10,000). */
  requestTimeoutMs?: number;
  /** Client-side rate limit (default 200 requests/min, Alpaca's per-key limit), or false. */
  rateLimit?: false | { requestsPerMinute?: number; maxWaitMs?: number };
  /** How order updates arrive: `stream` (default), `poll`, `none`, or a stream-ownership rule. */
  updates?: UpdatesMode | StreamOwnership;
  /** Poll interval while polling (default 5,000 ms). */
  pollIntervalMs?: number;
  /** Stream reconnect backoff (default 1 s doubling to 60 s, 50% jitter). */
  reconnect?: { baseMs?: number; maxMs?: number; jitter?: number };
  /** Ping interval of the stream; a missing pong within it drops the socket (default 20,000 ms). */
  heartbeatMs?: number;
  /** How long `connect()` waits for the stream's first outcome before going on (default 5,000 ms). */
  streamConnectTimeoutMs?: number;
  /** Time source for timeouts, backoff, polling and rate limits (default the system clock). */
  clock?: Clock;
  /** pino-compatible logger (default silent). Nothing logged carries a credential. */
  logger?: Logger;
  /** Receives background errors (stream, polling, listeners); they never reach a caller. */
  onError?: (error: Error, context: string) => void;
  /** Where to read the APCA_* defaults from (default `process.env`). */
  env?: Record<string, string | undefined>;
}

const isFunction = (v: unknown) => typeof v === "function";

function urlSchema(protocols: string[], what: string) {
  return z
    .string()
    .trim()
    .refine(
      (u) => {
        try {
          return protocols.includes(new URL(u).protocol);
        } catch {
          return false;
        }
      },
      { message: `must be a ${what} URL` },
    )
    .transform((u) => u.replace(/\/+$/, ""));
}

const ms = (max: number) => z.number().int().min(1).max(max);

const loggerSchema = z.custom<Logger>(
  (v) =>
    typeof v === "object" &&
    v !== null &&
    ["trace", "debug", "info", "warn", "error", "child"].every((k) =>
      isFunction((v as Record<string, unknown>)[k]),
    ),
  { message: "must be a pino-compatible logger (trace, debug, info, warn, error, child)" },
);

const optionsSchema = z.strictObject({
  keyId: z.string().optional(),
  secretKey: z.string().optional(),
  paper: z.boolean().default(true),
  baseUrl: urlSchema(["http:", "https:"], "http(s)").optional(),
  streamUrl: urlSchema(["ws:", "wss:"], "ws(s)").optional(),
  dataUrl: urlSchema(["http:", "https:"], "http(s)").optional(),
  feed: z.enum(["iex", "sip", "delayed_sip"]).default("iex"),
  name: z.string().trim().min(1).max(64).default("alpaca"),
  requestTimeoutMs: ms(300_000).default(10_000),
  rateLimit: z
    .union([
      z.literal(false),
      z.strictObject({
        requestsPerMinute: z.number().int().min(1).max(1_000_000).default(200),
        maxWaitMs: z.number().int().min(0).max(600_000).default(10_000),
      }),
    ])
    .default({ requestsPerMinute: 200, maxWaitMs: 10_000 }),
  updates: z
    .union([
      z.enum(["stream", "poll", "none"]),
      z.strictObject({
        isOwner: z.custom<StreamOwnership["isOwner"]>(isFunction, { message: "must be a function" }),
        checkEveryMs: ms(3_600_000).default(15_000),
      }),
    ])
    .default("stream"),
  pollIntervalMs: ms(3_600_000).default(5_000),
  reconnect: z
    .strictObject({
      baseMs: ms(600_000).default(1_000),
      maxMs: ms(3_600_000).default(60_000),
      jitter: z.number().min(0).max(1).default(0.5),
    })
    .default({ baseMs: 1_000, maxMs: 60_000, jitter: 0.5 }),
  heartbeatMs: ms(600_000).default(20_000),
  streamConnectTimeoutMs: ms(120_000).default(5_000),
  clock: clockSchema.optional(),
  logger: loggerSchema.optional(),
  onError: z
    .custom<(error: Error, context: string) => void>(isFunction, { message: "must be a function" })
    .optional(),
  env: z.record(z.string(), z.string().optional()).optional(),
});

/** Options after validation and defaults. */
export interface ResolvedOptions {
  keyId: string;
  secretKey: string;
  name: string;
  baseUrl: string;
  streamUrl: string;
  dataUrl: string;
  feed: "iex" | "sip" | "delayed_sip";
  requestTimeoutMs: number;
  rateLimit: false | { requestsPerMinute: number; maxWaitMs: number };
  updates: "stream" | "poll" | "none" | { isOwner: StreamOwnership["isOwner"]; checkEveryMs: number };
  pollIntervalMs: number;
  reconnect: { baseMs: number; maxMs: number; jitter: number };
  heartbeatMs: number;
  streamConnectTimeoutMs: number;
  clock: Clock | undefined;
  logger: Logger | undefined;
  onError: ((error: Error, context: string) => void) | undefined;
}

/** Printable ASCII without spaces; Alpaca's keys are 20 characters and secrets 40. */
const CREDENTIAL = /^[\x21-\x7e]{8,256}$/;

/** What is wrong with a credential, without its value; null when it is fine. */
function credentialProblem(value: string | undefined, envName: string): string | null {
  if (value === undefined || value === "") return `is missing: pass it or set ${envName}`;
  if (value.trim() !== value) return "must not start or end with whitespace";
  if (value.length < 8 || value.length > 256) return `must be 8 to 256 characters long (got ${value.length})`;
  if (!CREDENTIAL.test(value)) return "must be printable ASCII without spaces";
  return null;
}

/** The stream URL that goes with a REST base URL: same host, ws(s) scheme, path `/stream`. */
export function defaultStreamUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.protocol = url.protocol === "http:" ? "ws:" : "wss:";
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/stream`;
  return url.toString();
}

/**
 * Validates options and fills in the defaults.
 * @throws ValidationError naming the field (`keyId`, `secretKey`, `baseUrl`, ...); never the secret.
 */
export function resolveOptions(input: AlpacaBrokerOptions): ResolvedOptions {
  const parsed = optionsSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issues: ValidationIssue[] = parsed.error.issues.map((issue) => {
      const field = issue.path.map(String).join(".");
      // zod may quote the offending value in some messages; credential fields get a fixed text.
      const secretField = field === "keyId" || field === "secretKey";
      return { field, message: secretField ? "must be a string" : issue.message, code: "VALIDATION" };
    });
    throw new ValidationError(issues, { component: "AlpacaBroker" });
  }
  const o = parsed.data;
  const env = o.env ?? process.env;
  const keyId = o.keyId ?? env.APCA_API_KEY_ID;
  const secretKey = o.secretKey ?? env.APCA_API_SECRET_KEY;
  const issues: ValidationIssue[] = [];
  const keyProblem = credentialProblem(keyId, "APCA_API_KEY_ID");
  if (keyProblem) issues.push({ field: "keyId", message: keyProblem, code: "VALIDATION" });
  const secretProblem = credentialProblem(secretKey, "APCA_API_SECRET_KEY");
  if (secretProblem) issues.push({ field: "secretKey", message: secretProblem, code: "VALIDATION" });
  if (issues.length > 0) throw new ValidationError(issues, { component: "AlpacaBroker" });
  const baseUrl = o.baseUrl ?? (o.paper ? PAPER_BASE_URL : LIVE_BASE_URL);
  return {
    keyId: keyId as string,
    secretKey: secretKey as string,
    name: o.name,
    baseUrl,
    streamUrl: o.streamUrl ?? defaultStreamUrl(baseUrl),
    dataUrl: o.dataUrl ?? DATA_BASE_URL,
    feed: o.feed,
    requestTimeoutMs: o.requestTimeoutMs,
    rateLimit: o.rateLimit,
    updates: o.updates,
    pollIntervalMs: o.pollIntervalMs,
    reconnect: o.reconnect,
    heartbeatMs: o.heartbeatMs,
    streamConnectTimeoutMs: o.streamConnectTimeoutMs,
    clock: o.clock,
    logger: o.logger,
    onError: o.onError,
  };
}
