/**
 * `npm run demo`: about 20 seconds of the scheduler on the embedded defaults (no credentials),
 * showing fires, a failure retried with backoff, a skip, and a status summary. `--keep-running`
 * keeps the host running afterwards.
 */

import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { ScheduleInput } from "@tradecron/core";
import { printEvents } from "./event-log.js";
import { DEFAULT_SCHEDULES, startHost } from "./host.js";

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
const say = (text: string) => console.log(`\n== ${text}`);

/** The real schedules, plus demo-speed copies that fire within the demo's 20 seconds. */
const schedules: ScheduleInput[] = [
  // The real 30-second exit check is left out: the demo-speed copy below stands in for it.
  ...DEFAULT_SCHEDULES.filter((s) => s.id !== "exit-check"),
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
];

const dataDir = values["data-dir"];
if (values.fresh) await rm(dataDir, { recursive: true, force: true });
say("tradecron demo: embedded defaults (file storage, paper broker), no credentials");
console.log(`data folder: ${dataDir}`);
console.log("(run the demo again to see schedules and history survive; --fresh starts over)");
const host = await startHost({
  dataDir,
  schedules,
  healthPort: null,
  statusFile: null,
  behaviour: { slowExitCheckEvery: 4, slowExitCheckMs: 2500, flakySnapshot: true },
  handleSignals: true,
  // Demo speed: approvals expire after 6 s instead of 4 h, so one can be seen expiring.
  approvalExpiry: "6s",
});
const { scheduler } = host;

{
  const earlier = await scheduler.listExecutions({ limit: 1000 });
  const last = earlier.items[0];
  if (!last) {
    say("first run: the data folder was empty");
  } else {
    const counts = new Map<string, number>();
    for (const e of earlier.items) counts.set(e.status, (counts.get(e.status) ?? 0) + 1);
    const schedules = (await scheduler.listSchedules()).length;
    const approvals = (await scheduler.listApprovals({ limit: 1000 })).items.length;
    say(
      `found ${schedules} schedules, ${earlier.items.length}${earlier.nextCursor ? "+" : ""} executions and ${approvals} approvals from earlier runs`,
    );
    const summary = [...counts].map(([k, v]) => `${v} ${k}`).join(", ");
    console.log(`last fire ${new Date(last.scheduledAt).toISOString()}; ${summary}`);
  }
}

say("next fires of the real schedules (the demo does not wait for 09:00 New York)");
for (const id of ["morning-routine", "daily-snapshot"]) {
  const fires = await scheduler.preview(id, { count: 3 });
  console.log(`${id.padEnd(16)} ${fires.map((f) => `${f.local} (${f.iso})`).join(" | ")}`);
}

say(`running for ${seconds} s: every line is an event`);
printEvents(scheduler);
const routine = await scheduler.trigger("morning-routine", { actor: "demo" });
if (routine.status !== "succeeded") {
  say(
    `the morning routine did not run now: ${routine.status}${routine.reason ? ` (${routine.reason})` : ""}`,
  );
}
say("the morning routine proposed three trades");
for (const p of (routine.result ?? []) as { approval: string; status: string; rule: string | null }[]) {
  const a = await scheduler.getApproval(p.approval);
  const i = a.intent as { side: string; qty: string; symbol: string };
  console.log(
    `${a.id}  ${i.side} ${i.qty} ${i.symbol}  risk ${a.riskLevel}  -> ${a.status}${a.decisionReason ? ` (${a.decisionReason})` : ""}`,
  );
}
const [aapl] = (await scheduler.listApprovals({ status: "pending", riskLevel: "low" })).items;
if (aapl) {
  const [decision] = await scheduler.approve(aapl.id, {
    actor: "demo-approver",
    reason: "breakout confirmed",
  });
  say(`demo-approver approved ${aapl.id}: ${decision?.status}; the other pending one is left to expire`);
}
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));

say("status");
const status = await scheduler.status();
const t = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString().slice(11, 19));
console.log(
  `state ${status.state}, uptime ${Math.round(status.uptimeMs / 1000)} s, health ${scheduler.health().status}`,
);
console.log(
  `${"schedule".padEnd(18)}${"last status".padEnd(13)}${"last start".padEnd(12)}${"last ok".padEnd(10)}next fire`,
);
for (const s of status.schedules) {
  console.log(
    `${s.id.padEnd(18)}${(s.paused ? "paused" : (s.lastStatus ?? "-")).padEnd(13)}${t(s.lastStartAt).padEnd(12)}${t(s.lastSuccessAt).padEnd(10)}${s.nextFireAt ? new Date(s.nextFireAt).toISOString() : "-"}`,
  );
}
console.log("counters", JSON.stringify(status.counters));

say("orders");
for (const o of (await scheduler.listOrders({ limit: 20 })).items.reverse()) {
  console.log(
    `${o.clientOrderId}  ${o.side} ${o.filledQty}/${(o.intent as { qty?: string }).qty ?? "?"} ${o.symbol}  ${o.status}${o.avgFillPrice ? ` @ ${o.avgFillPrice}` : ""}  (${o.scheduleId})`,
  );
}
say("positions and account");
const broker = scheduler.broker;
for (const p of (await broker?.getPositions()) ?? [])
  console.log(`${p.symbol}  ${p.qty} @ ${p.avgEntryPrice}`);
const account = await broker?.getAccount();
if (account) console.log(`cash ${account.cash}, equity ${account.equity}`);
say("approvals");
for (const a of (await scheduler.listApprovals({ limit: 20 })).items.reverse()) {
  const i = a.intent as { side: string; qty: string; symbol: string };
  console.log(
    `${a.id}  ${i.side} ${i.qty} ${i.symbol}  ${a.status}${a.decidedBy ? ` by ${a.decidedBy}` : ""}`,
  );
}

if (values["keep-running"]) {
  say("--keep-running: the host keeps running; stop it with Ctrl-C");
} else {
  const decided = (await scheduler.listApprovals({ limit: 20 })).items.map((a) => a.status);
  await host.stop();
  const c = status.counters;
  const shown =
    c.succeeded > 0 &&
    c.retries > 0 &&
    c.skipped > 0 &&
    c.ordersSubmitted > 0 &&
    ["expired", "rejected", "submitted"].every((s) => decided.includes(s as never));
  say(
    shown
      ? "demo done: fires, a retry, a skip, an approved, an expired and a risk-rejected proposal, and direct exits"
      : "demo done (some events did not occur)",
  );
  process.exit(shown ? 0 : 1);
}
