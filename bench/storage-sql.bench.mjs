// tradecron on PostgreSQL side by side with pg-boss and graphile-worker, plus SQLite, in one run.
//
//   node bench/storage-sql.bench.mjs [--jobs 10000] [--only tradecron,pg-boss,graphile-worker,sqlite]
//                                    [--workers 1,3] [--warmup 0]
//
// Needs the built packages (`pnpm run build`) and PostgreSQL at TRADECRON_BENCH_PG (default
// postgres://postgres@127.0.0.1:5432/test). Each system runs in a fresh schema, dropped afterwards.
//
// The scenario, for every system with 1 and with 3 workers (each worker its own process):
// N one-off jobs, all due at the same instant T, are created before T; the workers start before
// T; we measure from T until the last job is completed in the database (jobs per second), and
// the delay from T to each handler's start (p50/p99). For tradecron a "job" is a schedule with
// `trigger: { at: T }`: every instance sees every fire and the database decides who runs it.
// SQLite: the same with one scheduler process on a file with synchronous=FULL (durable fires/s).
//
// TC_BENCH_PROF=<dir> writes a CPU profile of each worker from T on (sampled every
// TC_BENCH_PROF_US µs, 100 by default); TC_BENCH_CLAIMS=1 has each tradecron worker say how many
// fires of the measured burst it claimed as their preferred instance, claimed for another (stepped
// in), and found taken.
//
// --warmup W: the workers first run a burst of W jobs due a few seconds before T (its CPU and
// latencies are not counted), so T meets processes whose code is compiled and whose connections
// have their statements prepared, as in a cluster that has been running; without it every worker
// starts cold a moment before T, and the first thousands of fires also pay for compiling the
// fire path, in every process.
//
// Settings, chosen from each tool's documentation for throughput and latency:
// - pg-boss: batchSize 50, localConcurrency 2, pollingIntervalSeconds 0.5 (its minimum),
//   burstWhenBatchFull (fetch again at once while batches come back full).
// - graphile-worker: concurrency 10, pollInterval 500 ms (its default is 2000), localQueue of 50,
//   completeJobBatchDelay 0 (batched completion, as its performance guide suggests).
// - tradecron: defaults (the scheduler's own timer wakes at T; no polling).

import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const PG_URL = process.env.TRADECRON_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const self = fileURLToPath(import.meta.url);
const child = process.env.TC_BENCH_CHILD ? JSON.parse(process.env.TC_BENCH_CHILD) : null;

if (child) await runChild(child);
else await main();

// ----------------------------------------------------------------------------------------------
// workers (child processes)

async function runChild(cfg) {
  // The runner may be gone (it failed): then there is nobody to tell, and nothing to do but exit.
  const send = (msg) => (process.connected ? process.send?.(msg) : undefined);
  process.on("disconnect", () => process.exit(1));
  const latencies = [];
  let done = 0;
  let lastDoneAt = 0;
  // Jobs of the warm-up burst (due before T) are neither timed nor counted.
  const started = (due) => {
    if (due === cfg.dueAt) latencies.push(Date.now() - cfg.dueAt);
  };
  const finished = (due, n = 1) => {
    if (due !== cfg.dueAt) return;
    done += n;
    lastDoneAt = Date.now();
  };
  // CPU this worker spends from the due instant on (reported with the result).
  let cpuAtDue = null;
  // TC_BENCH_PROF=<dir>: also write a CPU profile of each worker from the due instant on.
  const profiler = process.env.TC_BENCH_PROF ? new (await import("node:inspector/promises")).Session() : null;
  profiler?.connect();
  await profiler?.post("Profiler.enable");
  // Sampled every 100 µs (V8's default is 1 ms, too coarse for a burst of about a second).
  await profiler?.post("Profiler.setSamplingInterval", {
    interval: Number(process.env.TC_BENCH_PROF_US ?? 100),
  });
  setTimeout(() => {
    cpuAtDue = process.cpuUsage();
    void profiler?.post("Profiler.start");
  }, cfg.dueAt - Date.now());
  // Progress goes to the parent in bursts, not per job, so reporting does not cost throughput.
  const progress = setInterval(() => send({ type: "progress", done, lastDoneAt }), 20);
  let stop = async () => {};

  if (cfg.system === "tradecron-pg" || cfg.system === "sqlite") {
    const { Scheduler } = await import("@tradecron/core");
    const { PostgresStorage, SqliteStorage } = await import("@tradecron/storage-sql");
    const storage =
      cfg.system === "sqlite"
        ? new SqliteStorage({ path: cfg.path })
        : new PostgresStorage({ connectionString: PG_URL, schema: cfg.schema, poolSize: cfg.pool ?? 10 });
    const scheduler = new Scheduler({
      storage,
      instanceId: cfg.id,
      ...(cfg.stepInMs === undefined ? {} : { stepInMs: cfg.stepInMs }),
    });
    scheduler.register("bench", (ctx) => started(ctx.fire.scheduledAt));
    // Counted once the outcome is committed (run:succeeded comes after the fenced update).
    scheduler.on("run:succeeded", ({ execution }) => finished(execution.scheduledAt));
    if (process.env.TC_BENCH_CLAIMS) {
      // Debug: who claimed what of the measured burst (its preferred share, stepped in, taken).
      const { fireHash } = await import("@tradecron/core");
      const tally = { own: 0, stepped: 0, taken: 0 };
      // Every worker live, sorted, as the membership list has them.
      const live = Array.from({ length: cfg.workers }, (_, i) => `tradecron-pg-${i + 1}`).sort();
      scheduler.on("fire:claimed", ({ execution }) => {
        if (execution.scheduledAt !== cfg.dueAt) return;
        if (live[fireHash(execution.scheduleId, execution.scheduledAt) % live.length] === cfg.id) tally.own++;
        else tally.stepped++;
      });
      scheduler.on("fire:taken", (p) => {
        if (p.scheduledAt === cfg.dueAt) tally.taken++;
      });
      process.on("message", (m) => m?.type === "stop" && send({ type: "log", text: JSON.stringify(tally) }));
    }
    scheduler.on("scheduler:error", ({ error, context }) =>
      send({ type: "log", text: `${context}: ${error.message}` }),
    );
    await scheduler.start();
    stop = async () => {
      await scheduler.stop();
      await storage.close();
    };
  } else if (cfg.system === "pg-boss") {
    const { PgBoss } = await import("pg-boss");
    const boss = new PgBoss({
      connectionString: PG_URL,
      schema: cfg.schema,
      max: 10,
      supervise: false,
      schedule: false,
      migrate: false,
    });
    boss.on("error", (error) => send({ type: "log", text: `pg-boss: ${error.message}` }));
    await boss.start();
    await boss.work(
      "bench",
      { batchSize: 50, localConcurrency: 2, pollingIntervalSeconds: 0.5, burstWhenBatchFull: true },
      async (jobs) => {
        for (const job of jobs) started(job.data.due);
        for (const job of jobs) finished(job.data.due);
      },
    );
    stop = () => boss.stop({ graceful: true, timeout: 5000 });
  } else if (cfg.system === "graphile-worker") {
    const { run } = await import("graphile-worker");
    const silent = () => () => {};
    const { Logger } = await import("graphile-worker");
    const runner = await run({
      connectionString: PG_URL,
      schema: cfg.schema,
      concurrency: 10,
      pollInterval: 500,
      noHandleSignals: true,
      logger: new Logger(silent),
      preset: { worker: { localQueue: { size: 50 }, completeJobBatchDelay: 0 } },
      taskList: {
        bench: async (payload) => {
          started(payload.due);
          finished(payload.due);
        },
      },
    });
    stop = () => runner.stop();
  }

  process.on("message", async (msg) => {
    if (msg?.type !== "stop") return;
    clearInterval(progress);
    send({ type: "progress", done, lastDoneAt });
    const cpu = process.cpuUsage(cpuAtDue ?? undefined);
    if (profiler) {
      const { profile } = await profiler.post("Profiler.stop");
      const { writeFileSync } = await import("node:fs");
      writeFileSync(join(process.env.TC_BENCH_PROF, `${cfg.id}.cpuprofile`), JSON.stringify(profile));
    }
    await stop();
    process.send({ type: "result", latencies, cpuMs: (cpu.user + cpu.system) / 1000 }, () => process.exit(0));
  });
  send({ type: "ready" });
}

// ----------------------------------------------------------------------------------------------
// the runner (parent)

async function main() {
  const { values } = parseArgs({
    options: {
      jobs: { type: "string", default: "10000" },
      only: { type: "string" },
      workers: { type: "string", default: "1,3" },
      pool: { type: "string", default: "10" },
      // tradecron's step-in delay (the preferred claimer); default: the scheduler's own default.
      "step-in": { type: "string" },
      // A burst of this many jobs before the measured one (not counted): see the top of the file.
      warmup: { type: "string", default: "0" },
    },
  });
  const jobs = Number(values.jobs);
  const warmup = Number(values.warmup);
  // `tradecron` names tradecron on PostgreSQL (`tradecron-pg`), as in the tables.
  const only = values.only
    ? new Set(values.only.split(",").map((s) => (s === "tradecron" ? "tradecron-pg" : s)))
    : null;
  const pg = (await import("pg")).default;
  const admin = new pg.Pool({ connectionString: PG_URL, max: 4 });
  try {
    await admin.query("SELECT 1");
  } catch (error) {
    console.error(`PostgreSQL is not reachable at ${PG_URL}: ${error.message} (set TRADECRON_BENCH_PG)`);
    process.exit(1);
  }

  const rows = [];
  const systems = ["tradecron-pg", "pg-boss", "graphile-worker"].filter((s) => !only || only.has(s));
  for (const system of systems) {
    for (const workers of values.workers.split(",").map(Number)) {
      process.stderr.write(`running ${system} with ${workers} worker(s), ${jobs} jobs ...\n`);
      rows.push(
        await runPostgres(admin, system, workers, jobs, Number(values.pool), values["step-in"], warmup),
      );
    }
  }
  let sqlite = null;
  if (!only || only.has("sqlite")) {
    process.stderr.write(`running sqlite with 1 process, ${jobs} fires ...\n`);
    sqlite = await runSqlite(jobs);
  }
  await admin.end();
  report(rows, sqlite, jobs, warmup);
}

function randomName(prefix) {
  return `${prefix}_${Math.random().toString(16).slice(2, 10)}`;
}

function spawnWorker(cfg) {
  const proc = fork(self, [], {
    env: { ...process.env, TC_BENCH_CHILD: JSON.stringify(cfg) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const w = { proc, done: 0, lastDoneAt: 0, ready: null, result: null, listeners: new Set() };
  w.ready = new Promise((resolve, reject) => {
    proc.on("exit", (code) => code !== 0 && reject(new Error(`${cfg.system} worker exited with ${code}`)));
    proc.on("message", (msg) => {
      if (msg.type === "ready") resolve();
      else if (msg.type === "progress") {
        w.done = msg.done;
        w.lastDoneAt = msg.lastDoneAt;
      } else if (msg.type === "result") w.result = msg;
      else if (msg.type === "log") process.stderr.write(`  [${cfg.id}] ${msg.text}\n`);
      for (const l of w.listeners) l();
    });
  });
  // measure() awaits it; this only keeps a failed start from also being an unhandled rejection.
  w.ready.catch(() => {});
  return w;
}

async function waitFor(condition, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Inserts the jobs of `system`: `jobs` due at `dueAt` and `warmup` due at `warmAt`; returns a
 * function counting completed jobs (of both) in the database.
 */
async function prepare(admin, system, schema, jobs, dueAt, warmup, warmAt) {
  // Each job says which burst it belongs to: its due instant (tradecron: the fire's own).
  const dues = [
    ...Array.from({ length: warmup }, () => warmAt),
    ...Array.from({ length: jobs }, () => dueAt),
  ];
  const total = dues.length;
  if (system === "tradecron-pg") {
    const { buildScheduleRecord } = await import("@tradecron/core");
    const { PostgresStorage } = await import("@tradecron/storage-sql");
    const storage = new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 8 });
    await storage.open();
    const now = Date.now();
    for (let i = 0; i < total; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, total - i) }, (_, j) =>
          storage.insertSchedule(
            buildScheduleRecord({ id: `job-${i + j}`, job: "bench", trigger: { at: dues[i + j] } }, now),
          ),
        ),
      );
    }
    await storage.close();
    return async () =>
      Number(
        (await admin.query(`SELECT count(*) AS n FROM "${schema}".executions WHERE status = 'succeeded'`))
          .rows[0].n,
      );
  }
  if (system === "pg-boss") {
    const { PgBoss } = await import("pg-boss");
    const boss = new PgBoss({ connectionString: PG_URL, schema, max: 4, supervise: false, schedule: false });
    await boss.start();
    await boss.createQueue("bench");
    for (let i = 0; i < total; i += 1000) {
      await boss.insert(
        "bench",
        dues.slice(i, i + 1000).map((due) => ({ data: { due }, startAfter: new Date(due) })),
      );
    }
    await boss.stop({ graceful: false });
    return async () =>
      Number(
        (await admin.query(`SELECT count(*) AS n FROM "${schema}".job WHERE state = 'completed'`)).rows[0].n,
      );
  }
  const { makeWorkerUtils, Logger } = await import("graphile-worker");
  const utils = await makeWorkerUtils({
    connectionString: PG_URL,
    schema,
    logger: new Logger(() => () => {}),
  });
  await utils.migrate();
  for (let i = 0; i < total; i += 1000) {
    await utils.addJobs(
      dues.slice(i, i + 1000).map((due) => ({ identifier: "bench", payload: { due }, runAt: new Date(due) })),
    );
  }
  await utils.release();
  // graphile-worker deletes a job once it is complete.
  return async () =>
    total - Number((await admin.query(`SELECT count(*) AS n FROM "${schema}"._private_jobs`)).rows[0].n);
}

/** CPU time of the whole machine so far (every core, every process, the database included), in ms. */
function machineTimes() {
  let idle = 0;
  let total = 0;
  for (const { times } of cpus()) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
}

async function measure(workers, jobs, dueAt, completedInDb, { warmup = 0, warmAt = dueAt } = {}) {
  // The machine's CPU from T on: whether the run was bound by the cores (workers and database together).
  const atDue = new Promise((resolve) =>
    setTimeout(() => resolve(machineTimes()), Math.max(0, dueAt - Date.now())),
  );
  await Promise.all(workers.map((w) => w.ready));
  if (Date.now() > warmAt - 200) throw new Error("setup took longer than the lead time; nothing measured");
  if (warmup > 0) {
    await waitFor(async () => (await completedInDb()) >= warmup, 120_000, "the warm-up burst completed");
    if (Date.now() > dueAt - 200)
      throw new Error("the warm-up burst ran into the measured one; nothing measured");
  }
  await waitFor(() => workers.reduce((n, w) => n + w.done, 0) >= jobs, 300_000, "every handler ran");
  // Completed means completed in the database, not only returned from the handler.
  await waitFor(
    async () => (await completedInDb()) >= warmup + jobs,
    60_000,
    "every job completed in the database",
  );
  const doneAt = Date.now();
  const end = machineTimes();
  const start = await atDue;
  for (const w of workers) w.proc.send({ type: "stop" });
  await Promise.all(
    workers.map((w) => new Promise((resolve) => (w.result ? resolve() : w.proc.on("exit", resolve)))),
  );
  const latencies = workers.flatMap((w) => w.result?.latencies ?? []).sort((a, b) => a - b);
  const cpuMs = workers.reduce((n, w) => n + (w.result?.cpuMs ?? 0), 0);
  return {
    jobsPerSecond: jobs / ((doneAt - dueAt) / 1000),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    started: latencies.length,
    // Worker CPU per job, all workers together (the database server's CPU is not included).
    cpuUsPerJob: (cpuMs * 1000) / jobs,
    // Share of the machine's cores busy from T until the last job completed.
    machineBusy: 1 - (end.idle - start.idle) / (end.total - start.total),
  };
}

async function runPostgres(admin, system, count, jobs, pool, stepIn, warmup) {
  let workers = [];
  const schema = randomName(
    system === "tradecron-pg" ? "tc_bench" : system === "pg-boss" ? "boss_bench" : "gw_bench",
  );
  try {
    // Long enough to create the jobs and start the workers before T. tradecron's scheduler reads
    // each schedule's last fire one by one on start(), so it needs the longest lead.
    const lead = 5000 + (jobs + warmup) * (system === "tradecron-pg" ? 3 : 0.6);
    const warmAt = Date.now() + lead;
    // The warm-up burst gets a second plus a millisecond a job (1,000 jobs/s) before T.
    const dueAt = warmup > 0 ? warmAt + 1000 + warmup : warmAt;
    const completedInDb = await prepare(admin, system, schema, jobs, dueAt, warmup, warmAt);
    workers = Array.from({ length: count }, (_, i) =>
      spawnWorker({
        system,
        schema,
        dueAt,
        id: `${system}-${i + 1}`,
        workers: count,
        pool,
        ...(stepIn === undefined ? {} : { stepInMs: Number(stepIn) }),
      }),
    );
    const result = await measure(workers, jobs, dueAt, completedInDb, { warmup, warmAt });
    if (result.started !== jobs) {
      // Say what the database holds, so a mismatch can be told apart: a fire claimed twice (more
      // rows than jobs), retries (attempts above 1), or runs taken over (instance changes).
      const facts =
        system === "tradecron-pg"
          ? (
              await admin.query(
                `SELECT count(*) AS rows, count(DISTINCT schedule_id) AS schedules, sum(attempts) AS attempts,
                   max(attempts) AS max_attempts, string_agg(DISTINCT status, ',') AS statuses
                 FROM "${schema}".executions`,
              )
            ).rows[0]
          : null;
      throw new Error(
        `${system}: ${result.started} handler starts for ${jobs} jobs${facts ? ` (executions: ${JSON.stringify(facts)})` : ""}`,
      );
    }
    return { system, workers: count, ...result };
  } finally {
    for (const w of workers) if (w.proc.exitCode === null) w.proc.kill("SIGKILL");
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

async function runSqlite(jobs) {
  let worker = null;
  const dir = mkdtempSync(join(tmpdir(), "tradecron-bench-"));
  const path = join(dir, "bench.db");
  try {
    const { buildScheduleRecord } = await import("@tradecron/core");
    const { SqliteStorage } = await import("@tradecron/storage-sql");
    const dueAt = Date.now() + 6000 + jobs * 0.3;
    const storage = new SqliteStorage({ path });
    await storage.open();
    const now = Date.now();
    await Promise.all(
      Array.from({ length: jobs }, (_, i) =>
        storage.insertSchedule(
          buildScheduleRecord({ id: `job-${i}`, job: "bench", trigger: { at: dueAt } }, now),
        ),
      ),
    );
    await storage.close();
    worker = spawnWorker({ system: "sqlite", path, dueAt, id: "sqlite-1" });
    // Every outcome is counted after its group commit (synchronous=FULL): durable when counted.
    const result = await measure([worker], jobs, dueAt, async () => worker.done);
    return result;
  } finally {
    if (worker && worker.proc.exitCode === null) worker.proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function report(rows, sqlite, jobs, warmup) {
  const pad = (s, n) => String(s).padEnd(n);
  const num = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "-");
  const lines = [];
  lines.push(
    `${jobs} one-off jobs due at one instant${warmup > 0 ? `, after a warm-up burst of ${warmup}` : " (cold workers)"}, PostgreSQL ${PG_URL.replace(/\/\/[^@]*@/, "//")}`,
  );
  lines.push("");
  lines.push(
    `${pad("system", 18)}${pad("workers", 9)}${pad("jobs/s", 10)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("worker CPU µs/job", 19)}machine busy`,
  );
  for (const r of rows) {
    lines.push(
      `${pad(r.system, 18)}${pad(r.workers, 9)}${pad(num(r.jobsPerSecond), 10)}${pad(num(r.p50), 9)}${pad(num(r.p99), 9)}${pad(num(r.cpuUsPerJob), 19)}${num(r.machineBusy * 100)} %`,
    );
  }
  const get = (system, workers) => rows.find((r) => r.system === system && r.workers === workers);
  const ratios = [];
  for (const workers of [1, 3]) {
    const tc = get("tradecron-pg", workers);
    for (const other of ["graphile-worker", "pg-boss"]) {
      const o = get(other, workers);
      if (!tc || !o) continue;
      ratios.push(
        `${workers} worker(s): tradecron/${other} throughput x${num(tc.jobsPerSecond / o.jobsPerSecond, 2)}, ` +
          `p50 latency x${num(tc.p50 / o.p50, 2)}, p99 latency x${num(tc.p99 / o.p99, 2)}`,
      );
    }
  }
  if (ratios.length) lines.push("", ...ratios);
  if (sqlite) {
    lines.push(
      "",
      `sqlite (1 process, synchronous=FULL): ${num(sqlite.jobsPerSecond)} durable fires/s, ` +
        `due->start p50 ${num(sqlite.p50)} ms, p99 ${num(sqlite.p99)} ms`,
    );
  }
  console.log(lines.join("\n"));
}
