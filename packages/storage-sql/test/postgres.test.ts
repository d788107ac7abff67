/**
 * PostgresStorage beyond the conformance suite: options, migrations (also two processes at once),
 * pools, reachability, isolation by prefix, the batched hot path, the indexes the hosts rely on,
 * and change notification (LISTEN/NOTIFY, its reconnect, and the polling fallback).
 */

import { randomBytes } from "node:crypto";
import { Scheduler, type StorageChange, StorageError, ValidationError } from "@tradecron/core";
import { makeApproval, makeAudit, makeExecution, makeSchedule } from "@tradecron/core/testing";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { PostgresStorage, type PostgresStorageOptions } from "../src/index.js";
import { PG_MIGRATIONS } from "../src/postgres/migrations.js";
import { listAuditSql, listExecutionsSql, pgNames } from "../src/postgres/statements.js";
import { requireBuilt, spawnChild, until } from "./helpers/children.js";
import { adminPool, dropSchema, PG_URL, uniqueSchema, usePostgres } from "./helpers/pg.js";

usePostgres();

const opened: { close(): Promise<void> }[] = [];
const schemas: string[] = [];

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
  for (const schema of schemas.splice(0)) await dropSchema(schema);
});

/** An opened storage in `schema` (a fresh one by default), closed and dropped after the test. */
async function store(options: Partial<PostgresStorageOptions> = {}): Promise<PostgresStorage> {
  const schema = options.schema ?? uniqueSchema();
  if (!schemas.includes(schema)) schemas.push(schema);
  const s = new PostgresStorage({ connectionString: PG_URL, poolSize: 4, ...options, schema });
  opened.push(s);
  await s.open();
  return s;
}

describe("PostgresStorage options", () => {
  it("rejects a schema name that is not a safe identifier, naming the option", () => {
    expect(() => new PostgresStorage({ connectionString: PG_URL, schema: 'x"; DROP TABLE t; --' })).toThrow(
      expect.objectContaining({ name: "ValidationError", field: "options.schema" }),
    );
  });

  it("rejects an unsafe table prefix, naming the option", () => {
    expect(() => new PostgresStorage({ connectionString: PG_URL, tablePrefix: "Tc-" })).toThrow(
      expect.objectContaining({ field: "options.tablePrefix" }),
    );
  });

  it("requires exactly one of a connection string and a pool", () => {
    const pool = new pg.Pool({ connectionString: PG_URL });
    expect(() => new PostgresStorage({ connectionString: PG_URL, pool })).toThrow(ValidationError);
    expect(() => new PostgresStorage({})).toThrow(
      expect.objectContaining({ field: "options.connectionString" }),
    );
    return pool.end();
  });
});

describe("PostgresStorage migrations", () => {
  it("migrates an empty database from two processes at once, exactly once", async () => {
    requireBuilt();
    const dbName = `tc_test_${randomBytes(6).toString("hex")}`;
    const url = new URL(PG_URL);
    url.pathname = `/${dbName}`;
    await adminPool().query(`CREATE DATABASE ${dbName}`);
    const holder = new pg.Client({ connectionString: url.toString() });
    try {
      await holder.connect();
      // Hold the migration lock so that both processes are provably inside their migration at
      // the same moment, waiting for it; then let them go together.
      const [k1, k2] = pgNames("tradecron", "").migrationLock;
      await holder.query("BEGIN");
      await holder.query("SELECT pg_advisory_xact_lock($1, $2)", [k1, k2]);
      const children = [1, 2].map((i) =>
        spawnChild(`migrator-${i}`, "open-child.mjs", {
          backend: "postgres",
          url: url.toString(),
          schema: "tradecron",
        }),
      );
      await until(
        async () => {
          // Asked from another session: inside the holder's transaction pg_stat_activity is a snapshot.
          const res = await adminPool().query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'advisory'",
            [dbName],
          );
          return res.rows[0].n === 2;
        },
        15_000,
        "both processes wait for the migration lock",
      );
      await holder.query("COMMIT");
      expect(await Promise.all(children.map((c) => c.exited))).toEqual([0, 0]);
      for (const c of children) expect(c.of("opened")).toHaveLength(1);
      const versions = await holder.query("SELECT version FROM tradecron.migrations ORDER BY version");
      expect(versions.rows).toEqual(PG_MIGRATIONS.map((m) => ({ version: m.version })));
      const tables = await holder.query(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'tradecron' ORDER BY tablename",
      );
      expect(tables.rows.map((r) => r.tablename).sort()).toEqual([
        "approvals",
        "audit",
        "control",
        "executions",
        "instances",
        "migrations",
        "orders",
        "schedule_state",
        "schedules",
      ]);
    } finally {
      await holder.end().catch(() => {});
      await adminPool().query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    }
  }, 30_000);

  it("opens an up-to-date schema again without migrating it twice", async () => {
    const first = await store();
    const second = await store({ schema: first.schema });
    await second.insertSchedule(makeSchedule({ id: "after-reopen" }));
    const rows = await adminPool().query(`SELECT version FROM "${first.schema}".migrations ORDER BY version`);
    expect(rows.rows).toEqual(PG_MIGRATIONS.map((m) => ({ version: m.version })));
  });

  it("refuses a schema migrated by a newer version with STORAGE_VERSION naming the table", async () => {
    const s = await store();
    await adminPool().query(
      `INSERT INTO "${s.schema}".migrations (version, name) VALUES (999, 'from the future')`,
    );
    const newer = new PostgresStorage({ connectionString: PG_URL, schema: s.schema });
    opened.push(newer);
    await expect(newer.open()).rejects.toMatchObject({
      name: "StorageError",
      code: "STORAGE_VERSION",
      message: expect.stringContaining(`${s.schema}.migrations`),
    });
  });
});

describe("PostgresStorage connections", () => {
  it("uses a pool it is given and leaves it open on close", async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
    try {
      const s = await store({ pool, connectionString: undefined });
      await s.insertSchedule(makeSchedule({ id: "pooled" }));
      await s.close();
      const res = await pool.query(`SELECT id FROM "${s.schema}".schedules`);
      expect(res.rows).toEqual([{ id: "pooled" }]);
    } finally {
      await pool.end();
    }
  });

  it("fails open() with a StorageError naming the cause when PostgreSQL is unreachable", async () => {
    const s = new PostgresStorage({ connectionString: "postgres://postgres@127.0.0.1:1/test" });
    opened.push(s);
    const error = await s.open().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({
      code: "STORAGE",
      message: expect.stringMatching(/^postgres: .*ECONNREFUSED/),
    });
  });
});

describe("PostgresStorage isolation and records", () => {
  it("keeps storages with different table prefixes in one schema apart", async () => {
    const plain = await store();
    const prefixed = await store({ schema: plain.schema, tablePrefix: "tc_" });
    await plain.insertSchedule(makeSchedule({ id: "plain" }));
    await prefixed.insertSchedule(makeSchedule({ id: "prefixed" }));
    const fire = makeExecution({ scheduledAt: 5000 });
    expect((await plain.claimFire({ execution: fire })).claimed).toBe(true);
    expect((await prefixed.claimFire({ execution: { ...fire, id: "other-id" } })).claimed).toBe(true);
    expect((await plain.listSchedules()).map((s) => s.id)).toEqual(["plain"]);
    expect((await prefixed.listSchedules()).map((s) => s.id)).toEqual(["prefixed"]);
    const tables = await adminPool().query(
      "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'tc\\_%' ORDER BY 1",
      [plain.schema],
    );
    expect(tables.rows.map((r) => r.tablename)).toContain("tc_executions");
  });

  it("keeps record fields it has no column for", async () => {
    const s = await store();
    const schedule = { ...makeSchedule({ id: "future" }), marketHoursOnly: true, calendar: "XNYS" };
    await s.insertSchedule(schedule);
    expect(await s.getSchedule("future")).toEqual(schedule);
    const e = { ...makeExecution(), marketSession: { open: 1, close: 2 } };
    await s.claimFire({ execution: e });
    expect(await s.getExecution(e.id)).toEqual(e);
  });

  it("applies only the fields a holder may change: a stray scheduleId in a patch does not move the fire", async () => {
    const s = await store();
    const e = makeExecution();
    await s.claimFire({ execution: e });
    const patch = { status: "succeeded", scheduleId: "elsewhere", note: "x" } as never;
    expect(await s.updateExecution(e.id, e.instanceId, patch)).toEqual({ ...e, status: "succeeded" });
    expect(await s.findExecution("elsewhere", e.scheduledAt)).toBeNull();
  });
});

describe("PostgresStorage hot path", () => {
  it("gives each of 1,000 fires claimed twice in one burst exactly one winner", async () => {
    const s = await store();
    const claims = Array.from({ length: 2000 }, (_, i) =>
      s.claimFire({
        execution: makeExecution({ scheduledAt: 1_000_000 + (i % 1000), instanceId: `i-${i}` }),
      }),
    );
    const results = await Promise.all(claims);
    const winners = new Map<number, string>();
    for (const r of results) {
      if (r.claimed) {
        expect(winners.has(r.execution.scheduledAt)).toBe(false);
        winners.set(r.execution.scheduledAt, r.execution.id);
      }
    }
    expect(winners.size).toBe(1000);
    for (const r of results) if (!r.claimed) expect(r.existing.id).toBe(winners.get(r.existing.scheduledAt));
  });

  it("fails only the claim that reuses an execution id, not the others of its batch", async () => {
    const s = await store();
    const first = makeExecution();
    await s.claimFire({ execution: first });
    const others = Array.from({ length: 5 }, () => makeExecution());
    const outcomes = await Promise.allSettled([
      ...others.map((execution) => s.claimFire({ execution })),
      s.claimFire({ execution: { ...makeExecution(), id: first.id } }),
    ]);
    expect(outcomes.slice(0, 5).map((o) => o.status)).toEqual(Array(5).fill("fulfilled"));
    expect(outcomes[5]).toMatchObject({
      status: "rejected",
      reason: { name: "ConflictError", code: "CONFLICT" },
    });
  });

  it("applies two updates of one execution made in the same turn in call order", async () => {
    const s = await store();
    const e = makeExecution();
    await s.claimFire({ execution: e });
    const [retry, done] = await Promise.all([
      s.updateExecution(e.id, e.instanceId, { attempts: 2 }),
      s.updateExecution(e.id, e.instanceId, { status: "succeeded", endedAt: 9, leaseExpiresAt: null }),
    ]);
    expect(retry?.attempts).toBe(2);
    expect(done).toMatchObject({ attempts: 2, status: "succeeded", endedAt: 9, leaseExpiresAt: null });
  });
});

describe("PostgresStorage indexes", () => {
  it("serves the hosts' queries (history, pending count, audit) from indexes", async () => {
    const s = await store();
    const statuses = ["succeeded", "failed", "running", "skipped"] as const;
    for (let i = 0; i < 400; i++) {
      await s.claimFire({
        execution: makeExecution({
          scheduleId: `s-${i % 7}`,
          scheduledAt: 2_000_000 + i * 1000,
          status: statuses[i % 4],
        }),
      });
    }
    await s.insertApprovals(
      Array.from({ length: 200 }, (_, i) => makeApproval({ status: i % 3 ? "approved" : "pending" })),
    );
    for (let i = 0; i < 500; i++)
      await s.appendAudit(makeAudit({ actor: `actor-${i % 50}`, at: 3_000_000 + i }));
    const n = pgNames(s.schema, "");
    const idx = (name: string) => n.index(name).replaceAll('"', "");
    const plan = async (text: string, values: unknown[]): Promise<string> => {
      const client = await adminPool().connect();
      try {
        await client.query(`ANALYZE "${s.schema}".executions, "${s.schema}".approvals, "${s.schema}".audit`);
        await client.query("BEGIN");
        // Small tables may be cheaper to scan; forbid that to see which index the planner has.
        await client.query("SET LOCAL enable_seqscan = off");
        const res = await client.query(`EXPLAIN (FORMAT JSON) ${text}`, values);
        await client.query("ROLLBACK");
        return JSON.stringify(res.rows[0]);
      } finally {
        client.release();
      }
    };
    const page = await s.listExecutions({ scheduleId: "s-3", limit: 5 });
    const bySchedule = listExecutionsSql(n, { scheduleId: "s-3", cursor: page.nextCursor }, 5);
    expect(await plan(bySchedule.text, bySchedule.values)).toContain(idx("executions_fire_key"));
    const byStatus = listExecutionsSql(n, { status: "failed" }, 20);
    expect(await plan(byStatus.text, byStatus.values)).toContain(idx("executions_status_idx"));
    const byTime = listExecutionsSql(n, { from: 2_100_000, to: 2_200_000 }, 20);
    expect(await plan(byTime.text, byTime.values)).toContain(idx("executions_time_idx"));
    const active = `SELECT * FROM ${n.executions} WHERE schedule_id = ANY($1::text[]) AND status IN ('claimed', 'running')`;
    expect(await plan(active, [["s-1"]])).toContain(idx("executions_active_idx"));
    // The pending count: the status index, or the partial index that holds exactly the pending ones.
    const pending = await plan(`SELECT count(*) FROM ${n.approvals} WHERE status = $1`, ["pending"]);
    expect(pending).toMatch(new RegExp(`${idx("approvals_status_idx")}|${idx("approvals_expiry_idx")}`));
    const byActor = listAuditSql(n, { actor: "actor-2" }, 20);
    expect(await plan(byActor.text, byActor.values)).toContain(idx("audit_actor_idx"));
    const auditWindow = listAuditSql(n, { from: 3_000_100, to: 3_000_150 }, 20);
    expect(await plan(auditWindow.text, auditWindow.values)).toMatch(
      new RegExp(`${idx("audit_time_idx")}|${idx("audit_pkey")}`),
    );
    expect(await s.countApprovals("pending")).toBe(67);
  }, 30_000);
});

describe("PostgresStorage change notification", () => {
  /** Two started schedulers on two storages (two pools) over one schema. */
  async function pair(options: Partial<PostgresStorageOptions> = {}, syncIntervalMs = 1000) {
    const one = await store(options);
    const two = await store({ ...options, schema: one.schema });
    const a = new Scheduler({ storage: one, instanceId: "a", syncIntervalMs });
    const b = new Scheduler({ storage: two, instanceId: "b", syncIntervalMs });
    for (const s of [a, b]) s.register("job", () => {});
    await a.start();
    await b.start();
    opened.push({ close: () => a.stop() }, { close: () => b.stop() });
    // Only once b's LISTEN is up do changes reach it by notification.
    if (two.watch) await until(() => two.listening, 5000, "b is listening");
    return { a, b };
  }

  async function within(
    ms: number,
    condition: () => Promise<boolean> | boolean,
    what: string,
  ): Promise<number> {
    const started = Date.now();
    await until(condition, ms, what, 10);
    return Date.now() - started;
  }

  async function propagates(a: Scheduler, b: Scheduler): Promise<void> {
    const yearly = { cron: "0 0 1 1 *" };
    await a.createSchedule({ id: "new", job: "job", trigger: yearly });
    await within(
      1000,
      async () => (await b.status()).schedules.some((s) => s.id === "new"),
      "b knows the new schedule",
    );
    await a.pauseSchedule("new");
    await within(
      1000,
      async () => (await b.status()).schedules.find((s) => s.id === "new")?.paused === true,
      "b sees it paused",
    );
    await a.pauseAll({ actor: "test" });
    await within(1000, () => b.pausedAll, "b sees pause-all");
    await a.resumeAll({ actor: "test" });
    await within(1000, () => !b.pausedAll, "b sees resume-all");
  }

  it("brings schedule changes and pause-all from one instance to another within 1 s by LISTEN/NOTIFY", async () => {
    const { a, b } = await pair({}, 60_000); // polling every minute: only notifications can be in time
    await propagates(a, b);
  });

  it("falls back to polling when notifications are off, still within 1 s", async () => {
    const { a, b } = await pair({ notify: false }, 200);
    expect(b.storage.watch).toBeUndefined();
    await propagates(a, b);
  });

  it("reports the changes made while its LISTEN connection was down, deletions included", async () => {
    const appName = `tc-test-${randomBytes(4).toString("hex")}`;
    const watcher = await store({ applicationName: appName, pollIntervalMs: 5000 });
    const writer = await store({ schema: watcher.schema });
    await writer.insertSchedule(makeSchedule({ id: "doomed" }));
    const seen: StorageChange[] = [];
    const stop = watcher.watch?.((c) => seen.push(c));
    try {
      await until(() => watcher.listening, 5000, "the watcher is listening");
      await adminPool().query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        [`${appName}:listen`],
      );
      await until(() => !watcher.listening, 5000, "the LISTEN connection is gone");
      await writer.insertSchedule(makeSchedule({ id: "during-outage" }));
      await writer.deleteSchedule("doomed");
      await writer.setControl({ pausedAll: true, pausedAt: 1, pausedBy: "x", reason: null, revision: 7 });
      await until(
        () =>
          ["during-outage", "doomed"].every((id) => seen.some((c) => c.type === "schedule" && c.id === id)) &&
          seen.some((c) => c.type === "control"),
        5000,
        `the changes made during the outage are reported (saw ${JSON.stringify(seen)})`,
      );
      await until(() => watcher.listening, 5000, "the watcher listens again");
      await writer.insertSchedule(makeSchedule({ id: "after-reconnect" }));
      await until(
        () => seen.some((c) => c.type === "schedule" && c.id === "after-reconnect"),
        2000,
        "notifications flow again",
      );
    } finally {
      stop?.();
    }
  });
});
