/**
 * What `tradecron init` writes: a starter config (seed 004's jobs: a daily snapshot after the
 * London close, an exit check every 30 s in market hours, a Sunday report), its jobs file, a
 * systemd unit and an environment file. Pure functions of the answers, so tests read them as text.
 */

/** The storage a starter config uses. */
export type InitStorage = "file" | "sqlite" | "postgres";

const STORAGE_LINES: Record<InitStorage, string> = {
  file: `  // One process per folder: while it runs, commands go through its API (url in the status file,
  // token from tradecron.env).
  storage: { type: "file", dir: "./tradecron-data" },`,
  sqlite: `  // Commands (run-job, pause-all, approvals ...) open the same file while the service runs.
  storage: { type: "sqlite", path: "./tradecron.db" },`,
  postgres: `  // Connection string from TRADECRON_DATABASE_URL or DATABASE_URL (tradecron.env); several
  // instances may run on one database: every fire runs exactly once.
  storage: { type: "postgres" },`,
};

/** tradecron.config.ts */
export function configTemplate(storage: InitStorage): string {
  return `// tradecron.config.ts: what 'tradecron start' runs. Reference: the @tradecron/cli README.
// Validated at start and by 'tradecron validate'; environment variables (tradecron.env) override
// the switches (TRADECRON_ENABLED, TRADECRON_TIMEZONE, TRADECRON_WEBHOOK_URL, ...).
import type { TradecronConfig } from "@tradecron/cli";
import { dailySnapshot, exitCheck, weeklyReport } from "./jobs";

// Secrets (the API token, a database URL) live in tradecron.env: the systemd unit reads it, and
// this line does when you run tradecron in a shell here (variables already set win).
try {
  process.loadEnvFile(\`\${__dirname}/tradecron.env\`);
} catch {}

const config: TradecronConfig = {
${STORAGE_LINES[storage]}
  // A simulated account inside this process; swap in a real broker when you are ready.
  broker: { type: "paper", initialCash: 100000, prices: { SPY: 585.3, AAPL: 190.1 } },
  // TRADECRON_WEBHOOK_URL (or SCHEDULER_WEBHOOK_URL) adds a webhook for failures and pause-all.
  notifiers: [{ type: "console" }],
  risk: { maxOrderNotional: 25000, maxDailyNotional: 100000, maxOpenPositions: 5 },
  jobs: {
    "daily-snapshot": dailySnapshot,
    "exit-check": exitCheck,
    "weekly-report": weeklyReport,
  },
  // Declared at every start: created if missing, updated if changed here, removed when deleted here.
  schedules: [
    {
      id: "daily-snapshot",
      job: "daily-snapshot",
      trigger: { cron: "35 16 * * 1-5", timezone: "Europe/London" },
      retry: { attempts: 3, backoff: { baseMs: "60s", factor: 2 } }, // 60 s, then 120 s, then notify
    },
    { id: "exit-check", job: "exit-check", trigger: { every: "30s" }, marketHoursOnly: true },
    { id: "weekly-report", job: "weekly-report", trigger: { cron: "0 21 * * 0", timezone: "UTC" } },
  ],
  // Running handlers get 30 s to finish at a stop; then they are handed over to the next instance.
  scheduler: { stopTimeout: "30s" },
  // /health (public), /status, /metrics, the API and the dashboard (http://127.0.0.1:8080/ui/).
  // Each token comes from a variable; its name is the audit actor of what is done with it.
  http: {
    port: 8080,
    host: "127.0.0.1",
    tokens: [{ name: "admin", role: "admin", env: "TRADECRON_ADMIN_TOKEN" }],
  },
  statusFile: "./logs/scheduler_status.json",
};

export default config;
`;
}

/** jobs.ts */
export function jobsTemplate(): string {
  return `// jobs.ts: the handlers the config's schedules run. Each gets a context: ctx.fire (the fire's
// identity and idempotency key), ctx.signal (aborted on timeout or shutdown), ctx.logger,
// ctx.broker (read account and positions), ctx.submit / ctx.propose (orders through the risk guard).
import type { JobHandler } from "@tradecron/core";

export const dailySnapshot: JobHandler = async (ctx) => {
  const account = ctx.broker ? await ctx.broker.getAccount() : null;
  const positions = ctx.broker ? await ctx.broker.getPositions() : [];
  ctx.logger.info({ equity: account?.equity, positions: positions.length }, "snapshot taken");
  return { equity: account?.equity ?? null, positions: positions.length };
};

export const exitCheck: JobHandler = async (ctx) => {
  const positions = ctx.broker ? await ctx.broker.getPositions() : [];
  // Decide exits here; ctx.submit({ symbol, side: "sell", qty }) is risk-checked and idempotent.
  return { checked: positions.length };
};

export const weeklyReport: JobHandler = async (ctx) => {
  ctx.logger.info({ week: new Date(ctx.now()).toISOString().slice(0, 10) }, "weekly report");
  return { ok: true };
};
`;
}

/** What the systemd unit needs to know. */
export interface UnitOptions {
  /** The project folder (absolute). */
  dir: string;
  /** The user the service runs as. */
  user: string;
  /** Absolute path of node. */
  node: string;
  /** Absolute path of the tradecron binary (dist/bin.js). */
  bin: string;
}

/**
 * tradecron.service. Type=simple with Restart=on-failure: Node cannot send sd_notify's datagram
 * to a unix socket without a native addon, and `systemd-notify` run from a child process needs
 * NotifyAccess=all and races its own exit; readiness is what /health says.
 */
export function unitTemplate(o: UnitOptions): string {
  return `# tradecron.service: written by 'tradecron init'. Install and start:
#   sudo cp tradecron.service /etc/systemd/system/tradecron.service
#   sudo systemctl daemon-reload && sudo systemctl enable --now tradecron
#   systemctl status tradecron; journalctl -u tradecron -f; curl http://127.0.0.1:8080/health
[Unit]
Description=tradecron scheduler (${o.dir})
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${o.user}
WorkingDirectory=${o.dir}
EnvironmentFile=-${o.dir}/tradecron.env
ExecStart=${o.node} ${o.bin} start --config ${o.dir}/tradecron.config.ts
# A crash or a failed start is restarted; 'systemctl stop' (exit 0) is not.
Restart=on-failure
RestartSec=5s
# SIGTERM to tradecron only: running jobs get scheduler.stopTimeout (30 s) to finish, then are
# handed over (their attempt given back; the next instance takes them over). systemd waits up to
# TimeoutStopSec before SIGKILL: keep it above stopTimeout + 10 s.
KillMode=mixed
KillSignal=SIGTERM
TimeoutStopSec=45s
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths=${o.dir}

[Install]
WantedBy=multi-user.target
`;
}

/**
 * tradecron.env: the environment file the unit reads (secrets stay out of the config), with an
 * admin token for the API and dashboard made up for this project (`token`: random, never a fixed one).
 */
export function envTemplate(storage: InitStorage, token: string): string {
  return `# tradecron.env: read by the systemd unit (EnvironmentFile). Keep it private (chmod 600).
# The API and dashboard token (sign in at http://127.0.0.1:8080/ui/); made up by 'tradecron init'.
# A new one: openssl rand -base64 32
TRADECRON_ADMIN_TOKEN=${token}
# TRADECRON_ENABLED=true            # false: this instance fires nothing (standby)
# TRADECRON_TIMEZONE=UTC            # zone of cron schedules that name none
# TRADECRON_WEBHOOK_URL=https://example.invalid/notify
# TRADECRON_WEBHOOK_SECRET=
# TRADECRON_LOG_LEVEL=info
${storage === "postgres" ? "TRADECRON_DATABASE_URL=postgres://tradecron@127.0.0.1:5432/tradecron\n" : ""}`;
}
