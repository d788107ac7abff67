// Does pruning a million executions move fire lateness? For each storage: seed N old executions
// (older than the policy's 30 days), then run a steady firing load twice on the same store:
// once with retention off, once while a retention pass prunes the whole backlog, and compare
// the lateness of the fires (handler start minus due instant).
//
//   node --expose-gc bench/retention.bench.mjs [--rows 1000000] [--file-rows 20000] [--seconds 10]
//                                  [--only memory,sqlite,postgres,file] [--recent 0] [--seed-apart]
//
// --seed-apart (file): seed the store in a child process first, so the measuring process starts
// on a store written earlier (as after an upgrade) instead of with the heap the seeding grew.
//
// --recent N (memory and file): also seed N executions of the same schedule from the last 29
// days, which the policy keeps. With a small backlog and a large recent history this is the
// steady state of an hourly pass: the store holds a month of history and the pass deletes the
// hour that aged out (`--only file --file-rows 5000 --recent 200000`).
//
// Needs the built packages (`pnpm run build`); PostgreSQL at TRADECRON_BENCH_PG (default
// postgres://postgres@127.0.0.1:5432/test), in a fresh schema dropped afterwards.
//
// The load: 50 schedules `every: "1s"`, their anchors spread over the second (50 fires/s), each
// handler returning at once. Retention: the defaults (`executions: { maxAge: "30d", keepLast:
// 100 }`, batches of at most 500 paced to 2 ms of event loop and a 0.2 duty cycle), the pass
// started with `scheduler.prune()` after a 2 s warm-up. The load goes on 5 s after the pass, so
// what the pass leaves behind (FileStorage's merges and compactions) is measured too.
//
// Besides lateness it reports what explains it: the prune calls (count, p99 wall time), the
// event-loop delay (perf_hooks.monitorEventLoopDelay, p99) and the longest GC pause
// (PerformanceObserver 'gc') while the load was measured. TRADECRON_BENCH_TRACE=<file> also
// writes every fire later than 10 ms, GC pause and prune call longer than 5 ms, by time (the
// thresholds: TRADECRON_BENCH_TRACE_LATE, _GC and _BATCH, in ms).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { MemoryStorage, Scheduler } from "@tradecron/core";
import { FileStorage } from "@tradecron/storage-fs";
import { PostgresStorage, SqliteStorage } from "@tradecron/storage-sql";
import Database from "better-sqlite3";
import pg from "pg";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    "file-rows": { type: "string", default: "20000" },
    seconds: { type: "string", default: "10" },
    only: { type: "string", default: "memory,sqlite,postgres,file" },
    recent: { type: "string", default: "0" },
    "seed-apart": { type: "boolean", default: false },
    "seed-into": { type: "string" },
  },
});
const ROWS = Number(args.rows);
const FILE_ROWS = Number(args["file-rows"]);
const SECONDS = Number(args.seconds);
const RECENT = Number(args.recent);
const PG_URL = process.env.TRADECRON_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const DAY = 86_400_000;
const LOAD = 50;
/** With TRADECRON_BENCH_TRACE=<file>: late fires, long GCs and long prune calls, by time, into that file. */
const TRACE = process.env.TRADECRON_BENCH_TRACE ? [] : null;

const now = Date.now();
/** The i-th seeded execution: succeeded, 60 days old and more, of the schedule `history`. */
function seedRow(i) {
  const at = now - 60 * DAY - (ROWS - i) * 30_000;
  return {
    id: `h-${i}`,
    scheduleId: "history",
    job: "job-a",
    scheduledAt: at,
    kind: "scheduled",
    status: "succeeded",
    reason: null,
    attempts: 1,
    claimedAt: at,
    startedAt: at,
    endedAt: at + 20,
    instanceId: "seed",
    leaseExpiresAt: null,
    actor: null,
    error: null,
    result: { ok: true },
    details: null,
    idempotencyKey: `history@${at}`,
  };
}

/** The j-th recent execution (of RECENT): within the last 29 days, so the policy keeps it. */
function recentRow(j) {
  const at = now - 29 * DAY + Math.floor((j * 28 * DAY) / Math.max(1, RECENT));
  const row = { ...seedRow(0), id: `r-${j}`, scheduledAt: at, claimedAt: at, startedAt: at };
  return { ...row, endedAt: at + 20, idempotencyKey: `history@${at}` };
}

/** Seeds FILE_ROWS old and RECENT recent executions into an open FileStorage. */
async function seedFile(storage) {
  const batch = [];
  for (let i = ROWS - FILE_ROWS; i < ROWS; i++) {
    batch.push(storage.claimFire({ execution: seedRow(i) }));
    if (batch.length >= 1000) await Promise.all(batch.splice(0));
  }
  for (let j = 0; j < RECENT; j++) {
    batch.push(storage.claimFire({ execution: recentRow(j) }));
    if (batch.length >= 1000) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
}

if (args["seed-into"]) {
  const storage = new FileStorage({ dir: args["seed-into"] });
  await storage.open();
  await seedFile(storage);
  await storage.close();
  process.exit(0);
}

/** The load goes on this long after a pass has ended (s). */
const AFTER_PASS_S = 5;

const pct = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN;
const fmt = (n) => (Number.isFinite(n) ? n.toFixed(2) : "n/a");

const PRUNE_METHODS = ["pruneExecutions", "pruneApprovals", "pruneOrders", "pruneAudit"];

/**
 * Times every prune call on `storage` (wall time from call to settle) into `into`; returns the
 * function that puts the original methods back.
 */
function timePrunes(storage, into) {
  const saved = PRUNE_METHODS.map((m) => [m, storage[m]]);
  for (const [m, fn] of saved) {
    if (typeof fn !== "function") continue;
    storage[m] = async (...a) => {
      const t = performance.now();
      try {
        return await fn.apply(storage, a);
      } finally {
        const d = performance.now() - t;
        into.push(d);
        if (TRACE && d > (Number(process.env.TRADECRON_BENCH_TRACE_BATCH) || 5))
          TRACE.push(["batch", Math.round(t), Math.round(d)]);
      }
    };
  }
  return () => {
    for (const [m, fn] of saved) storage[m] = fn;
  };
}

/** Runs the load on `storage` for `seconds` (and until `during` resolves); returns lateness stats. */
async function runLoad(storage, retention, during) {
  const lateness = [];
  const batches = [];
  const gcs = [];
  const scheduler = new Scheduler({ storage, retention, instanceId: "bench" });
  const trace = [];
  scheduler.register("tick", (ctx) => {
    const late = performance.timeOrigin + performance.now() - ctx.fire.scheduledAt;
    lateness.push(late);
    if (TRACE && late > (Number(process.env.TRADECRON_BENCH_TRACE_LATE) || 10))
      trace.push(["late", Math.round(performance.now()), Math.round(late)]);
  });
  const base = Math.ceil(Date.now() / 1000) * 1000;
  for (let i = 0; i < LOAD; i++) {
    const id = `load-${i}`;
    if (await storage.getSchedule(id)) await scheduler.removeSchedule(id);
    await scheduler.createSchedule({ id, job: "tick", trigger: { every: "1s", anchor: base + i * 20 } });
  }
  await scheduler.start();
  await new Promise((r) => setTimeout(r, 2000));
  lateness.length = 0;
  // What the event loop, the collector and the prune calls did while the load was measured.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcs.push(entry.duration);
      if (TRACE && entry.duration > (Number(process.env.TRADECRON_BENCH_TRACE_GC) || 5))
        trace.push(["gc", Math.round(entry.startTime), Math.round(entry.duration), entry.detail?.kind]);
    }
  });
  gc.observe({ entryTypes: ["gc"] });
  const untime = timePrunes(storage, batches);
  loop.enable();
  const t0 = Date.now();
  let pruned = null;
  let pruneMs = null;
  const work = during?.(scheduler).then((result) => {
    pruned = result;
    pruneMs = Date.now() - t0;
  });
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  await work;
  // What a pass leaves behind is measured too: FileStorage compacts 2 s after the last batch.
  if (during) await new Promise((r) => setTimeout(r, AFTER_PASS_S * 1000));
  const ms = Date.now() - t0;
  loop.disable();
  gc.disconnect();
  untime();
  await scheduler.stop();
  if (TRACE) TRACE.push(...trace);
  const sorted = [...lateness].sort((a, b) => a - b);
  const batchSorted = [...batches].sort((a, b) => a - b);
  return {
    loopP99: loop.percentile(99) / 1e6,
    loopMax: loop.max / 1e6,
    batches: batches.length,
    batchP99: pct(batchSorted, 0.99),
    batchMs: batches.reduce((a, b) => a + b, 0),
    gcMax: gcs.length ? Math.max(...gcs) : 0,
    gcMs: gcs.reduce((a, b) => a + b, 0),
    fires: sorted.length,
    ms,
    p50: pct(sorted, 0.5),
    p99: pct(sorted, 0.99),
    max: sorted.at(-1),
    pruned,
    pruneMs,
  };
}

async function measure(name, rows, make, seed) {
  const made = await make();
  const { storage, cleanup } = made;
  try {
    const t = Date.now();
    await seed(storage);
    // A store seeded by another process (--seed-apart) says how long that took.
    const seedMs = made.seedMs ?? Date.now() - t;
    // Each run starts from a collected heap (with --expose-gc), so the off run does not pay for
    // the seeding's garbage and the pruning run only for its own.
    globalThis.gc?.();
    const off = await runLoad(storage, false);
    globalThis.gc?.();
    const on = await runLoad(storage, { executions: { maxAge: "30d", keepLast: 100 } }, (s) => s.prune());
    const left = (await storage.listExecutions({ scheduleId: "history", limit: 1000 })).items.length;
    return { name, rows, seedMs, off, on, left };
  } finally {
    await cleanup();
  }
}

const results = [];
const only = new Set(args.only.split(","));

if (only.has("memory")) {
  results.push(
    await measure(
      "memory",
      ROWS,
      async () => ({ storage: new MemoryStorage({ maxExecutions: ROWS * 2 }), cleanup: async () => {} }),
      async (storage) => {
        for (let i = 0; i < ROWS; i++) await storage.claimFire({ execution: seedRow(i) });
        for (let j = 0; j < RECENT; j++) await storage.claimFire({ execution: recentRow(j) });
      },
    ),
  );
}

const EXEC_COLUMNS = [
  "id",
  "schedule_id",
  "job",
  "scheduled_at",
  "kind",
  "status",
  "reason",
  "attempts",
  "claimed_at",
  "started_at",
  "ended_at",
  "instance_id",
  "lease_expires_at",
  "actor",
  "error",
  "result",
  "details",
  "idempotency_key",
];

if (only.has("sqlite")) {
  const dir = mkdtempSync(join(tmpdir(), "tc-retention-bench-"));
  const path = join(dir, "bench.db");
  results.push(
    await measure(
      "sqlite",
      ROWS,
      async () => {
        // Seeded through a side connection in one transaction (the storage's claims would take
        // minutes for a million rows), then opened by the storage.
        const s = new SqliteStorage({ path });
        await s.open();
        await s.close();
        const db = new Database(path);
        const insert = db.prepare(
          `INSERT INTO executions (${EXEC_COLUMNS.join(", ")}) VALUES (${EXEC_COLUMNS.map(() => "?").join(", ")})`,
        );
        db.transaction(() => {
          for (let i = 0; i < ROWS; i++) {
            const r = seedRow(i);
            insert.run(
              r.id,
              r.scheduleId,
              r.job,
              r.scheduledAt,
              r.kind,
              r.status,
              null,
              1,
              r.claimedAt,
              r.startedAt,
              r.endedAt,
              r.instanceId,
              null,
              null,
              null,
              JSON.stringify(r.result),
              null,
              r.idempotencyKey,
            );
          }
        })();
        db.close();
        const storage = new SqliteStorage({ path });
        await storage.open();
        return {
          storage,
          cleanup: async () => {
            await storage.close();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
      async () => {},
    ),
  );
}

if (only.has("postgres")) {
  const schema = `retention_bench_${process.pid}`;
  const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
  try {
    results.push(
      await measure(
        "postgres",
        ROWS,
        async () => {
          const storage = new PostgresStorage({ connectionString: PG_URL, schema });
          await storage.open();
          const t = `"${schema}".executions`;
          await admin.query(
            `INSERT INTO ${t} (${EXEC_COLUMNS.join(", ")})
             SELECT 'h-' || i, 'history', 'job-a', $1::bigint - ($2::bigint - i) * 30000, 'scheduled', 'succeeded', NULL, 1,
               $1::bigint - ($2::bigint - i) * 30000, $1::bigint - ($2::bigint - i) * 30000,
               $1::bigint - ($2::bigint - i) * 30000 + 20, 'seed', NULL, NULL, NULL, '{"ok":true}'::jsonb, NULL,
               'history@' || i
             FROM generate_series(0, $2::bigint - 1) AS i`,
            [now - 60 * DAY, ROWS],
          );
          // A real backlog of a million rows is old: autovacuum has long processed its inserts.
          // Vacuumed here so the measurement does not include the insert-triggered autovacuum
          // of the freshly seeded table (which otherwise runs, on 2 cores, during the prune).
          await admin.query(`VACUUM ANALYZE ${t}`);
          return {
            storage,
            cleanup: async () => {
              await storage.close();
              await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
            },
          };
        },
        async () => {},
      ),
    );
  } catch (error) {
    results.push({ name: "postgres", error: String(error) });
  } finally {
    await admin.end();
  }
}

if (only.has("file")) {
  const dir = mkdtempSync(join(tmpdir(), "tc-retention-bench-fs-"));
  results.push(
    await measure(
      "file",
      FILE_ROWS,
      async () => {
        let seedMs;
        if (args["seed-apart"]) {
          // Seeded by a process of its own, as a real backlog is written before the process
          // that prunes it starts: this one's heap has not grown with the seeding.
          const t = Date.now();
          const { execFileSync } = await import("node:child_process");
          execFileSync(
            process.execPath,
            [
              fileURLToPath(import.meta.url),
              "--seed-into",
              dir,
              "--rows",
              String(ROWS),
              "--file-rows",
              String(FILE_ROWS),
              "--recent",
              String(RECENT),
            ],
            { stdio: "inherit" },
          );
          seedMs = Date.now() - t;
        }
        const storage = new FileStorage({ dir });
        await storage.open();
        return {
          storage,
          seedMs,
          cleanup: async () => {
            await storage.close();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
      async (storage) => {
        if (!args["seed-apart"]) await seedFile(storage);
      },
    ),
  );
}

if (TRACE) {
  const { writeFileSync } = await import("node:fs");
  TRACE.sort((a, b) => a[1] - b[1]);
  writeFileSync(process.env.TRADECRON_BENCH_TRACE, TRACE.map((t) => t.join(" ")).join("\n"));
}
console.log(
  `Machine: ${process.arch}, Node ${process.version}; load ${LOAD} schedules every 1 s; ${SECONDS} s per run; ${new Date().toISOString()}\n`,
);
console.log(
  "| storage | executions seeded | retention | fires | p50 ms | p99 ms | max ms | pruned | prune time | batches | batch p99 ms | loop p99 ms | gc max ms |",
);
console.log("|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
for (const r of results) {
  if (r.error) {
    console.log(`| ${r.name} | n/a (${r.error}) | | | | | | | | | | | |`);
    continue;
  }
  const recent =
    RECENT && (r.name === "memory" || r.name === "file") ? ` + ${RECENT.toLocaleString("en-US")} recent` : "";
  const row = (label, x) =>
    `| ${r.name} | ${r.rows.toLocaleString("en-US")}${recent} | ${label} | ${x.fires} | ${fmt(x.p50)} | ${fmt(x.p99)} | ${fmt(x.max)} | ${x.pruned ? x.pruned.executions.toLocaleString("en-US") : ""} | ${x.pruneMs === null ? "" : `${(x.pruneMs / 1000).toFixed(1)} s`} | ${x.batches || ""} | ${x.batches ? fmt(x.batchP99) : ""} | ${fmt(x.loopP99)} | ${fmt(x.gcMax)} |`;
  console.log(row("off", r.off));
  console.log(row("pruning", r.on));
}
console.log("");
for (const r of results)
  if (!r.error)
    console.log(
      `${r.name}: seeded in ${(r.seedMs / 1000).toFixed(1)} s; ${r.left} executions of the pruned schedule left`,
    );
