/**
 * `npm run demo`: about 20 seconds of the scheduler on the embedded defaults (no credentials),
 * showing fires, a failure retried with backoff, a skip, and a status summary. `--keep-running`
 * keeps the host running afterwards.
 */

import { parseArgs } from "node:util";
import type { ScheduleInput } from "@tradecron/core";
import { printEvents } from "./event-log.js";
import { DEFAULT_SCHEDULES, startHost } from "./host.js";

const { values } = parseArgs({
  options: {
    "keep-running": { type: "boolean", default: false },
    seconds: { type: "string", default: "20" },
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

say("tradecron demo: embedded defaults (in-memory storage, paper broker), no credentials");
const host = await startHost({
  schedules,
  healthPort: null,
  statusFile: null,
  behaviour: { slowExitCheckEvery: 4, slowExitCheckMs: 2500, flakySnapshot: true },
  handleSignals: true,
});
const { scheduler } = host;

say("next fires of the real schedules (the demo does not wait for 09:00 New York)");
for (const id of ["morning-routine", "daily-snapshot"]) {
  const fires = await scheduler.preview(id, { count: 3 });
  console.log(`${id.padEnd(16)} ${fires.map((f) => `${f.local} (${f.iso})`).join(" | ")}`);
}

say(`running for ${seconds} s: every line is an event`);
printEvents(scheduler);
await scheduler.trigger("morning-routine", { actor: "demo", wait: false });
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

if (values["keep-running"]) {
  say("--keep-running: the host keeps running; stop it with Ctrl-C");
} else {
  await host.stop();
  const c = status.counters;
  const shown = c.succeeded > 0 && c.retries > 0 && c.skipped > 0;
  say(shown ? "demo done: fires, a retry and a skip were shown" : "demo done (some events did not occur)");
  process.exit(shown ? 0 : 1);
}
