/**
 * The config the binary tests start: jobs inline, everything else from environment variables set
 * by each test (storage, schedules as JSON, stop deadline, lease), so one file serves every case.
 */

import { randomBytes } from "node:crypto";
import { write } from "./helpers.js";

const CONFIG = `
import { PaperBroker } from "@tradecron/core";

const wait = (ms: number, signal: AbortSignal) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(t); reject(new Error("aborted: " + String(signal.reason?.message ?? signal.reason))); }, { once: true });
  });

const env = process.env;
const storage =
  env.T_STORAGE === "postgres"
    ? { type: "postgres", url: env.T_PG, schema: env.T_SCHEMA }
    : env.T_STORAGE === "file"
      ? { type: "file", dir: "./data" }
      : { type: "sqlite", path: "./tc.db" };

export default {
  storage,
  broker:
    env.T_BROKER === "factory" ? () => { const b = new PaperBroker({ initialCash: 100000 }); b.setPrice("SPY", 500); return b; }
    : env.T_BROKER === "ibkr" ? { type: "ibkr", port: Number(env.T_IBKR_PORT), clientId: 7 }
    : { type: "paper", prices: { SPY: 500 } },
  notifiers: [],
  jobs: {
    tick: async (ctx) => ({ at: ctx.fire.scheduledAt }),
    slow: async (ctx) => { await wait(Number(ctx.data?.ms ?? 3000), ctx.signal); return { slept: ctx.data?.ms ?? 3000, attempt: ctx.fire.attempt }; },
    manual: async (ctx) => ({ by: ctx.fire.actor, kind: ctx.fire.kind }),
    failing: async () => { throw new Error("broker said no"); },
    buy: async (ctx) => ctx.submit({ symbol: "SPY", side: "buy", qty: 1 }),
    propose: async (ctx) => { await ctx.propose({ symbol: "SPY", side: "buy", qty: 1, riskLevel: "low", rationale: "cli test", confidence: 0.9 }); return null; },
  },
  schedules: JSON.parse(env.T_SCHEDULES ?? "[]"),
  scheduler: { stopTimeout: env.T_STOP ?? "10s", lease: env.T_LEASE ?? "30s" },
  http: {
    port: 0,
    // The tests run jobs through the API more often than the default 10 a minute per token.
    rateLimits: { triggersPerMinute: 1000 },
    tokens: [
      { name: "ops", role: "operator", env: "T_TOKEN" },
      { name: "watcher", role: "viewer", env: "T_VIEWER" },
    ],
  },
  statusFile: "./status.json",
  log: { level: "info" },
};
`;

/** Writes the test config into `dir`; returns its path. */
export function writeTestConfig(dir: string): string {
  return write(dir, "tradecron.config.ts", CONFIG);
}

/** A schedule for T_SCHEDULES. */
export type TestSchedule = {
  id: string;
  job: string;
  trigger: Record<string, unknown>;
  [k: string]: unknown;
};

/** The API tokens of the test services, made up for this run. */
export const TOKENS = {
  operator: randomBytes(16).toString("hex"),
  viewer: randomBytes(16).toString("hex"),
};

/** The environment of a test service (its tokens included; commands given it find them too). */
export function testEnv(
  schedules: TestSchedule[],
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    T_SCHEDULES: JSON.stringify(schedules),
    T_TOKEN: TOKENS.operator,
    T_VIEWER: TOKENS.viewer,
    ...extra,
  };
}
