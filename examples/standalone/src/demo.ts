/**
 * `npm run demo`: about 20 seconds of `tradecron start --config demo.config.ts` on the embedded
 * defaults (file storage, the paper broker, no credentials to set up), driven from here with the
 * same `tradecron` commands a person would type, through the service's API: fires, a failure
 * retried with backoff, a skip, a morning routine whose proposed trades are approved, left to
 * expire or refused by the risk guard, an exit check that trades on its own, and a summary. While
 * it runs, the dashboard is served; its address and a sign-in token made up for this run are
 * printed. `--fresh` starts over, `--keep-running` keeps the service running afterwards.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runCli } from "@tradecron/cli";

const { values } = parseArgs({
  options: {
    "keep-running": { type: "boolean", default: false },
    seconds: { type: "string", default: "20" },
    "data-dir": {
      type: "string",
      default: fileURLToPath(new URL("../../../.tradecron-data/demo", import.meta.url)),
    },
    fresh: { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds < 1) {
  process.stderr.write("demo: --seconds must be a number of at least 1\n");
  process.exit(2);
}
const dataDir = values["data-dir"];
const configFile = fileURLToPath(new URL("../demo.config.ts", import.meta.url));
const bin = join(
  dirname(createRequire(import.meta.url).resolve("@tradecron/cli/package.json")),
  "dist",
  "bin.js",
);
const say = (text: string) => process.stdout.write(`\n== ${text}\n`);
/** Exits once everything written so far has left (a pipe is written asynchronously). */
const exit = (code: number) => process.stdout.write("", () => process.exit(code));
const line = (text: string) => process.stdout.write(`${text}\n`);
const clock = () => new Date().toISOString().slice(11, 19);

if (values.fresh) await rm(dataDir, { recursive: true, force: true });
say("tradecron demo: file storage and the paper broker, nothing to set up");
line(`data folder: ${dataDir}`);
line("(run the demo again to see schedules and history survive; --fresh starts over)");

// A token for this run only: 24 random bytes, never a fixed one; the service reads it from its variable.
const token = randomBytes(24).toString("base64url");
const service: ChildProcess = spawn(process.execPath, [bin, "start", "--config", configFile], {
  env: {
    ...process.env,
    TRADECRON_STORAGE: `file:${dataDir}`,
    TRADECRON_STATUS_FILE: `${dataDir}.status.json`,
    TRADECRON_HTTP_PORT: process.env.TRADECRON_HTTP_PORT ?? "0",
    TRADECRON_LOG_LEVEL: "info",
    TRADECRON_DEMO_TOKEN: token,
  },
  stdio: ["ignore", "pipe", "pipe"],
});

// The service must not outlive the demo, however the demo ends (Ctrl-C, a closed pipe, an error).
process.on("exit", () => {
  if (service.exitCode === null) service.kill("SIGTERM");
});
process.stdout.on("error", () => process.exit(1));

/** The service's JSON log lines, printed as events once `live` (its notifications too, from stderr). */
let live = false;
let started: ((entry: Record<string, unknown>) => void) | null = null;
const ready = new Promise<Record<string, unknown>>((resolve) => {
  started = resolve;
});
const exited = new Promise<number | null>((resolve) => service.on("exit", (code) => resolve(code)));
const stderr: string[] = [];
createInterface({ input: service.stdout as NodeJS.ReadableStream }).on("line", (text) => {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(text) as Record<string, unknown>;
  } catch {
    if (live) line(`${clock()}  ${text}`);
    return;
  }
  if (entry.event === "service:started") started?.(entry);
  const level = Number(entry.level ?? 30);
  if (live && level >= 30) line(`${clock()}  ${level >= 40 ? "! " : ""}${String(entry.msg ?? "")}`);
});
createInterface({ input: service.stderr as NodeJS.ReadableStream }).on("line", (text) => {
  stderr.push(text);
  if (live) line(`${clock()}  notify: ${text}`);
});

let up = false;
void exited.then((code) => {
  if (up) return;
  process.stderr.write(`demo: the service exited (${code}) before it started:\n${stderr.join("\n")}\n`);
  exit(1);
});
const entry = await ready;
up = true;
const url = String(entry.url);
const startedAt = Date.now();

/** `tradecron <args>` through the service's API, printed as a person would see it. */
async function tradecron(
  args: string[],
  options: { quiet?: boolean } = {},
): Promise<{ code: number; out: string }> {
  let out = "";
  let err = "";
  if (!options.quiet) line(`$ tradecron ${args.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(" ")}`);
  const code = await runCli(args, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    env: { TRADECRON_URL: url, TRADECRON_TOKEN: token },
    cwd: process.cwd(),
  });
  if (!options.quiet) process.stdout.write(out + err);
  return { code, out };
}

/** A GET of the API, as JSON. */
async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

say("the dashboard is served while the demo runs");
line(`dashboard: ${String(entry.dashboard)}`);
line(`sign-in token (this run only): ${token}`);
line(`API: ${url} (curl -H "Authorization: Bearer <token>" ${url}/status)`);

{
  // Fires before this service started are the earlier runs'.
  const before = (await api<{ startedAt: string }>("/status")).startedAt;
  const earlier = await api<{ items: { status: string; scheduledAt: string }[]; nextCursor: string | null }>(
    `/executions?limit=1000&to=${encodeURIComponent(before)}`,
  );
  const last = earlier.items[0];
  if (!last) {
    say("first run: the data folder was empty");
  } else {
    const counts = new Map<string, number>();
    for (const e of earlier.items) counts.set(e.status, (counts.get(e.status) ?? 0) + 1);
    const schedules = (await api<{ items: unknown[] }>("/schedules?limit=500")).items.length;
    const approvals = (await api<{ items: unknown[] }>("/approvals?limit=1000")).items.length;
    say(
      `found ${schedules} schedules, ${earlier.items.length}${earlier.nextCursor ? "+" : ""} executions and ${approvals} approvals from earlier runs`,
    );
    line(`last fire ${last.scheduledAt}; ${[...counts].map(([k, v]) => `${v} ${k}`).join(", ")}`);
  }
}

say("the next fires of the real schedules (the demo does not wait for 09:00 New York)");
await tradecron(["preview", "morning-routine", "-n", "3"]);

say(`running for ${seconds} s: every line is an event the service logs`);
live = true;
const routine = await tradecron(["run-job", "morning-routine"]);
if (routine.code !== 0) say("the morning routine did not run now");
say("the morning routine proposed three trades: the risk guard refused one at once");
const proposed = JSON.parse(
  (
    await tradecron(
      ["approvals", "--status", "pending,rejected", "-s", "morning-routine", "-n", "3", "--json"],
      { quiet: true },
    )
  ).out,
) as { id: string; status: string; riskLevel: string; intent: { symbol: string } }[];
await tradecron(["approvals", "--status", "pending,rejected", "-s", "morning-routine", "-n", "3"]);
const aapl = proposed.find((a) => a.status === "pending" && a.intent.symbol === "AAPL");
if (aapl) {
  say("approve the low-risk one; the other pending one is left to expire (demo approvals last 6 s)");
  await tradecron(["approvals", "approve", aapl.id, "--reason", "breakout confirmed"]);
}
await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + seconds * 1000 - Date.now())));
live = false;

say("status");
await tradecron(["status"]);
type Status = { counters: Record<string, number> };
const { counters } = await api<Status>("/status");
line(`counters ${JSON.stringify(counters)}`);

say("orders");
for (const o of (
  await api<{
    items: {
      clientOrderId: string;
      side: string;
      filledQty: string;
      symbol: string;
      status: string;
      avgFillPrice: string | null;
      scheduleId: string;
      intent: { qty?: string };
    }[];
  }>("/orders?limit=20")
).items.reverse()) {
  line(
    `${o.clientOrderId}  ${o.side} ${o.filledQty}/${o.intent.qty ?? "?"} ${o.symbol}  ${o.status}${o.avgFillPrice ? ` @ ${o.avgFillPrice}` : ""}  (${o.scheduleId})`,
  );
}
say("positions and account");
for (const p of (
  await api<{ items: { symbol: string; qty: string; avgEntryPrice: string }[] }>("/broker/positions")
).items)
  line(`${p.symbol}  ${p.qty} @ ${p.avgEntryPrice}`);
const account = await api<{ cash: string; equity: string }>("/broker/account");
line(`cash ${account.cash}, equity ${account.equity}`);
say("approvals");
await tradecron(["approvals", "--status", "pending,approved,rejected,expired,submitted,failed", "-n", "20"]);

const decided = new Set(
  (await api<{ items: { status: string }[] }>("/approvals?limit=1000")).items.map((a) => a.status),
);
const wanted: [string, boolean][] = [
  ["fires", (counters.succeeded ?? 0) > 0],
  ["a retry", (counters.retries ?? 0) > 0],
  ["a skip", (counters.skipped ?? 0) > 0],
  ["an approved proposal", decided.has("submitted")],
  ["an expired one", decided.has("expired")],
  ["a risk-rejected one", decided.has("rejected")],
  ["direct exits", (counters.ordersSubmitted ?? 0) > 0],
];
const missing = wanted.filter(([, seen]) => !seen).map(([what]) => what);

say(
  missing.length === 0
    ? "seen: fires, a retry, a skip, an approved, an expired and a risk-rejected proposal, and direct exits"
    : `these did not occur: ${missing.join(", ")}`,
);

say("from the demo to a service of your own: a config, a jobs file, a systemd unit, a token");
line(
  `alias tradecron="node ${bin}"   # in a project of yours: npm i @tradecron/core @tradecron/cli; npx tradecron`,
);
line("tradecron init ~/my-bot && cd ~/my-bot && tradecron start   # dashboard http://127.0.0.1:8080/ui/");

const stop = async () => {
  service.kill("SIGTERM");
  return exited;
};
if (values["keep-running"]) {
  say(
    `--keep-running: the service keeps running (dashboard ${String(entry.dashboard)}); stop it with Ctrl-C`,
  );
  const onSignal = () => {
    void stop().then((code) => exit(code === 0 ? 0 : 1));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
} else {
  const code = await stop();
  if (code !== 0) say(`the service exited with ${code}`);
  say(missing.length === 0 && code === 0 ? "demo done" : "demo done (not everything occurred)");
  exit(missing.length === 0 && code === 0 ? 0 : 1);
}
