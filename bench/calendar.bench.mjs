// Market calendar speed: sessionsBetween over 100 years and 1,000,000 isOpen checks at random
// instants across 1990-2100, on XNYS and XLON. Target: isOpen <= 1 us amortised.
//
// Uses the built package (`cd packages/core && npx tsup`). Until the package entry re-exports the
// calendar module, it bundles packages/core/src/calendar with the workspace's esbuild instead.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

async function loadCalendarModule() {
  const core = await import("@tradecron/core").catch(() => ({}));
  if (typeof core.getCalendar === "function" && typeof core.createCalendar === "function") {
    return { api: core, from: "@tradecron/core (dist)" };
  }
  const out = join(mkdtempSync(join(tmpdir(), "tradecron-calendar-bench-")), "calendar.mjs");
  const res = spawnSync(
    join(root, "node_modules/.bin/esbuild"),
    [
      join(root, "packages/core/src/calendar/index.ts"),
      "--bundle",
      "--platform=node",
      "--format=esm",
      "--target=node22",
      `--outfile=${out}`,
      "--log-level=error",
    ],
    { stdio: "inherit" },
  );
  if (res.status !== 0) throw new Error("could not bundle packages/core/src/calendar for the benchmark");
  return { api: await import(pathToFileURL(out).href), from: "packages/core/src/calendar (esbuild bundle)" };
}

/** Deterministic PRNG (mulberry32), so every run checks the same instants. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (n) => `${n.toFixed(1)} ms`;

const { api, from } = await loadCalendarModule();
const { createCalendar, XNYS_DEFINITION, XLON_DEFINITION } = api;

const N = 1_000_000;
const next = random(20260101);
const lo = Date.UTC(1990, 0, 2);
const hi = Date.UTC(2100, 11, 30);
const instants = new Float64Array(N);
for (let i = 0; i < N; i++) instants[i] = lo + next() * (hi - lo);

const rows = [];
for (const definition of [XNYS_DEFINITION, XLON_DEFINITION]) {
  // sessionsBetween over 1990-2100 (111 years; the first call builds every year).
  let cal = createCalendar(definition);
  let t0 = performance.now();
  const sessions = cal.sessionsBetween("1990-01-01", "2100-12-31").length;
  const cold = performance.now() - t0;
  const warmRuns = [];
  for (let r = 0; r < 10; r++) {
    t0 = performance.now();
    cal.sessionsBetween("2000-01-01", "2099-12-31");
    warmRuns.push(performance.now() - t0);
  }
  rows.push([
    definition.code,
    "sessionsBetween 1990-2100, cold (builds every year, empty zone cache)",
    ms(cold),
    `${sessions} sessions`,
  ]);
  rows.push([
    definition.code,
    "sessionsBetween 2000-2099 (100 years), cached, median of 10",
    ms(median(warmRuns)),
    "",
  ]);

  // 1,000,000 isOpen checks on a fresh calendar: the first pass includes building all years (the
  // zone-offset cache of time/zone.ts is process-wide, so it is warm by now).
  cal = createCalendar(definition);
  let open = 0;
  t0 = performance.now();
  for (let i = 0; i < N; i++) if (cal.isOpen(instants[i])) open++;
  const first = performance.now() - t0;
  const passes = [];
  for (let r = 0; r < 5; r++) {
    t0 = performance.now();
    for (let i = 0; i < N; i++) if (cal.isOpen(instants[i])) open++;
    passes.push(performance.now() - t0);
  }
  const share = `${((open / (6 * N)) * 100).toFixed(1)}% open`;
  rows.push([
    definition.code,
    "isOpen x 1,000,000, fresh calendar (builds 111 years; zone cache warm)",
    `${((first * 1e6) / N).toFixed(0)} ns/op`,
    share,
  ]);
  rows.push([
    definition.code,
    "isOpen x 1,000,000, warm, median of 5 passes",
    `${((median(passes) * 1e6) / N).toFixed(0)} ns/op`,
    "",
  ]);
}

const widths = [0, 1, 2, 3].map((c) =>
  Math.max(...rows.map((r) => r[c].length), ["calendar", "measure", "time", "note"][c].length),
);
const line = (cells) => cells.map((cell, c) => cell.padEnd(widths[c])).join("  ");
console.log(`calendar benchmark (${from}, Node ${process.version})`);
console.log(line(["calendar", "measure", "time", "note"]));
console.log(line(widths.map((w) => "-".repeat(w))));
for (const row of rows) console.log(line(row));
console.log("target: isOpen <= 1000 ns/op amortised");
