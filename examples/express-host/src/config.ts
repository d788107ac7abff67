/**
 * The host's configuration, from the environment, validated with zod. There are no default
 * credentials: tokens come from the environment, or (for a local try-out only) one admin token is
 * generated for this run and printed once.
 */

import { z } from "zod";

/** Brokers the host can use. */
export type BrokerKind = "paper" | "alpaca" | "ibkr";

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
  broker: BrokerKind;
}

const token = z.string().min(16, "must be at least 16 characters (openssl rand -base64 32)");

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  TRADECRON_DATA_DIR: z.string().min(1).default("tradecron-data"),
  TRADECRON_ADMIN_TOKEN: token.optional(),
  TRADECRON_OPERATOR_TOKEN: token.optional(),
  TRADECRON_VIEWER_TOKEN: token.optional(),
  /** `1`: no tokens configured means one generated admin token for this run (local try-outs). */
  TRADECRON_DEV_TOKEN: z.enum(["0", "1"]).default("0"),
  // BROKER ADAPTERS: `alpaca` and `ibkr` are accepted here already; src/broker.ts says where they plug in.
  TRADECRON_BROKER: z.enum(["paper", "alpaca", "ibkr"]).default("paper"),
});

/** A configuration error, naming the variable. */
export class ConfigError extends Error {}

/** Reads the configuration from `env`. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): HostConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`express-host: ${issue?.path.join(".")}: ${issue?.message}`);
  }
  const e = parsed.data;
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
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.TRADECRON_DATA_DIR,
    tokens: tokens.length ? tokens : "generate",
    broker: e.TRADECRON_BROKER,
  };
}
