/**
 * The host's configuration, from the environment, validated with zod. There are no default
 * credentials: tokens come from the environment, or (for a local try-out only) one admin token is
 * generated for this run and printed once. Broker variables are read only for the broker chosen
 * with TRADECRON_BROKER, so a paper run never asks for Alpaca keys.
 */

import { Secret } from "@tradecron/core";
import { z } from "zod";

/** Brokers the host can use. */
/** Credentials are held in core's {@link Secret}: it prints as `[redacted]` (String, JSON, `util.inspect`). */
export { Secret };

export type BrokerKind = "paper" | "alpaca" | "ibkr";

/** Alpaca through `@tradecron/broker-alpaca`: paper unless `TRADECRON_ALPACA_LIVE=1`. */
export interface AlpacaHostConfig {
  kind: "alpaca";
  /** From `APCA_API_KEY_ID`. */
  keyId: Secret;
  /** From `APCA_API_SECRET_KEY`. */
  secretKey: Secret;
  /** False only with `TRADECRON_ALPACA_LIVE=1`: real money. */
  paper: boolean;
  /** `TRADECRON_ALPACA_BASE_URL`: a proxy or a local fake instead of Alpaca's host. */
  baseUrl?: string;
  /** `TRADECRON_ALPACA_DATA_URL`: market data for the latest prices the risk guard values orders at. */
  dataUrl?: string;
}

/** Interactive Brokers through `@tradecron/broker-ibkr` (TWS or IB Gateway, already logged in). */
export interface IbkrHostConfig {
  kind: "ibkr";
  /** `TRADECRON_IBKR_HOST`, default 127.0.0.1. */
  host: string;
  /** `TRADECRON_IBKR_PORT`, default 7497 (paper TWS; 7496 live TWS, 4002 / 4001 IB Gateway). */
  port: number;
  /** `TRADECRON_IBKR_CLIENT_ID`, required: fixed for good, IB lets only the placing client cancel an order. */
  clientId: number;
  /** `TRADECRON_IBKR_ACCOUNT`; may be left out when the login manages one account. */
  account?: string;
}

/** The broker and what it needs. */
export type BrokerConfig = { kind: "paper" } | AlpacaHostConfig | IbkrHostConfig;

/** The host's configuration. */
export interface HostConfig {
  /** Port to listen on (0: any free one). Default 3000. */
  port: number;
  /** Address to listen on. Default 127.0.0.1: reachable from this machine only. */
  host: string;
  /** FileStorage folder. Default ./tradecron-data. */
  dataDir: string;
  /** Tokens by role (at least one), or `generate` for one admin token made up for this run. */
  tokens: { name: string; role: "viewer" | "operator" | "admin"; token: string }[] | "generate";
  broker: BrokerConfig;
}

const token = z.string().min(16, "must be at least 16 characters (openssl rand -base64 32)");
const port = (min: 0 | 1, what: string) =>
  z.coerce
    .number({ error: `must be a port number (${what})` })
    .int(`must be a whole port number (${what})`)
    .min(min, `must be ${min} to 65535 (${what})`)
    .max(65_535, `must be ${min} to 65535 (${what})`);
// Messages of their own: a zod default message may quote the value, and these are credentials.
const credential = (name: string) =>
  z
    .string({ error: `is not set (the ${name} of your Alpaca account)` })
    .min(1, `is not set (the ${name} of your Alpaca account)`);
const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });

const envSchema = z.object({
  PORT: port(0, "where the host listens; 0 picks a free one").default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  TRADECRON_DATA_DIR: z.string().min(1).default("tradecron-data"),
  TRADECRON_ADMIN_TOKEN: token.optional(),
  TRADECRON_OPERATOR_TOKEN: token.optional(),
  TRADECRON_VIEWER_TOKEN: token.optional(),
  /** `1`: no tokens configured means one generated admin token for this run (local try-outs). */
  TRADECRON_DEV_TOKEN: z.enum(["0", "1"]).default("0"),
  TRADECRON_BROKER: z.enum(["paper", "alpaca", "ibkr"]).default("paper"),
});

const alpacaSchema = z.object({
  APCA_API_KEY_ID: credential("API key id"),
  APCA_API_SECRET_KEY: credential("API secret key"),
  /** The explicit live switch: nothing else moves the host off paper. */
  TRADECRON_ALPACA_LIVE: z.enum(["0", "1"]).default("0"),
  TRADECRON_ALPACA_BASE_URL: httpUrl.optional(),
  TRADECRON_ALPACA_DATA_URL: httpUrl.optional(),
});

const ibkrSchema = z.object({
  TRADECRON_IBKR_HOST: z.string().trim().min(1, "must not be empty").default("127.0.0.1"),
  TRADECRON_IBKR_PORT: port(1, "7497 paper TWS, 7496 live TWS, 4002 / 4001 IB Gateway").default(7497),
  TRADECRON_IBKR_CLIENT_ID: z.coerce
    .number({
      error:
        "is required: a whole number of your choosing, the same on every start (IB lets only it cancel its orders)",
    })
    .int("must be a whole number")
    .min(0, "must be 0 or more")
    .max(2_147_483_647, "must be at most 2147483647"),
  TRADECRON_IBKR_ACCOUNT: z.string().trim().min(1, "must not be empty when set").optional(),
});

/** A configuration error, naming the variable (never its value). */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** The environment variable at fault, when there is one. */
  readonly variable: string | null;
  constructor(message: string, variable: string | null = null) {
    super(message);
    this.variable = variable;
  }
}

function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  // An empty variable (`FOO=` in an env file) counts as unset, so its default applies.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(present);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const variable = issue?.path.join(".") ?? null;
  throw new ConfigError(`express-host: ${variable}: ${issue?.message}`, variable);
}

const LIVE_ALPACA_HOST = "api.alpaca.markets";

function brokerFromEnv(kind: BrokerKind, env: NodeJS.ProcessEnv): BrokerConfig {
  switch (kind) {
    case "paper":
      return { kind };
    case "alpaca": {
      const e = parseEnv(alpacaSchema, env);
      const paper = e.TRADECRON_ALPACA_LIVE !== "1";
      // A base URL is for a proxy or a fake; it must not take a paper host to live trading.
      if (
        paper &&
        e.TRADECRON_ALPACA_BASE_URL &&
        new URL(e.TRADECRON_ALPACA_BASE_URL).hostname === LIVE_ALPACA_HOST
      ) {
        throw new ConfigError(
          "express-host: TRADECRON_ALPACA_BASE_URL: points at Alpaca's live host; set TRADECRON_ALPACA_LIVE=1 to trade live",
          "TRADECRON_ALPACA_BASE_URL",
        );
      }
      return {
        kind,
        keyId: new Secret(e.APCA_API_KEY_ID),
        secretKey: new Secret(e.APCA_API_SECRET_KEY),
        paper,
        ...(e.TRADECRON_ALPACA_BASE_URL ? { baseUrl: e.TRADECRON_ALPACA_BASE_URL } : {}),
        ...(e.TRADECRON_ALPACA_DATA_URL ? { dataUrl: e.TRADECRON_ALPACA_DATA_URL } : {}),
      };
    }
    case "ibkr": {
      const e = parseEnv(ibkrSchema, env);
      return {
        kind,
        host: e.TRADECRON_IBKR_HOST,
        port: e.TRADECRON_IBKR_PORT,
        clientId: e.TRADECRON_IBKR_CLIENT_ID,
        ...(e.TRADECRON_IBKR_ACCOUNT ? { account: e.TRADECRON_IBKR_ACCOUNT } : {}),
      };
    }
  }
}

/** Reads the configuration from `env`. Throws a {@link ConfigError} naming the variable at fault. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): HostConfig {
  const e = parseEnv(envSchema, env);
  const tokens: Exclude<HostConfig["tokens"], "generate"> = [];
  if (e.TRADECRON_ADMIN_TOKEN) tokens.push({ name: "admin", role: "admin", token: e.TRADECRON_ADMIN_TOKEN });
  if (e.TRADECRON_OPERATOR_TOKEN)
    tokens.push({ name: "operator", role: "operator", token: e.TRADECRON_OPERATOR_TOKEN });
  if (e.TRADECRON_VIEWER_TOKEN)
    tokens.push({ name: "viewer", role: "viewer", token: e.TRADECRON_VIEWER_TOKEN });
  if (tokens.length === 0 && e.TRADECRON_DEV_TOKEN !== "1") {
    throw new ConfigError(
      "express-host: no tokens configured: set TRADECRON_ADMIN_TOKEN (and/or TRADECRON_OPERATOR_TOKEN, " +
        "TRADECRON_VIEWER_TOKEN), or TRADECRON_DEV_TOKEN=1 for a one-run admin token on this machine",
      "TRADECRON_ADMIN_TOKEN",
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.TRADECRON_DATA_DIR,
    tokens: tokens.length ? tokens : "generate",
    broker: brokerFromEnv(e.TRADECRON_BROKER, env),
  };
}
