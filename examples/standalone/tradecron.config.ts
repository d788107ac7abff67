/**
 * The standalone host, as a config for the `tradecron` command: the seeds' morning routine, exit
 * check and end-of-day snapshot on the embedded defaults (file storage, the paper broker), with
 * /health, /status, /metrics, the API and the dashboard on 127.0.0.1:8080 and seed 004's status
 * file. Run it with `tradecron start --config tradecron.config.ts` (`npm start` here).
 *
 * Secrets come from the environment: TRADECRON_ADMIN_TOKEN is the API and dashboard token
 * (`export TRADECRON_ADMIN_TOKEN=$(openssl rand -base64 32)`); TRADECRON_WEBHOOK_URL adds a
 * webhook for failures, pause-all and approvals.
 */

import type { ScheduleConfig, TradecronConfig } from "@tradecron/cli";
import { makeJobs } from "./jobs";

/** The host's schedules. */
export const SCHEDULES: ScheduleConfig[] = [
  {
    id: "morning-routine",
    name: "Morning routine (pre-market scan)",
    job: "morning-routine",
    trigger: { cron: "0 9 * * 1-5", timezone: "America/New_York" },
  },
  { id: "exit-check", name: "Exit check", job: "exit-check", trigger: { every: "30s" }, overlap: "skip" },
  {
    id: "daily-snapshot",
    name: "Daily snapshot after the London close",
    job: "daily-snapshot",
    trigger: { cron: "35 16 * * *", timezone: "UTC" },
    retry: { attempts: 3, backoff: { baseMs: "60s", factor: 2 } },
  },
];

const config = {
  storage: { type: "file", dir: "./tradecron-data" },
  // A simulated account inside the service, with a price for each example symbol.
  broker: {
    type: "paper",
    initialCash: "100000",
    prices: { AAPL: "190.10", MSFT: "410.50", TSLA: "251.20", SPY: "585.30" },
  },
  notifiers: [{ type: "console" }],
  // Small orders, a daily cap, no more than five positions.
  risk: { maxOrderNotional: 25_000, maxDailyNotional: 100_000, maxOpenPositions: 5, minConfidence: 0.5 },
  jobs: makeJobs(),
  schedules: SCHEDULES,
  http: { port: 8080, tokens: [{ name: "admin", role: "admin", env: "TRADECRON_ADMIN_TOKEN" }] },
  statusFile: "./logs/scheduler_status.json",
} satisfies TradecronConfig;

export default config;
