// Scheduler benchmark (issue 2): tradecron side by side with croner, node-cron, toad-scheduler and
// APScheduler 3.9 (Python, Debian's python3-apscheduler), in one run:
//   1. firing lateness p50/p99 with 1, 1,000 and 10,000 armed schedules;
//   2. 10,000 schedules due at the same instant: time until every handler has started; and
//      tradecron's dispatch throughput with 100,000 due at once (MemoryStorage);
//   3. heap per armed schedule, and time to arm 100,000 schedules.
// Targets (issue 2, then issue 10): p99 lateness at 10,000 armed at most toad-scheduler's (and at
// most 1 ms spread); >= 200,000 fires/s dispatch on MemoryStorage; a 10,000 burst all started no
// later than croner; <= 1 KB heap per armed schedule and at most toad-scheduler's on the bulk
// path; arming 100,000 in bulk no slower than toad-scheduler; ahead of every peer on each figure.
//
//   node --expose-gc bench/scheduler.bench.mjs [--quick] [--update-readme]
//
// Every measurement runs in its own child process (scheduler-worker.mjs, scheduler_apscheduler.py),
// one after another, so systems never share a heap or the CPU. Needs the built core
// (`cd packages/core && npx tsup`). Prints the tables and writes bench/results/scheduler.md
// (scheduler-quick.md with --quick);
// --update-readme also replaces the "Scheduler" section of bench/README.md. --quick runs shorter
// windows and skips the 100,000 steps: a smoke test, not for publishing.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const args = new Set(process.argv.slice(2));
const quick = args.has("--quick");
/** Debian's Python, where python3-apscheduler installs (not a pyenv Python that may be first on PATH). */
const PYTHON = "/usr/bin/python3";
const JS_SYSTEMS = ["tradecron", "croner", "node-cron", "toad-scheduler"];
const PEERS = ["croner", "node-cron", "toad-scheduler", "apscheduler"];
const ALL = ["tradecron", ...PEERS];

/** Lateness windows: fires due in them are counted (one schedule firing every second: 4 fires). */
const WINDOW_N1_MS = quick ? 3000 : 4000;
const WINDOW_MS = quick ? 2000 : 3000;
const ARM_STEPS = quick ? [10_000] : [10_000, 100_000];
const BURST_N = 10_000;
const DISPATCH_N = quick ? 20_000 : 100_000;
/** Arming stops after this long (the rest is projected at the rate so far), so one slow system cannot hold the run. */
const ARM_BUDGET_MS = quick ? 10_000 : 30_000;

const started = Date.now();
const log = (msg) =>
  process.stderr.write(`[scheduler bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);

// ------------------------------------------------------------------------------------------------
// running one measurement

function apschedulerStatus() {
  if (!existsSync(PYTHON)) return { ok: false, reason: `${PYTHON} not found` };
  const res = spawnSync(
    PYTHON,
    ["-c", "import apscheduler,sys;print(apscheduler.__version__, sys.version.split()[0])"],
    {
      encoding: "utf8",
    },
  );
  if (res.status !== 0) {
    return { ok: false, reason: "python3-apscheduler not installed: apt-get install -y python3-apscheduler" };
  }
  const [version, python] = res.stdout.trim().split(" ");
  if (!version.startsWith("3.")) return { ok: false, reason: `APScheduler ${version} found, 3.x needed` };
  return { ok: true, version, python };
}
const aps = apschedulerStatus();

/** Runs one figure of one system in a fresh process; returns its JSON result or { error }. */
function measure(system, figure, params) {
  if (system === "apscheduler" && !aps.ok) return { error: `n/a (${aps.reason})` };
  const json = JSON.stringify(params);
  const [cmd, argv] =
    system === "apscheduler"
      ? [PYTHON, [join(dir, "scheduler_apscheduler.py"), figure, json]]
      : [process.execPath, ["--expose-gc", join(dir, "scheduler-worker.mjs"), system, figure, json]];
  log(`${system} ${figure} ${json}`);
  const res = spawnSync(cmd, argv, { cwd: dir, encoding: "utf8", timeout: 240_000, maxBuffer: 1 << 24 });
  const line = res.stdout?.trim().split("\n").pop() ?? "";
  if (res.status === 0 && line.startsWith("{")) return JSON.parse(line);
  const lines = res.stderr?.trim().split("\n").filter(Boolean) ?? [];
  const why =
    res.error?.message ?? lines.findLast((l) => /error/i.test(l)) ?? lines.at(-1) ?? `exit ${res.status}`;
  return { error: `failed: ${why.replace(/^error: /, "").slice(0, 160)}`, status: res.status };
}

/** A burst needs every schedule armed before its instant; the worker sizes the lead and says when it fell short. */
function measureBurst(system, n) {
  let lead = 3000;
  for (let tries = 0; tries < 2; tries++) {
    const r = measure(system, "burst", { n, leadMs: lead });
    const m = /arming took (\d+) ms/.exec(r.error ?? "");
    if (!m) return r;
    lead = Math.ceil(Number(m[1]) * 1.5 + 2000);
  }
  return { error: "failed: arming never fitted the lead" };
}

// ------------------------------------------------------------------------------------------------
// the run

const results = { arm: {}, armBulk: null, armMemory: {}, lateness: [], burst: {}, dispatch: null };
const loadBefore = loadavg();

// 1. lateness
const latenessCases = [
  { n: 1, shape: "second", periodMs: 1000, windowMs: WINDOW_N1_MS, systems: ALL },
  { n: 1000, shape: "second", periodMs: 10_000, windowMs: WINDOW_MS, systems: ALL },
  { n: 10_000, shape: "second", periodMs: 10_000, windowMs: WINDOW_MS, systems: ALL },
  {
    n: 1000,
    shape: "spread",
    periodMs: 10_000,
    windowMs: WINDOW_MS,
    systems: ["tradecron", "toad-scheduler", "apscheduler"],
  },
  {
    n: 10_000,
    shape: "spread",
    periodMs: 10_000,
    windowMs: WINDOW_MS,
    systems: ["tradecron", "toad-scheduler", "apscheduler"],
  },
];
for (const { systems, ...params } of latenessCases) {
  const row = { ...params, by: {} };
  for (const system of ALL) {
    row.by[system] = systems.includes(system)
      ? measure(system, "lateness", params)
      : { error: "n/a (cron only: no sub-second phase)" };
  }
  results.lateness.push(row);
}

// 2. burst, then tradecron's dispatch throughput
for (const system of ALL) results.burst[system] = measureBurst(system, BURST_N);
results.dispatch = measureBurst("tradecron", DISPATCH_N);

// 3. heap and time to arm
for (const system of JS_SYSTEMS) {
  results.arm[system] = measure(system, "arm", { steps: ARM_STEPS, budgetMs: ARM_BUDGET_MS });
}
// tradecron's bulk path: each step armed with one createSchedules call.
results.armBulk = measure("tradecron", "arm", { steps: ARM_STEPS, budgetMs: ARM_BUDGET_MS, bulk: true });
results.arm.apscheduler = measure("apscheduler", "arm", {
  steps: ARM_STEPS,
  memory: "rss",
  budgetMs: ARM_BUDGET_MS,
});
results.armMemory.apscheduler = measure("apscheduler", "arm", { steps: [10_000], memory: "tracemalloc" });
const loadAfter = loadavg();

// ------------------------------------------------------------------------------------------------
// tables

const fmt = (x, digits = 2) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(digits));
const int = (x) =>
  x === null || x === undefined || Number.isNaN(x) ? "-" : Math.round(x).toLocaleString("en-US");
/** "x better": how many times tradecron beats the peer (peer / tradecron for lower-is-better figures). */
const better = (tradecron, peer, higherIsBetter = false) => {
  if (!(tradecron > 0) || !(peer > 0)) return "-";
  const r = higherIsBetter ? tradecron / peer : peer / tradecron;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}x`;
};
const tableOf = (head, rows) =>
  [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? "---" : "--:")).join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
const stepOf = (r, n) => r?.steps?.find((s) => s.n === n);
/** Time to arm a step: measured, or projected when the budget cut it short. */
const armTime = (step) => (step && !step.skipped ? (step.projectedArmMs ?? step.armMs) : null);
/** Bytes per schedule at 10,000 (APScheduler: from its tracemalloc run). */
const bytes10k = (system) =>
  stepOf(system === "apscheduler" ? results.armMemory.apscheduler : results.arm[system], 10_000)
    ?.bytesPerSchedule;

function cpuModel() {
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"));
    return m ? m[1].trim() : (cpus()[0]?.model ?? "unknown");
  } catch {
    return cpus()[0]?.model ?? "unknown";
  }
}

const out = [];
const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
out.push(
  `Machine: ${cpuModel()}, ${cpus().length} cores; Node ${process.version}; ` +
    `${aps.ok ? `APScheduler ${aps.version} (Python ${aps.python})` : `APScheduler: ${aps.reason}`}; ` +
    `croner 11.0.1, node-cron 4.6.0, toad-scheduler 4.1.0; ${date}; load average ${loadBefore[0].toFixed(2)} ` +
    `before, ${loadAfter[0].toFixed(2)} after; ${((Date.now() - started) / 1000).toFixed(0)} s` +
    `${quick ? "; QUICK RUN (smoke test, not for publishing)" : ""}.`,
  "",
  "Command: `node --expose-gc bench/scheduler.bench.mjs` from the repository root, after building " +
    "`packages/core` (`npm run bench` runs it with the other benchmarks).",
  "",
  "Method: every measurement is a fresh child process (`bench/scheduler-worker.mjs` for the " +
    "JavaScript schedulers, `bench/scheduler_apscheduler.py` on Debian's `/usr/bin/python3` for " +
    "APScheduler), run one after another. Each system is used through its public API with its " +
    "defaults (tradecron: `new Scheduler({ storage: new MemoryStorage() })`, `createSchedule`, " +
    "`start`; APScheduler: `BackgroundScheduler` with its thread pool, `misfire_grace_time=None`; " +
    "node-cron: `missedExecutionTolerance` 30 s like tradecron's default, so every system runs every " +
    "fire). Lateness is taken inside the handler: its start time (performance.now() aligned on " +
    "Date.now(), sub-millisecond) minus the instant the fire was due (tradecron: " +
    "`ctx.fire.scheduledAt`; peers: the point of the schedule's lattice the fire belongs to). " +
    "Timing figures are wall-clock and move with the machine's load (load average above).",
);

// Lateness
out.push("", "### Firing lateness (ms: handler start minus due instant; lower is better)", "");
{
  const rows = [];
  for (const c of results.lateness) {
    const t = c.by.tradecron;
    const label =
      c.n === 1 ? "1 (every 1 s)" : `${int(c.n)} (${c.shape === "second" ? "whole seconds" : "spread"})`;
    for (const system of ALL) {
      const r = c.by[system];
      if (r.error) {
        rows.push([label, system, r.error, "", "", "", ""]);
        continue;
      }
      rows.push([
        label,
        system,
        `${int(r.fires)}/${int(r.expected)}`,
        fmt(r.p50),
        fmt(r.p99),
        fmt(r.max),
        system === "tradecron" ? "" : better(t.p99, r.p99),
      ]);
    }
  }
  out.push(tableOf(["armed", "system", "fires", "p50", "p99", "max", "tradecron x better (p99)"], rows));
  out.push(
    "",
    "*every 1 s*: one schedule firing every second (cron `* * * * * *`). " +
      "*whole seconds*: each schedule fires every 10 s at second (i mod 10) of the period " +
      "(cron `o,o+10,...,o+50 * * * * *`), so n/10 fires are due together at every whole second and " +
      "their lateness includes dispatching the whole group. *spread*: each schedule every 10 s at its own " +
      "phase i x 10 s / n (tradecron `{ every: 10000, anchor }`, APScheduler `IntervalTrigger(start_date)`), " +
      "so fires come one at a time; croner and node-cron cannot express a sub-second phase. " +
      "toad-scheduler has no start time and no cron of its own (its `CronJob` is croner): each " +
      "`SimpleIntervalJob` is added at its phase and measured against its own interval (setInterval " +
      `drift included). Counted: fires due in a ${WINDOW_MS / 1000} s window (${WINDOW_N1_MS / 1000} s ` +
      "for one schedule) that starts about a second after arming; fires = counted / expected.",
  );
}

// Burst
out.push(
  "",
  `### ${int(BURST_N)} schedules due at the same instant (ms after the instant; lower is better)`,
  "",
);
{
  const t = results.burst.tradecron;
  const rows = ALL.map((system) => {
    const r = results.burst[system];
    if (r.error) return [system, r.error, "", "", ""];
    return [
      system,
      `${fmt(r.lastMs, 1)}${r.complete ? "" : ` (only ${int(r.fires)} fired)`}`,
      fmt(r.firstMs, 1),
      int(r.firesPerSec),
      system === "tradecron" ? "" : better(t.lastMs, r.lastMs),
    ];
  });
  out.push(tableOf(["system", "all started", "first started", "fires/s", "tradecron x better"], rows));
  out.push(
    "",
    "One-off schedules due at one whole second T: tradecron `{ at: T }`, croner `new Cron(date)`, " +
      "APScheduler `DateTrigger`; node-cron has no one-off trigger, so each task is the cron second of T; " +
      "toad-scheduler has neither, so each is a `SimpleIntervalJob` whose first run is T, all added in one " +
      `tick. fires/s = ${int(BURST_N)} / (last start - T).`,
  );
  const d = results.dispatch;
  out.push(
    "",
    `### tradecron dispatch throughput on MemoryStorage (${int(DISPATCH_N)} one-off schedules due at once)`,
    "",
  );
  out.push(
    d.error
      ? d.error
      : tableOf(
          ["schedules", "all started (ms)", "first started (ms)", "fires/s", "target"],
          [[int(d.n), fmt(d.lastMs, 1), fmt(d.firstMs, 1), int(d.firesPerSec), ">= 200,000 fires/s"]],
        ),
  );
}

// Heap and arming
out.push("", "### Heap per armed schedule and time to arm (lower is better)", "");
{
  const big = ARM_STEPS.at(-1);
  const tBig = stepOf(results.arm.tradecron, big);
  const armRows = ["tradecron", "tradecron (createSchedules)", ...PEERS];
  const rows = armRows.map((label) => {
    const bulkRow = label === "tradecron (createSchedules)";
    const system = bulkRow ? "tradecron" : label;
    const r = bulkRow ? results.armBulk : results.arm[system];
    if (r.error) return [label, r.error, "", "", "", "", ""];
    const sBig = stepOf(r, big);
    const aps = system === "apscheduler";
    let bigHeap = "-";
    let bigTime = "-";
    let perUs = "-";
    if (sBig?.skipped) {
      bigHeap = `n/a (${sBig.skipped})`;
      bigTime = perUs = "n/a";
    } else if (sBig) {
      bigHeap = `${int(sBig.bytesPerSchedule)}${aps ? " †" : ""}`;
      const cut = sBig.armed < sBig.n;
      bigTime = cut
        ? `~${fmt(sBig.projectedArmMs / 1000, 1)} (${int(sBig.armed)} in ${fmt(sBig.armMs / 1000, 1)})`
        : fmt(sBig.armMs / 1000, 2);
      perUs = `${cut ? "~" : ""}${fmt((1000 * armTime(sBig)) / sBig.n, 1)}`;
    }
    const heap10k = bulkRow ? stepOf(r, 10_000)?.bytesPerSchedule : bytes10k(system);
    return [
      label,
      `${int(heap10k)}${aps ? " ‡" : ""}`,
      bigHeap,
      bigTime,
      perUs,
      system === "tradecron" ? "" : better(bytes10k("tradecron"), bytes10k(system)),
      system === "tradecron" ? "" : better(armTime(tBig), armTime(sBig)),
    ];
  });
  out.push(
    tableOf(
      [
        "system",
        "bytes/schedule (10,000)",
        `bytes/schedule (${int(big)})`,
        `arm ${int(big)} (s)`,
        "us/schedule",
        "tradecron x better (heap)",
        `tradecron x better (arm ${int(big)})`,
      ],
      rows,
    ),
  );
  out.push(
    "",
    "Daily cron schedules at distinct times from an hour ahead (`s m h * * *`; toad-scheduler: " +
      "`SimpleIntervalJob`s of distinct 1-21 h periods), armed one by one through each public API on a " +
      "running scheduler (tradecron: `await createSchedule(...)`, which validates, stores in MemoryStorage " +
      "and appends an audit entry). *tradecron (createSchedules)*: the same schedules through the bulk " +
      "path, one `await createSchedules([...])` per step (10,000, then the next 90,000), which validates " +
      "the batch in one pass, stores it in one write, re-arms the timer once and appends one audit entry " +
      "per 500 schedules; its time includes building the list of inputs. JS: `process.memoryUsage().heapUsed` after forced GC, minus the empty " +
      "scheduler's. ‡ APScheduler at 10,000: tracemalloc (Python allocations; a separate run, since tracing " +
      "slows arming). † APScheduler at the larger step: resident-set growth of the timing run. " +
      `Arming stops after ${ARM_BUDGET_MS / 1000} s and the rest is projected at the rate so far (~); a step ` +
      "whose heap, projected from the previous step, exceeds 80% of Node's heap limit is not run.",
  );
}

// Targets
out.push("", "### Targets", "");
{
  const rows = [];
  // Issue 10's targets: p99 at most toad-scheduler's in both shapes (and at most 1 ms spread),
  // 200,000 fires/s for 100,000 due at once, a 10,000 burst all started no later than croner.
  for (const c of results.lateness.filter((x) => x.n === 10_000)) {
    const t = c.by.tradecron;
    const toad = c.by["toad-scheduler"];
    const spread = c.shape === "spread";
    const peers = PEERS.map((p) => c.by[p]).filter((r) => !r.error);
    const met = !toad?.error && t.p99 <= toad?.p99 && (!spread || t.p99 <= 1);
    rows.push([
      `p99 lateness at 10,000 armed (${spread ? "spread" : "whole seconds"}) <= toad-scheduler's${spread ? " and <= 1 ms" : ""}`,
      `${fmt(t.p99)} ms (toad-scheduler ${toad?.error ? "n/a" : `${fmt(toad?.p99)} ms`})`,
      met ? "yes" : "NO",
      peers.every((r) => t.p99 <= r.p99) ? "yes" : "NO",
    ]);
  }
  const d = results.dispatch;
  rows.push([
    `>= 200,000 fires/s dispatch on MemoryStorage (${int(DISPATCH_N)} due at once)`,
    `${int(d.firesPerSec)} fires/s`,
    d.firesPerSec >= 200_000 ? "yes" : "NO",
    "",
  ]);
  const b = results.burst;
  const burstPeers = PEERS.map((p) => b[p]).filter((r) => !r.error);
  rows.push([
    `${int(BURST_N)} due at once: all started no later than croner`,
    `${fmt(b.tradecron.lastMs, 1)} ms (croner ${b.croner?.error ? "n/a" : `${fmt(b.croner?.lastMs, 1)} ms`})`,
    !b.croner?.error && b.tradecron.lastMs <= b.croner?.lastMs ? "yes" : "NO",
    burstPeers.every((r) => b.tradecron.lastMs <= r.lastMs) ? "yes" : "NO",
  ]);
  for (const s of results.arm.tradecron?.steps ?? []) {
    const peerBytes = PEERS.map((p) =>
      s.n === 10_000 ? bytes10k(p) : stepOf(results.arm[p], s.n)?.bytesPerSchedule,
    );
    rows.push([
      `<= 1 KB heap per armed schedule (${int(s.n)})`,
      `${int(s.bytesPerSchedule)} B`,
      s.bytesPerSchedule <= 1024 ? "yes" : "NO",
      peerBytes.filter((x) => x > 0).every((x) => s.bytesPerSchedule <= x) ? "yes" : "NO",
    ]);
  }
  const big = ARM_STEPS.at(-1);
  const toad = results.arm["toad-scheduler"];
  for (const s of results.armBulk?.steps ?? []) {
    const theirs = stepOf(toad, s.n)?.bytesPerSchedule;
    rows.push([
      `heap per armed schedule at most toad-scheduler's, bulk path (${int(s.n)})`,
      `${int(s.bytesPerSchedule)} B (toad-scheduler ${int(theirs)} B)`,
      theirs > 0 && s.bytesPerSchedule <= theirs ? "yes" : "NO",
      "",
    ]);
  }
  const bulkBig = armTime(stepOf(results.armBulk, big));
  const toadBig = armTime(stepOf(toad, big));
  rows.push([
    `arm ${int(big)} via createSchedules no slower than toad-scheduler`,
    `${fmt(bulkBig / 1000)} s (toad-scheduler ${fmt(toadBig / 1000)} s, x${fmt(bulkBig / toadBig)})`,
    bulkBig > 0 && toadBig > 0 && bulkBig <= toadBig ? "yes" : "NO",
    "",
  ]);
  const mine = armTime(stepOf(results.arm.tradecron, big));
  const theirs = PEERS.map((p) => armTime(stepOf(results.arm[p], big))).filter((x) => x > 0);
  rows.push([
    `time to arm ${int(big)}`,
    `${fmt(mine / 1000)} s`,
    "",
    theirs.every((x) => mine <= x) ? "yes" : "NO",
  ]);
  out.push(tableOf(["target", "tradecron", "met", "ahead of every peer"], rows));
}

const markdown = `${out.join("\n")}\n`;
process.stdout.write(`\n${markdown}`);
// A --quick run writes its own file: the committed results are those of a full run.
const resultsFile = quick ? "scheduler-quick.md" : "scheduler.md";
mkdirSync(join(dir, "results"), { recursive: true });
writeFileSync(
  join(dir, "results", resultsFile),
  `# Scheduler benchmark\n\n${markdown}\n<details><summary>Raw results</summary>\n\n\`\`\`json\n${JSON.stringify(results, null, 1)}\n\`\`\`\n</details>\n`,
);
log(`wrote bench/results/${resultsFile}`);

if (args.has("--update-readme")) {
  const readme = join(dir, "README.md");
  const begin = "<!-- scheduler:begin (generated by scheduler.bench.mjs --update-readme) -->";
  const end = "<!-- scheduler:end -->";
  const current = existsSync(readme) ? readFileSync(readme, "utf8") : "# Benchmarks\n";
  const i = current.indexOf(begin);
  const j = current.indexOf(end);
  const section = `${begin}\n${markdown}${end}`;
  const next =
    i >= 0 && j > i
      ? current.slice(0, i) + section + current.slice(j + end.length)
      : `${current.trimEnd()}\n\n## Scheduler\n\n${section}\n`;
  writeFileSync(readme, next);
  log("updated the Scheduler section of bench/README.md");
}
