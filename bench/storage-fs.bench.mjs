// FileStorage (@tradecron/storage-fs) against SQLite and a naive one-JSON-file-per-record layout.
//
//   node bench/storage-fs.bench.mjs [--fires 3000] [--concurrency 64] [--schedules 10000]
//                                   [--executions 1000000] [--runs 5] [--skip-open]
//
// Needs the built package (`cd packages/storage-fs && npx tsup`, or `pnpm run build`).
//
// 1. Durable fires per second. A fire is three acknowledged, synced writes, as the scheduler
//    makes them: the claim (a new execution record, status `claimed`), the start (`running`) and
//    the completion (`succeeded` with a result). Run one fire at a time (latency-bound: every
//    write waits for its own sync) and with `--concurrency` fires in flight (how a scheduler with
//    many schedules runs; FileStorage shares one sync between concurrent writes).
//    - FileStorage: its execution log (O_DSYNC append, group commit).
//    - SQLite: better-sqlite3, journal_mode=WAL, synchronous=FULL, one transaction per write
//      (each commit syncs the WAL). Its API is synchronous, so concurrency does not batch commits.
//    - naive: one pretty JSON file per execution, replaced atomically on every change (temp file,
//      fsync, rename, fsync of the folder), as a careful version of seed 000's layout would do.
// 2. Opening a store holding `--schedules` schedules and `--executions` executions: `open`
//    alone, and start-up (open, list every schedule, read each schedule's last fire: what
//    Scheduler.start does). Fixtures are generated once through each store's normal write path
//    and cached under the OS temp folder (tradecron-bench-storage-fs-*); delete it to regenerate.
//    Each open runs in a fresh Node process (modules loaded first, not timed; the page cache is
//    warm), as a restart would. Also: the process's memory after open, and the latency of a
//    history page (50 executions of one schedule) and of a lookup by id.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { link, mkdir, open, rename, unlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    fires: { type: "string", default: "3000" },
    concurrency: { type: "string", default: "64" },
    schedules: { type: "string", default: "10000" },
    executions: { type: "string", default: "1000000" },
    runs: { type: "string", default: "5" },
    "skip-open": { type: "boolean", default: false },
    // internal: measure one open in this (fresh) process and print it as JSON
    "open-child": { type: "string" },
  },
});
const FIRES = Number(args.fires);
const CONCURRENCY = Number(args.concurrency);
const SCHEDULES = Number(args.schedules);
const EXECUTIONS = Number(args.executions);
const RUNS = Number(args.runs);

let FileStorage;
let buildScheduleRecord;
try {
  ({ FileStorage } = await import("@tradecron/storage-fs"));
  ({ buildScheduleRecord } = await import("@tradecron/core"));
} catch (error) {
  console.error("@tradecron/storage-fs is not built: run `cd packages/storage-fs && npx tsup` first.");
  throw error;
}
// better-sqlite3 is a dependency of @tradecron/storage-sql; resolve it from there.
const requireFromSql = createRequire(
  fileURLToPath(new URL("../packages/storage-sql/package.json", import.meta.url)),
);
const Database = requireFromSql("better-sqlite3");

const T0 = Date.parse("2026-01-05T14:30:00Z");
const log = (msg) => process.stderr.write(`${msg}\n`);

// ----------------------------------------------------------------------------------------------
// records

/** The i-th schedule, built by core as the scheduler builds it (so it passes the load checks). */
function scheduleRecord(i) {
  const input = {
    id: `sched-${String(i).padStart(5, "0")}`,
    name: `Schedule ${i}`,
    job: i % 2 ? "exit-check" : "scan",
    tags: ["bench"],
    trigger: { cron: "*/1 * * * *", timezone: "America/New_York" },
    data: { symbols: ["AAPL", "MSFT"], threshold: 0.5 },
    retry: { attempts: 3, backoff: { baseMs: "1m", maxMs: "10m" } },
  };
  return buildScheduleRecord(input, T0);
}

function executionRecord(i, schedules, status = "claimed") {
  const scheduleId = `sched-${String(i % schedules).padStart(5, "0")}`;
  const scheduledAt = T0 + Math.floor(i / schedules) * 60_000;
  return {
    id: `exec-${String(i).padStart(8, "0")}-${(i * 2654435761) % 1e9}`,
    scheduleId,
    job: "scan",
    scheduledAt,
    kind: "scheduled",
    status,
    reason: null,
    attempts: status === "claimed" ? 0 : 1,
    claimedAt: scheduledAt,
    startedAt: status === "claimed" ? null : scheduledAt + 2,
    endedAt: null,
    instanceId: "bench-host:4242:ab12",
    leaseExpiresAt: scheduledAt + 30_000,
    actor: null,
    error: null,
    result: null,
    details: null,
    idempotencyKey: `${scheduleId}@${new Date(scheduledAt).toISOString()}`,
  };
}

const START = (e) => ({ status: "running", startedAt: e.scheduledAt + 2, attempts: 1 });
const DONE = (e) => ({
  status: "succeeded",
  endedAt: e.scheduledAt + 850,
  leaseExpiresAt: null,
  result: { orders: 0, checked: 12 },
});

// ----------------------------------------------------------------------------------------------
// the three stores behind one small interface: claim, update, close

async function fileStore(dir, options = {}) {
  const storage = new FileStorage({ dir, ...options });
  await storage.open();
  return {
    claim: async (e) => (await storage.claimFire({ execution: e })).claimed,
    update: (e, patch) => storage.updateExecution(e.id, e.instanceId, patch),
    close: () => storage.close(),
  };
}

function sqliteSchema(db) {
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec(`
    CREATE TABLE IF NOT EXISTS schedules (id TEXT PRIMARY KEY, record TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS executions (
      id TEXT PRIMARY KEY,
      schedule_id TEXT NOT NULL,
      scheduled_at INTEGER NOT NULL,
      kind TEXT NOT NULL,
      status TEXT NOT NULL,
      instance_id TEXT NOT NULL,
      record TEXT NOT NULL,
      UNIQUE (schedule_id, scheduled_at)
    );
    CREATE INDEX IF NOT EXISTS executions_active ON executions (status) WHERE status IN ('claimed', 'running');
  `);
}

async function sqliteStore(dir) {
  const db = new Database(join(dir, "store.db"));
  sqliteSchema(db);
  const insert = db.prepare(
    `INSERT INTO executions (id, schedule_id, scheduled_at, kind, status, instance_id, record)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const select = db.prepare("SELECT record FROM executions WHERE id = ?");
  const update = db.prepare(
    `UPDATE executions SET status = ?, record = ?
     WHERE id = ? AND instance_id = ? AND status IN ('claimed', 'running')`,
  );
  return {
    claim: async (e) =>
      insert.run(e.id, e.scheduleId, e.scheduledAt, e.kind, e.status, e.instanceId, JSON.stringify(e))
        .changes === 1,
    update: async (e, patch) => {
      const current = JSON.parse(select.get(e.id).record);
      const next = { ...current, ...patch };
      return update.run(next.status, JSON.stringify(next), e.id, e.instanceId).changes === 1 ? next : null;
    },
    close: async () => db.close(),
  };
}

async function fsyncPath(path) {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function naiveStore(dir) {
  const execDir = join(dir, "executions");
  await mkdir(execDir, { recursive: true });
  let seq = 0;
  const writeTemp = async (record) => {
    const tmp = join(execDir, `.${process.pid}-${seq++}.tmp`);
    const fh = await open(tmp, "w");
    try {
      await fh.writeFile(JSON.stringify(record, null, 2));
      await fh.sync();
    } finally {
      await fh.close();
    }
    return tmp;
  };
  const fileOf = (e) => join(execDir, `${e.scheduleId}@${e.scheduledAt}.json`);
  const current = new Map();
  return {
    claim: async (e) => {
      const tmp = await writeTemp(e);
      try {
        await link(tmp, fileOf(e)); // exclusive: fails if the fire's file exists
      } catch (error) {
        if (error.code === "EEXIST") return false;
        throw error;
      } finally {
        await unlink(tmp);
      }
      await fsyncPath(execDir);
      current.set(e.id, e);
      return true;
    },
    update: async (e, patch) => {
      const next = { ...current.get(e.id), ...patch };
      const tmp = await writeTemp(next);
      await rename(tmp, fileOf(e));
      await fsyncPath(execDir);
      current.set(e.id, next);
      return next;
    },
    close: async () => {},
  };
}

// ----------------------------------------------------------------------------------------------
// 1. durable fires per second

async function firesPerSecond(make, fires, concurrency) {
  const dir = mkdtempSync(join(tmpdir(), "tc-bench-fires-"));
  const store = await make(dir);
  try {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < fires) {
          const e = executionRecord(next++, 100);
          if (!(await store.claim(e))) throw new Error(`claim of ${e.id} refused`);
          if (!(await store.update(e, START(e)))) throw new Error(`start of ${e.id} refused`);
          if (!(await store.update(e, DONE(e)))) throw new Error(`completion of ${e.id} refused`);
        }
      }),
    );
    return fires / ((performance.now() - started) / 1000);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ----------------------------------------------------------------------------------------------
// 2. opening a large store

const fixtureRoot = join(tmpdir(), `tradecron-bench-storage-fs-${SCHEDULES}-${EXECUTIONS}-v3`);

async function ensureFileFixture() {
  const dir = join(fixtureRoot, "file");
  const done = join(fixtureRoot, "file.complete");
  if (existsSync(done)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(fixtureRoot, { recursive: true });
  log(`generating the FileStorage fixture in ${dir} (once) ...`);
  const started = performance.now();
  const storage = new FileStorage({ dir });
  await storage.open();
  let s = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (s < SCHEDULES) await storage.insertSchedule(scheduleRecord(s++));
    }),
  );
  let i = 0;
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (i < EXECUTIONS) {
        const n = i++;
        const e = executionRecord(n, SCHEDULES, "running");
        await storage.claimFire({ execution: e });
        await storage.updateExecution(e.id, e.instanceId, DONE(e));
        if (n > 0 && n % 100_000 === 0) log(`  ${n} executions`);
      }
    }),
  );
  await storage.whenIdle();
  const stats = await storage.stats();
  await storage.close();
  writeFileSync(done, JSON.stringify({ stats, seconds: (performance.now() - started) / 1000 }));
  log(`  done in ${((performance.now() - started) / 1000).toFixed(0)} s: ${JSON.stringify(stats)}`);
  return dir;
}

function ensureSqliteFixture() {
  const path = join(fixtureRoot, "store.db");
  const done = join(fixtureRoot, "sqlite.complete");
  if (existsSync(done)) return path;
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
  mkdirSync(fixtureRoot, { recursive: true });
  log(`generating the SQLite fixture in ${path} (once) ...`);
  const db = new Database(path);
  sqliteSchema(db);
  const insSchedule = db.prepare("INSERT INTO schedules (id, record) VALUES (?, ?)");
  const insExec = db.prepare(
    `INSERT INTO executions (id, schedule_id, scheduled_at, kind, status, instance_id, record)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (let s = 0; s < SCHEDULES; s++) {
      const r = scheduleRecord(s);
      insSchedule.run(r.id, JSON.stringify(r));
    }
  })();
  const batch = db.transaction((from, to) => {
    for (let n = from; n < to; n++) {
      const e = { ...executionRecord(n, SCHEDULES, "running"), ...DONE(executionRecord(n, SCHEDULES)) };
      insExec.run(e.id, e.scheduleId, e.scheduledAt, e.kind, e.status, e.instanceId, JSON.stringify(e));
    }
  });
  for (let n = 0; n < EXECUTIONS; n += 10_000) batch(n, Math.min(EXECUTIONS, n + 10_000));
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  writeFileSync(done, "{}");
  return path;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One open of the FileStorage fixture in this process. */
async function openFileOnce(dir) {
  const t0 = performance.now();
  const storage = new FileStorage({ dir });
  await storage.open();
  const t1 = performance.now();
  const schedules = await storage.listSchedules();
  for (const s of schedules) await storage.lastFireAt(s.id);
  const t2 = performance.now();
  const rss = process.memoryUsage().rss;
  const history = await perQuery(200, (k) =>
    storage.listExecutions({
      scheduleId: `sched-${String((k * 37) % SCHEDULES).padStart(5, "0")}`,
      limit: 50,
    }),
  );
  const lookup = await perQuery(200, (k) =>
    storage.getExecution(executionRecord((k * 7919) % EXECUTIONS, SCHEDULES).id),
  );
  await storage.close();
  return { open: t1 - t0, startup: t2 - t0, rss, history, lookup };
}

/** One open of the SQLite fixture in this process. */
async function openSqliteOnce(path) {
  const t0 = performance.now();
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.prepare("SELECT count(*) FROM schedules").get(); // make SQLite actually read the file
  const t1 = performance.now();
  const rows = db.prepare("SELECT record FROM schedules ORDER BY id").all();
  const last = db.prepare(
    "SELECT max(scheduled_at) AS at FROM executions WHERE schedule_id = ? AND kind IN ('scheduled', 'catchup')",
  );
  for (const row of rows) last.get(JSON.parse(row.record).id);
  const t2 = performance.now();
  const rss = process.memoryUsage().rss;
  const page = db.prepare(
    "SELECT record FROM executions WHERE schedule_id = ? ORDER BY scheduled_at DESC, id DESC LIMIT 50",
  );
  const byId = db.prepare("SELECT record FROM executions WHERE id = ?");
  const history = await perQuery(200, async (k) =>
    page.all(`sched-${String((k * 37) % SCHEDULES).padStart(5, "0")}`).map((x) => JSON.parse(x.record)),
  );
  const lookup = await perQuery(200, async (k) =>
    JSON.parse(byId.get(executionRecord((k * 7919) % EXECUTIONS, SCHEDULES).id).record),
  );
  db.close();
  return { open: t1 - t0, startup: t2 - t0, rss, history, lookup };
}

/** Runs `RUNS` opens, each in a fresh process, and takes the median of every figure. */
function measureOpen(kind, target) {
  const runs = [];
  for (let r = 0; r < RUNS; r++) {
    const out = execFileSync(
      process.execPath,
      [
        fileURLToPath(import.meta.url),
        "--open-child",
        JSON.stringify({ kind, target }),
        "--schedules",
        String(SCHEDULES),
        "--executions",
        String(EXECUTIONS),
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
    );
    runs.push(JSON.parse(out));
  }
  const pick = (key) => median(runs.map((x) => x[key]));
  return {
    open: pick("open"),
    startup: pick("startup"),
    rss: pick("rss"),
    history: pick("history"),
    lookup: pick("lookup"),
    first: runs[0].startup,
  };
}

async function perQuery(n, fn) {
  const times = [];
  for (let k = 0; k < n; k++) {
    const t = performance.now();
    await fn(k);
    times.push(performance.now() - t);
  }
  return median(times);
}

// ----------------------------------------------------------------------------------------------

const fmt = (n, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits });
const pad = (s, w) => String(s).padStart(w);

if (args["open-child"]) {
  const { kind, target } = JSON.parse(args["open-child"]);
  const result = kind === "file" ? await openFileOnce(target) : await openSqliteOnce(target);
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}

log(`durable fires (3 synced writes each): ${FIRES} fires per run; naive runs 1/4 of them`);
const systems = [
  ["FileStorage", fileStore, FIRES],
  ["FileStorage (inlineCommits)", (dir) => fileStore(dir, { inlineCommits: true }), FIRES],
  ["SQLite (WAL, synchronous=FULL)", sqliteStore, FIRES],
  ["naive file per record", naiveStore, Math.ceil(FIRES / 4)],
];
// Three rounds, interleaved across systems, and the median of each: a shared machine's other
// work (and its other disk syncs) then weighs on every system alike.
const ROUNDS = 3;
const samples = systems.map(() => ({ one: [], many: [] }));
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, [, make, fires]] of systems.entries()) {
    samples[i].one.push(await firesPerSecond(make, Math.ceil(fires / 3), 1));
    samples[i].many.push(await firesPerSecond(make, fires, CONCURRENCY));
  }
}
const median3 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fireRows = systems.map(([name], i) => [name, median3(samples[i].one), median3(samples[i].many)]);
console.log(
  `\nDurable fires per second (claim + start + completion, each synced before it is acknowledged; median of ${ROUNDS})`,
);
console.log(`${"store".padEnd(32)}${pad("1 at a time", 14)}${pad(`${CONCURRENCY} in flight`, 14)}`);
for (const [name, one, many] of fireRows)
  console.log(`${name.padEnd(32)}${pad(fmt(one), 14)}${pad(fmt(many), 14)}`);
const [file, , sqlite, naive] = fireRows;
console.log(
  `FileStorage / SQLite: ${(file[1] / sqlite[1]).toFixed(2)}x (1 at a time), ${(file[2] / sqlite[2]).toFixed(1)}x (${CONCURRENCY} in flight); ` +
    `FileStorage / naive: ${(file[1] / naive[1]).toFixed(1)}x, ${(file[2] / naive[2]).toFixed(1)}x`,
);

if (!args["skip-open"]) {
  const fileDir = await ensureFileFixture();
  const sqlitePath = ensureSqliteFixture();
  const f = measureOpen("file", fileDir);
  const q = measureOpen("sqlite", sqlitePath);
  console.log(
    `\nOpening a store with ${fmt(SCHEDULES)} schedules and ${fmt(EXECUTIONS)} executions (median of ${RUNS} fresh processes, warm page cache)`,
  );
  console.log(
    `${"store".padEnd(32)}${pad("open ms", 10)}${pad("start-up ms", 13)}${pad("RSS MiB", 9)}${pad("history ms", 12)}${pad("by id ms", 10)}`,
  );
  for (const [name, m] of [
    ["FileStorage", f],
    ["SQLite (WAL, synchronous=FULL)", q],
  ]) {
    console.log(
      `${name.padEnd(32)}${pad(fmt(m.open, 1), 10)}${pad(fmt(m.startup, 1), 13)}${pad(fmt(m.rss / 1048576), 9)}${pad(fmt(m.history, 2), 12)}${pad(fmt(m.lookup, 2), 10)}`,
    );
  }
  console.log(
    "start-up = open + list every schedule + each schedule's last fire (what Scheduler.start does); " +
      "history = a page of 50 executions of one schedule; by id = one execution by id",
  );
  console.log(`FileStorage / SQLite start-up: ${(f.startup / q.startup).toFixed(2)}x`);
}
