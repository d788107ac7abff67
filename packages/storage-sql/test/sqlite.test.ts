/**
 * SqliteStorage beyond the conformance suite: options, file handling (WAL, foreign files,
 * versions, locks), migrations from two processes at once, durability of acknowledged writes
 * under kill -9, indexes, and two scheduler processes sharing one file.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fireIdempotencyKey, Scheduler, ValidationError } from "@tradecron/core";
import { makeApproval, makeAudit, makeExecution, makeSchedule } from "@tradecron/core/testing";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteStorage, type SqliteStorageOptions } from "../src/index.js";
import { SQLITE_MIGRATIONS } from "../src/sqlite/migrations.js";
import { listAuditSql, listExecutionsSql, sqliteNames } from "../src/sqlite/statements.js";
import { type Child, requireBuilt, spawnChild, until } from "./helpers/children.js";
import { useTempDir } from "./helpers/sqlite.js";

const tempDir = useTempDir();
const opened: { close(): Promise<void> }[] = [];
const children: Child[] = [];

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
  for (const c of children.splice(0)) if (c.process.exitCode === null) c.process.kill("SIGKILL");
});

async function store(options: Partial<SqliteStorageOptions> = {}): Promise<SqliteStorage> {
  const s = new SqliteStorage({ path: join(tempDir(), "store.db"), ...options });
  opened.push(s);
  await s.open();
  return s;
}

describe("SqliteStorage options", () => {
  it("rejects an unsafe table prefix and a missing path, naming the option", () => {
    expect(() => new SqliteStorage({ path: "x.db", tablePrefix: 'a"; DROP' })).toThrow(
      expect.objectContaining({ name: "ValidationError", field: "options.tablePrefix" }),
    );
    expect(() => new SqliteStorage({} as SqliteStorageOptions)).toThrow(ValidationError);
  });
});

describe("SqliteStorage files", () => {
  it("switches the file to WAL journaling", async () => {
    const s = await store();
    const db = new Database(s.path, { readonly: true });
    try {
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    } finally {
      db.close();
    }
  });

  it("refuses a file that is not a SQLite database with STORAGE_CORRUPT naming it, and leaves it alone", async () => {
    const path = join(tempDir(), "notes.txt");
    const content = "these are my notes, not a database\n".repeat(200);
    writeFileSync(path, content);
    const s = new SqliteStorage({ path });
    opened.push(s);
    await expect(s.open()).rejects.toMatchObject({
      name: "StorageError",
      code: "STORAGE_CORRUPT",
      message: expect.stringContaining(path),
    });
    expect(readFileSync(path, "utf8")).toBe(content);
  });

  it("refuses a file migrated by a newer version with STORAGE_VERSION", async () => {
    const s = await store();
    await s.close();
    const db = new Database(s.path);
    db.prepare("INSERT INTO migrations (version, name, applied_at) VALUES (999, 'future', 0)").run();
    db.close();
    const again = new SqliteStorage({ path: s.path });
    opened.push(again);
    await expect(again.open()).rejects.toMatchObject({
      code: "STORAGE_VERSION",
      message: expect.stringContaining("999"),
    });
  });

  it("fails a write with STORAGE_LOCKED, naming the file, when another connection holds the lock too long", async () => {
    const s = await store({ busyTimeoutMs: 50 });
    const other = new Database(s.path);
    other.exec("BEGIN IMMEDIATE");
    try {
      await expect(s.insertSchedule(makeSchedule({ id: "blocked" }))).rejects.toMatchObject({
        code: "STORAGE_LOCKED",
        message: expect.stringContaining(s.path),
      });
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    await s.insertSchedule(makeSchedule({ id: "later" }));
    expect(await s.getSchedule("later")).not.toBeNull();
  });

  it("keeps storages with different table prefixes in one file apart", async () => {
    const plain = await store();
    const prefixed = await store({ path: plain.path, tablePrefix: "tc_" });
    await plain.insertSchedule(makeSchedule({ id: "plain" }));
    await prefixed.insertSchedule(makeSchedule({ id: "prefixed" }));
    expect((await plain.listSchedules()).map((s) => s.id)).toEqual(["plain"]);
    expect((await prefixed.listSchedules()).map((s) => s.id)).toEqual(["prefixed"]);
  });

  it("keeps record fields it has no column for", async () => {
    const s = await store();
    const schedule = { ...makeSchedule({ id: "future" }), marketHoursOnly: true };
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
    const patch = { status: "failed", scheduleId: "elsewhere", note: "x" } as never;
    expect(await s.updateExecution(e.id, e.instanceId, patch)).toEqual({ ...e, status: "failed" });
    expect(await s.findExecution("elsewhere", e.scheduledAt)).toBeNull();
  });

  it("fails closed when the control row was deleted by hand, and writes it again on setControl", async () => {
    const s = await store();
    const db = new Database(s.path);
    db.prepare("DELETE FROM control").run();
    db.close();
    // Before: a missing row read as "not paused", and setControl (an UPDATE) silently did nothing.
    await expect(s.getControl()).rejects.toMatchObject({ code: "STORAGE_CORRUPT" });
    expect(s.issues()).toEqual([expect.objectContaining({ subject: "control", kind: "invalid" })]);
    const control = { pausedAll: true, pausedAt: 5, pausedBy: "alice", reason: "restored", revision: 9 };
    await s.setControl(control);
    expect(await s.getControl()).toEqual(control);
    expect(s.issues()).toEqual([]);
  });

  it("leaves out a schedule row that is not valid JSON any more, and names it", async () => {
    const s = await store();
    await s.insertSchedule(makeSchedule({ id: "ok" }));
    await s.insertSchedule(makeSchedule({ id: "cut" }));
    const db = new Database(s.path);
    db.prepare("UPDATE schedules SET misfire = '{\"policy\":' WHERE id = 'cut'").run();
    db.close();
    expect((await s.listSchedules()).map((r) => r.id)).toEqual(["ok"]);
    await expect(s.getSchedule("cut")).rejects.toMatchObject({ code: "STORAGE_CORRUPT" });
    expect(s.issues()).toEqual([
      expect.objectContaining({ subject: "schedule", id: "cut", kind: "invalid" }),
    ]);
  });
});

describe("SqliteStorage with several processes", () => {
  it("migrates a new file from two processes at once", async () => {
    requireBuilt();
    // Several rounds: the window in which both processes switch a new file to WAL is short.
    for (let round = 0; round < 10; round++) {
      const path = join(tempDir(), "race.db");
      const racers = [1, 2].map((i) =>
        spawnChild(`migrator-${i}`, "open-child.mjs", { backend: "sqlite", path, waitForGo: true }),
      );
      children.push(...racers);
      await Promise.all(racers.map((c) => c.waitFor("ready", 15_000)));
      for (const c of racers) c.send({ type: "go" });
      await Promise.all(racers.map((c) => c.exited));
      expect(racers.flatMap((c) => c.of("failed"))).toEqual([]);
      expect(racers.flatMap((c) => c.of("opened"))).toHaveLength(2);
      const db = new Database(path, { readonly: true });
      try {
        expect(db.prepare("SELECT version FROM migrations").all()).toEqual(
          SQLITE_MIGRATIONS.map((m) => ({ version: m.version })),
        );
      } finally {
        db.close();
      }
    }
  }, 60_000);

  it("keeps every acknowledged claim when the writer is killed with -9", async () => {
    requireBuilt();
    const path = join(tempDir(), "durable.db");
    const writer = spawnChild("writer", "claim-writer.mjs", { path });
    children.push(writer);
    await until(() => writer.of("acked").length >= 30, 20_000, "3,000 claims acknowledged");
    writer.process.kill("SIGKILL");
    await writer.exited;
    const acked = writer.of("acked").flatMap((m) => m.ids as (string | null)[]);
    expect(acked.every((id) => id !== null)).toBe(true);
    const s = await store({ path });
    const missing: string[] = [];
    for (const id of acked) if (!(await s.getExecution(id as string))) missing.push(id as string);
    expect(missing).toEqual([]);
  }, 30_000);

  it("runs every fire exactly once with two scheduler processes on one file", async () => {
    requireBuilt();
    const path = join(tempDir(), "shared.db");
    const storage = await store({ path });
    const side = new Database(path);
    side.exec(`CREATE TABLE side_effects (idempotency_key TEXT NOT NULL, schedule_id TEXT NOT NULL,
      scheduled_at INTEGER NOT NULL, instance TEXT NOT NULL, attempt INTEGER NOT NULL, phase TEXT NOT NULL,
      at INTEGER NOT NULL)`);
    const admin = new Scheduler({ storage, instanceId: "test-admin" });
    admin.register("tick", () => {});
    admin.register("once", () => {});
    const pair = ["instance-a", "instance-b"].map((name) =>
      spawnChild(name, "scheduler-child.mjs", {
        backend: "sqlite",
        path,
        instanceId: name,
        leaseMs: 3000,
        jobs: { tick: 20, once: 200 },
      }),
    );
    children.push(...pair);
    await Promise.all(pair.map((c) => c.waitFor("started", 15_000)));
    const base = Date.now();
    const onceAt = (i: number) => base + 1500 + i * 250;
    await admin.createSchedule({
      id: "tick",
      job: "tick",
      trigger: { cron: "* * * * * *" },
      overlap: "allow",
    });
    for (let i = 0; i < 40; i++)
      await admin.createSchedule({ id: `once-${i}`, job: "once", trigger: { at: onceAt(i) } });
    await until(() => Date.now() > onceAt(39) + 1000, 20_000, "the last one-off is due", 100);
    await admin.pauseAll({ actor: "test" });
    await Promise.all(pair.map((c) => c.waitFor("paused-all", 5000)));
    await until(
      async () =>
        (await storage.listExecutions({ status: ["claimed", "running"], limit: 1 })).items.length === 0,
      10_000,
      "every claimed fire finishes",
    );
    for (const c of pair) c.process.kill("SIGTERM");
    expect(await Promise.all(pair.map((c) => c.exited))).toEqual([0, 0]);
    expect(pair.flatMap((c) => c.of("error"))).toEqual([]);

    const effects = side
      .prepare("SELECT idempotency_key AS key, instance FROM side_effects WHERE phase = 'effect'")
      .all() as { key: string; instance: string }[];
    side.close();
    const count = new Map<string, number>();
    for (const e of effects) count.set(e.key, (count.get(e.key) ?? 0) + 1);
    expect([...count].filter(([, n]) => n !== 1)).toEqual([]);
    for (let i = 0; i < 40; i++) expect(count.get(fireIdempotencyKey(`once-${i}`, onceAt(i)))).toBe(1);
    const ticks = (await storage.listExecutions({ scheduleId: "tick", limit: 1000 })).items;
    expect(ticks.every((t) => t.status === "succeeded")).toBe(true);
    expect(ticks.length).toBeGreaterThanOrEqual(10);
    const instants = ticks.map((t) => t.scheduledAt).sort((x, y) => x - y);
    expect(instants.filter((t, i) => i > 0 && t - (instants[i - 1] as number) !== 1000)).toEqual([]);
    for (const t of instants) expect(count.get(fireIdempotencyKey("tick", t))).toBe(1);
    expect(new Set(effects.map((e) => e.instance)).size).toBe(2);
  }, 60_000);
});

describe("SqliteStorage indexes", () => {
  it("serves the hosts' queries (history, pending count, audit) from indexes", async () => {
    const s = await store();
    for (let i = 0; i < 200; i++) {
      await s.claimFire({ execution: makeExecution({ scheduleId: `s-${i % 7}`, scheduledAt: 1_000 + i }) });
    }
    await s.insertApprovals(Array.from({ length: 50 }, () => makeApproval()));
    for (let i = 0; i < 100; i++) await s.appendAudit(makeAudit({ actor: `actor-${i % 20}`, at: 5_000 + i }));
    await s.close();
    const db = new Database(s.path, { readonly: true });
    const n = sqliteNames("");
    const plan = (text: string, values: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...values) as { detail: string }[])
        .map((r) => r.detail)
        .join("; ");
    try {
      const bySchedule = listExecutionsSql(n, { scheduleId: "s-1" }, 10);
      expect(plan(bySchedule.text, bySchedule.values)).toMatch(/USING INDEX executions_fire_key/);
      const byStatus = listExecutionsSql(n, { status: "failed" }, 10);
      expect(plan(byStatus.text, byStatus.values)).toMatch(/USING (COVERING )?INDEX executions_status_idx/);
      const byTime = listExecutionsSql(n, { from: 1_050, to: 1_100 }, 10);
      expect(plan(byTime.text, byTime.values)).toMatch(/USING (COVERING )?INDEX executions_time_idx/);
      expect(plan(`SELECT count(*) FROM ${n.approvals} WHERE status = ?`, ["pending"])).toMatch(
        /USING COVERING INDEX approvals_(status|expiry)_idx/,
      );
      const byActor = listAuditSql(n, { actor: "actor-3" }, 10);
      expect(plan(byActor.text, byActor.values)).toMatch(/USING (COVERING )?INDEX audit_actor_idx/);
      const active = `SELECT * FROM ${n.executions} WHERE schedule_id = ? AND status IN ('claimed', 'running')`;
      expect(plan(active, ["s-1"])).toMatch(/USING INDEX executions_active_idx/);
    } finally {
      db.close();
    }
  });
});
