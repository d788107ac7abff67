// Where a fire's time goes: a CPU profile of one burst, n one-off schedules due at the same
// instant on MemoryStorage, from just before the instant until every handler has started.
//
//   node bench/fire-profile.mjs [n=10000] [--out burst.cpuprofile] [--top 20] [--interval 250]
//   node bench/fire-profile.mjs [n] --no-profile   the same burst unprofiled: wall and CPU time
//   node bench/fire-profile.mjs [n] --storage      MemoryStorage alone: a fire's storage calls
//
// Build packages/core first (cd packages/core && npx tsup). TRADECRON_CORE=<path to dist/index.js>
// profiles another build (to compare a change). The profile covers the burst only (the inspector's
// Profiler, started 20 ms before the instant, is what `node --cpu-prof` writes for the whole
// process); it prints the functions with the most self time and the wall time per fire.

import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { pathToFileURL } from "node:url";

const { MemoryStorage, Scheduler } = await import(
  process.env.TRADECRON_CORE ? pathToFileURL(process.env.TRADECRON_CORE).href : "@tradecron/core"
);

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 10_000);
const out = flag("--out", null);
const top = Number(flag("--top", 20));
// --no-profile: the same burst unprofiled, for its wall and CPU time alone.
const profiling = !args.includes("--no-profile");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

if (args.includes("--storage")) {
  // The floor MemoryStorage sets: what one fire's storage calls cost alone (a claim, the overlap
  // check's activeExecutions, the outcome write), with records made as the scheduler makes them.
  const storage = new MemoryStorage();
  const at = Date.now();
  // Ids as the scheduler makes them (core's execution-id.ts): a random prefix and a counter.
  const idPrefix = crypto.randomUUID().slice(0, 24);
  // One ISO text per instant, as core's fireIdempotencyKey keeps it.
  const atIso = new Date(at).toISOString();
  const record = (i) =>
    Object.freeze({
      id: idPrefix + i.toString(16).padStart(12, "0"),
      scheduleId: `s${i}`,
      job: "job",
      scheduledAt: at,
      kind: "scheduled",
      status: "running",
      reason: null,
      attempts: 1,
      claimedAt: at,
      startedAt: at,
      endedAt: null,
      instanceId: "profile",
      leaseExpiresAt: at + 30_000,
      actor: null,
      error: null,
      result: null,
      details: null,
      idempotencyKey: `s${i}@${atIso}`,
    });
  const us = (ms) => +((ms / n) * 1000).toFixed(2);
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    const claims = [];
    for (let i = 0; i < n; i++) claims.push({ execution: record(round * n + i), withState: true });
    const t1 = performance.now();
    const results = storage.claimFires
      ? await storage.claimFires(claims)
      : await Promise.all(claims.map((c) => storage.claimFire(c)));
    const t2 = performance.now();
    for (const r of results) await storage.activeExecutions(r.execution.scheduleId);
    const t3 = performance.now();
    for (const r of results) {
      await storage.updateExecution(r.execution.id, "profile", {
        status: "succeeded",
        endedAt: at,
        attempts: 1,
        result: null,
        leaseExpiresAt: null,
      });
    }
    const t4 = performance.now();
    console.log(
      JSON.stringify({
        round,
        n,
        batchClaim: Boolean(storage.claimFires),
        recordUs: us(t1 - t0),
        claimUs: us(t2 - t1),
        activeUs: us(t3 - t2),
        writeUs: us(t4 - t3),
      }),
    );
  }
  process.exit(0);
}

let count = 0;
let lastStart = 0;
let done;
const all = new Promise((resolve) => {
  done = resolve;
});
const scheduler = new Scheduler({ storage: new MemoryStorage(), instanceId: "profile" });
scheduler.register("job", () => {
  count++;
  if (count === n) {
    lastStart = performance.now();
    done();
  }
});
await scheduler.start();
const armStart = Date.now();
// Arming 10,000 takes about a second here; the instant is a whole second well after it.
const T = Math.ceil((armStart + 1500 + n * 0.25) / 1000) * 1000;
for (let i = 0; i < n; i++) await scheduler.createSchedule({ id: `s${i}`, job: "job", trigger: { at: T } });
if (Date.now() > T - 100) throw new Error(`arming took ${Date.now() - armStart} ms: raise the lead`);
globalThis.gc?.();

const session = new Session();
if (profiling) {
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: Number(flag("--interval", 250)) });
}
await sleep(T - Date.now() - 20);
if (profiling) await session.post("Profiler.start");
const cpu0 = process.cpuUsage();
const tWall = performance.now() + (T - Date.now());
await all;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
const profile = profiling ? (await session.post("Profiler.stop")).profile : null;
if (profiling) session.disconnect();
await scheduler.stop({ timeoutMs: 0 });
if (!profile) {
  const allStarted = lastStart - tWall;
  console.log(
    JSON.stringify({
      n,
      allStartedMs: +allStarted.toFixed(1),
      cpuMs,
      cpuUsPerFire: +((cpuMs / n) * 1000).toFixed(2),
    }),
  );
  process.exit(0);
}

// Self time per function (name, file, line), over the samples of the burst.
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i]);
  const dt = (profile.timeDeltas[i] ?? 0) / 1000;
  total += dt;
  const f = node.callFrame;
  const file = f.url ? f.url.replace(/^.*\/(packages|node_modules)\//, "$1/") : "";
  const key = `${f.functionName || "(anonymous)"} ${file}${file ? `:${f.lineNumber + 1}` : ""}`;
  self.set(key, (self.get(key) ?? 0) + dt);
}
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
// Self time by part: MemoryStorage's methods, the rest of core, GC, and Node's own (the
// inspector's share is the profiler's cost, not the burst's).
const STORAGE_FNS = new Set([
  "claim",
  "claimFire",
  "claimFires",
  "claimState",
  "updateExecution",
  "activate",
  "deactivate",
  "activeExecutions",
  "evict",
  "getScheduleState",
  "checkState",
]);
const parts = new Map();
for (const [key, ms] of self) {
  const [name, where = ""] = key.split(" ");
  const part =
    name === "(garbage collector)"
      ? "GC"
      : where.startsWith("node:") || name === "(program)" || name === "(idle)"
        ? "Node and V8 (incl. the profiler)"
        : where.includes("dist/") && STORAGE_FNS.has(name)
          ? "MemoryStorage"
          : where.includes("dist/")
            ? "scheduler (rest of core)"
            : "other";
  parts.set(part, (parts.get(part) ?? 0) + ms);
}
const allStarted = lastStart - tWall;
console.log(`${n} fires due at one instant: all started ${allStarted.toFixed(1)} ms after it`);
console.log(
  `wall per fire ${((allStarted / n) * 1000).toFixed(2)} µs; CPU ${cpuMs.toFixed(1)} ms; profiled ${total.toFixed(1)} ms`,
);
console.log("self ms  share  function");
for (const [key, ms] of rows)
  console.log(`${ms.toFixed(1).padStart(7)}  ${((ms / total) * 100).toFixed(1).padStart(4)}%  ${key}`);
console.log("by part:");
for (const [part, ms] of [...parts].sort((a, b) => b[1] - a[1]))
  console.log(`${ms.toFixed(1).padStart(7)}  ${((ms / total) * 100).toFixed(1).padStart(4)}%  ${part}`);
if (out) writeFileSync(out, JSON.stringify(profile));
process.exit(0);
