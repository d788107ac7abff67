// The HTTP API's speed: latency of a page of executions and of the approval queue with 1,000,000
// executions stored, on SQLite and PostgreSQL; and requests/s of GET /status beside a bare
// Express route in the same process, in the same run.
//
//   node bench/http.bench.mjs [--executions 1000000] [--requests 300] [--only sqlite,postgres,status]
//   npm run bench -- http
//
// Needs the built packages (`pnpm run build`) and, for PostgreSQL, TRADECRON_BENCH_PG (default
// postgres://postgres@127.0.0.1:5432/test); the bench uses a fresh schema and drops it.
//
// Method. Each storage is seeded in bulk (one SQL statement per table, straight into the tables
// the storage created with its own migrations): 1,000,000 executions over 20 schedules and 30
// days (5% failed), 20,000 approvals (1,000 pending). A scheduler is started on it and the router
// mounted in an Express 5 app on 127.0.0.1. Each endpoint is asked `--requests` times one after
// another over one keep-alive connection (after 30 warm-up requests), with a viewer's bearer
// token, so the time includes authentication, validation, the storage query, the mapping to
// JSON, and the response's trip through the loopback. p50/p99 from the sorted times. Target:
// p99 under 50 ms per page. Throughput: autocannon, 10 connections for 5 s each, GET
// /scheduler/status (with its bearer token, on MemoryStorage with 20 schedules) and a bare
// `app.get("/bare", (req, res) => res.json({ ok: true }))` in the same app.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MemoryStorage, Scheduler } from "@tradecron/core";
import { createRouter } from "@tradecron/http";
import { PostgresStorage, SqliteStorage } from "@tradecron/storage-sql";
import autocannon from "autocannon";
import Database from "better-sqlite3";
import express from "express";
import pg from "pg";

const { values } = parseArgs({
  options: {
    executions: { type: "string", default: "1000000" },
    requests: { type: "string", default: "300" },
    only: { type: "string", default: "sqlite,postgres,status" },
  },
});
const EXECUTIONS = Number(values.executions);
const REQUESTS = Number(values.requests);
const ONLY = new Set(values.only.split(","));
const PG_URL = process.env.TRADECRON_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const SCHEDULES = 20;
const APPROVALS = 20_000;
const PENDING = 1_000;
const TOKEN = "bench-viewer-token-0123456789";
const NOW = Date.now();
const DAY = 86_400_000;
const SPAN = 30 * DAY;
const auth = { tokens: [{ name: "bench", role: "viewer", token: TOKEN }] };

const fmt = (n) => n.toLocaleString("en-US", { maximumFractionDigits: 2, minimumFractionDigits: 2 });
const int = (n) => Math.round(n).toLocaleString("en-US");
const log = (s) => process.stderr.write(`${s}\n`);

// --- seeding ---------------------------------------------------------------------------------

/** Row i of the executions: spread over SPAN, 5% failed, the rest succeeded. */
function executionRow(i) {
  const at = NOW - SPAN + Math.floor((i * SPAN) / EXECUTIONS);
  const failed = i % 20 === 0;
  return {
    id: `e-${String(i).padStart(8, "0")}`,
    schedule: `s-${i % SCHEDULES}`,
    at,
    status: failed ? "failed" : "succeeded",
    error: failed
      ? JSON.stringify({
          message: "broker unavailable",
          code: "BROKER_UNAVAILABLE",
          name: "BrokerUnavailableError",
        })
      : null,
    result: failed ? null : JSON.stringify({ scanned: 42 }),
  };
}

function approvalRow(i) {
  const at = NOW - SPAN + Math.floor((i * SPAN) / APPROVALS);
  const pending = i >= APPROVALS - PENDING;
  return {
    id: `ap-${String(i).padStart(8, "0")}`,
    schedule: `s-${i % SCHEDULES}`,
    execution: `e-${String(i * 50).padStart(8, "0")}`,
    at,
    status: pending ? "pending" : i % 3 === 0 ? "rejected" : "submitted",
    risk: ["low", "medium", "high"][i % 3],
    intent: JSON.stringify({
      symbol: "AAPL",
      side: "buy",
      qty: "10",
      type: "market",
      timeInForce: "day",
      riskLevel: "low",
    }),
    expires: pending ? NOW + 4 * 3_600_000 : at + 4 * 3_600_000,
  };
}

async function createSchedules(scheduler) {
  for (let s = 0; s < SCHEDULES; s++) {
    await scheduler.createSchedule({
      id: `s-${s}`,
      job: "bench",
      trigger: { cron: "0 9 * * 1-5", timezone: "America/New_York" },
    });
  }
}

async function seedSqlite(path) {
  const storage = new SqliteStorage({ path });
  await storage.open();
  await storage.close();
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  const insert = db.prepare(
    `INSERT INTO executions (id, schedule_id, job, scheduled_at, kind, status, reason, attempts, claimed_at,
      started_at, ended_at, instance_id, lease_expires_at, actor, error, result, details, idempotency_key)
     VALUES (?, ?, 'bench', ?, 'scheduled', ?, NULL, 1, ?, ?, ?, 'seed', NULL, NULL, ?, ?, NULL, ?)`,
  );
  db.transaction(() => {
    for (let i = 0; i < EXECUTIONS; i++) {
      const r = executionRow(i);
      insert.run(
        r.id,
        r.schedule,
        r.at,
        r.status,
        r.at,
        r.at,
        r.at + 120,
        r.error,
        r.result,
        `${r.schedule}@${r.at}`,
      );
    }
  })();
  const ap = db.prepare(
    `INSERT INTO approvals (id, schedule_id, execution_id, fire_key, intent_index, client_order_id, intent, status,
      risk_level, rationale, confidence, supporting_data, created_at, expires_at, decided_at, decided_by)
     VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, 'breakout', 0.7, '{"rsi":61}', ?, ?, NULL, NULL)`,
  );
  db.transaction(() => {
    for (let i = 0; i < APPROVALS; i++) {
      const r = approvalRow(i);
      ap.run(
        r.id,
        r.schedule,
        r.execution,
        `${r.schedule}@${r.at}`,
        `c-${r.id}`,
        r.intent,
        r.status,
        r.risk,
        r.at,
        r.expires,
      );
    }
  })();
  db.exec("ANALYZE");
  db.close();
  return new SqliteStorage({ path });
}

async function seedPostgres(schema) {
  const storage = new PostgresStorage({ connectionString: PG_URL, schema });
  await storage.open();
  await storage.close();
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  const t = (name) => `"${schema}"."${name}"`;
  await client.query(
    `INSERT INTO ${t("executions")} (id, schedule_id, job, scheduled_at, kind, status, attempts, claimed_at,
       started_at, ended_at, instance_id, error, result, idempotency_key)
     SELECT 'e-' || lpad(i::text, 8, '0'), 's-' || (i % ${SCHEDULES}), 'bench',
       ${NOW - SPAN} + (i::bigint * ${SPAN}) / ${EXECUTIONS}, 'scheduled',
       CASE WHEN i % 20 = 0 THEN 'failed' ELSE 'succeeded' END, 1,
       ${NOW - SPAN} + (i::bigint * ${SPAN}) / ${EXECUTIONS}, ${NOW - SPAN} + (i::bigint * ${SPAN}) / ${EXECUTIONS},
       ${NOW - SPAN} + (i::bigint * ${SPAN}) / ${EXECUTIONS} + 120, 'seed',
       CASE WHEN i % 20 = 0 THEN '{"message":"broker unavailable","code":"BROKER_UNAVAILABLE","name":"BrokerUnavailableError"}'::jsonb END,
       CASE WHEN i % 20 <> 0 THEN '{"scanned":42}'::jsonb END,
       's-' || (i % ${SCHEDULES}) || '@' || (${NOW - SPAN} + (i::bigint * ${SPAN}) / ${EXECUTIONS})
     FROM generate_series(0, ${EXECUTIONS - 1}) AS i`,
  );
  await client.query(
    `INSERT INTO ${t("approvals")} (id, schedule_id, execution_id, fire_key, intent_index, client_order_id, intent,
       status, risk_level, rationale, confidence, supporting_data, created_at, expires_at)
     SELECT 'ap-' || lpad(i::text, 8, '0'), 's-' || (i % ${SCHEDULES}), 'e-' || lpad((i * 50)::text, 8, '0'),
       'k-' || i, 0, 'c-ap-' || i,
       '{"symbol":"AAPL","side":"buy","qty":"10","type":"market","timeInForce":"day","riskLevel":"low"}'::jsonb,
       CASE WHEN i >= ${APPROVALS - PENDING} THEN 'pending' WHEN i % 3 = 0 THEN 'rejected' ELSE 'submitted' END,
       (ARRAY['low','medium','high'])[i % 3 + 1], 'breakout', 0.7, '{"rsi":61}'::jsonb,
       ${NOW - SPAN} + (i::bigint * ${SPAN}) / ${APPROVALS},
       CASE WHEN i >= ${APPROVALS - PENDING} THEN ${NOW + 4 * 3_600_000} ELSE ${NOW - SPAN} + (i::bigint * ${SPAN}) / ${APPROVALS} + 14400000 END
     FROM generate_series(0, ${APPROVALS - 1}) AS i`,
  );
  await client.query(`ANALYZE ${t("executions")}; ANALYZE ${t("approvals")}`);
  await client.end();
  return new PostgresStorage({ connectionString: PG_URL, schema });
}

// --- measuring -------------------------------------------------------------------------------

/** A host: a scheduler on `storage`, the router at /scheduler, and a bare route. */
async function startHost(storage, withSchedules) {
  const scheduler = new Scheduler({ storage });
  scheduler.register("bench", async () => null);
  await scheduler.start();
  if (withSchedules) await createSchedules(scheduler);
  const router = createRouter(scheduler, { auth });
  const app = express();
  app.get("/bare", (_req, res) => {
    res.json({ ok: true });
  });
  app.use("/scheduler", router);
  const server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    scheduler,
    async close() {
      router.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await scheduler.stop({ timeoutMs: 0 });
      await storage.close();
    },
  };
}

async function get(url) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** p50/p99 of `REQUESTS` sequential GETs of `path` (ms). */
async function latency(base, path) {
  for (let i = 0; i < 30; i++) await get(`${base}${path}`);
  const times = [];
  let items = 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = process.hrtime.bigint();
    const body = await get(`${base}${path}`);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    items = Array.isArray(body.items) ? body.items.length : 0;
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  // CPU of this process (client and server) per request: steadier than wall time on a busy machine.
  return { p50: q(0.5), p99: q(0.99), items, cpuMs: (cpu.user + cpu.system) / 1000 / REQUESTS };
}

/** The cursor of page `n` (1-based) of `path`. */
async function cursorOfPage(base, path, n) {
  let cursor = null;
  for (let i = 1; i < n; i++) {
    const body = await get(`${base}${path}${cursor ? `&cursor=${cursor}` : ""}`);
    cursor = body.nextCursor;
  }
  return cursor;
}

async function pageCases(name, storage) {
  const host = await startHost(storage, true);
  const base = `${host.url}/scheduler`;
  const deep = await cursorOfPage(base, "/executions?limit=50", 200);
  const cases = [
    ["executions, first page (limit 50)", "/executions?limit=50"],
    ["executions, page 200 by cursor", `/executions?limit=50&cursor=${deep}`],
    ["executions of one schedule", "/executions?scheduleId=s-7&limit=50"],
    ["failed executions", "/executions?status=failed&limit=50"],
    [
      "executions in a one-day window",
      `/executions?from=${new Date(NOW - 10 * DAY).toISOString()}&to=${new Date(NOW - 9 * DAY).toISOString()}&limit=50`,
    ],
    ["approval queue: pending (limit 50)", "/approvals?status=pending&limit=50"],
    ["approval queue: pending, high risk", "/approvals?status=pending&riskLevel=high&limit=50"],
    ["pending count (the badge)", "/approvals/pending-count"],
  ];
  const rows = [];
  for (const [label, path] of cases) {
    const r = await latency(base, path);
    rows.push({ storage: name, label, ...r });
    log(`${name}: ${label}: p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms (${r.items} items)`);
  }
  await host.close();
  return rows;
}

async function rps(url, headers) {
  const result = await autocannon({ url, connections: 10, duration: 5, headers });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

// --- main ------------------------------------------------------------------------------------

const rows = [];
if (ONLY.has("sqlite")) {
  const dir = mkdtempSync(join(tmpdir(), "tc-bench-http-"));
  try {
    const t0 = Date.now();
    const storage = await seedSqlite(join(dir, "bench.db"));
    log(
      `sqlite: seeded ${int(EXECUTIONS)} executions and ${int(APPROVALS)} approvals in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    rows.push(...(await pageCases("SQLite", storage)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (ONLY.has("postgres")) {
  const schema = `bench_http_${process.pid}`;
  try {
    const t0 = Date.now();
    const storage = await seedPostgres(schema);
    log(
      `postgres: seeded ${int(EXECUTIONS)} executions and ${int(APPROVALS)} approvals in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    rows.push(...(await pageCases("PostgreSQL", storage)));
  } finally {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}
let status = null;
if (ONLY.has("status")) {
  const host = await startHost(new MemoryStorage(), true);
  const bare = await rps(`${host.url}/bare`, {});
  const st = await rps(`${host.url}/scheduler/status`, { authorization: `Bearer ${TOKEN}` });
  const bare2 = await rps(`${host.url}/bare`, {});
  status = {
    bare: {
      rps: (bare.rps + bare2.rps) / 2,
      p99: Math.max(bare.p99, bare2.p99),
      errors: bare.errors + bare2.errors,
    },
    status: st,
  };
  log(`GET /status: ${int(st.rps)} req/s (p99 ${st.p99} ms); bare route: ${int(status.bare.rps)} req/s`);
  await host.close();
}

// --- report ----------------------------------------------------------------------------------

const out = [];
if (rows.length) {
  out.push(
    `### API latency with ${int(EXECUTIONS)} executions stored (ms, sequential requests, lower is better)`,
    "",
  );
  out.push(
    "| storage | request | items | p50 | p99 | p99 < 50 ms | CPU per request (ms) |",
    "|---|---|--:|--:|--:|--:|--:|",
  );
  for (const r of rows) {
    out.push(
      `| ${r.storage} | ${r.label} | ${r.items} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.p99 < 50 ? "yes" : "NO"} | ${fmt(r.cpuMs)} |`,
    );
  }
  out.push("");
}
if (status) {
  out.push("### GET /status beside a bare Express route (autocannon, 10 connections, 5 s)", "");
  out.push("| route | requests/s | p99 (ms) | errors | share of the bare route |", "|---|--:|--:|--:|--:|");
  out.push(
    `| bare \`res.json({ ok: true })\` | ${int(status.bare.rps)} | ${status.bare.p99} | ${status.bare.errors} | 1.00x |`,
  );
  out.push(
    `| GET /scheduler/status (bearer token, 20 schedules) | ${int(status.status.rps)} | ${status.status.p99} | ${status.status.errors} | ${(status.status.rps / status.bare.rps).toFixed(2)}x |`,
  );
  out.push("");
}
const { loadavg, cpus } = await import("node:os");
out.push(
  `Machine: ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" / ")} at the end of the run.`,
  "",
);
process.stdout.write(`${out.join("\n")}\n`);
