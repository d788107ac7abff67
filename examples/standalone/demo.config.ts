/**
 * The demo's config (`npm run demo` starts it): the host's config, plus demo-speed copies of the
 * exit check and the snapshot that misbehave on purpose (a slow exit check every fourth run, so
 * the next one is skipped; a snapshot whose first attempt fails, so it is retried), approvals
 * that expire after 6 s instead of 4 h, and a sign-in token made up by the demo for this run.
 * The demo points storage, port and status file elsewhere through the environment.
 */

import type { TradecronConfig } from "@tradecron/cli";
import { makeJobs } from "./jobs";
import host, { SCHEDULES } from "./tradecron.config";

const config = {
  ...host,
  jobs: makeJobs({ slowExitCheckEvery: 4, slowExitCheckMs: 2500, flakySnapshot: true }),
  schedules: [
    // The real 30-second exit check is left out: the demo-speed copy stands in for it.
    ...SCHEDULES.filter((s) => s.id !== "exit-check"),
    {
      id: "exit-check-demo",
      name: "Exit check (demo speed: every 2 s)",
      job: "exit-check",
      trigger: { every: "2s" },
      overlap: "skip",
    },
    {
      id: "snapshot-demo",
      name: "Snapshot (demo speed: every 8 s, first attempt fails)",
      job: "daily-snapshot",
      trigger: { every: "8s" },
      retry: { attempts: 3, backoff: { baseMs: "1s", factor: 2 } },
    },
  ],
  scheduler: { approvalExpiry: "6s", stopTimeout: "5s" },
  http: { ...host.http, tokens: [{ name: "demo", role: "admin", env: "TRADECRON_DEMO_TOKEN" }] },
} satisfies TradecronConfig;

export default config;
