/**
 * SqliteStorage prune batches and the fire path's commits: a batch does not join the transaction
 * of a write queued before it (a fire's claim does not wait for the DELETE), and its pages are
 * checkpointed by the worker thread (wal-checkpointer.ts), so the next commit on the event loop
 * starts a fresh WAL instead of carrying the batch's pages towards SQLite's autocheckpoint (which
 * would copy them inside a fire's COMMIT). Checked on the data and the WAL, not on timings.
 */

import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { makeExecution, makeSchedule } from "@tradecron/core/testing";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteStorage } from "../src/index.js";
import { useTempDir } from "./helpers/sqlite.js";

const tempDir = useTempDir();
const opened: SqliteStorage[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
});

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 1);

/** A file with `rows` old succeeded executions of schedule `history`, random ids (as the scheduler's). */
async function seeded(rows: number): Promise<string> {
  const path = join(tempDir(), "prune.db");
  const init = new SqliteStorage({ path });
  await init.open();
  await init.close();
  const db = new Database(path);
  const insert = db.prepare(
    `INSERT INTO executions (id, schedule_id, job, scheduled_at, kind, status, attempts, claimed_at,
      started_at, ended_at, instance_id, result, idempotency_key)
     VALUES (?, 'history', 'job', ?, 'scheduled', 'succeeded', 1, ?, ?, ?, 'seed', '{"ok":true}', ?)`,
  );
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const at = NOW - 60 * DAY + i * 1000;
      insert.run(randomUUID(), at, at, at, at + 5, `history@${at}`);
    }
  })();
  // Start the measured part with everything in the database file and an empty WAL.
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return path;
}

/** The WAL's length in pages, read on a side connection (a PASSIVE checkpoint reports it). */
function walPages(path: string): number {
  const side = new Database(path);
  try {
    const [row] = side.pragma("wal_checkpoint(PASSIVE)") as { log: number }[];
    return (row as { log: number }).log;
  } finally {
    side.close();
  }
}

/**
 * The storage's checkpoint worker (private, in its retention part: the test waits for the
 * checkpoint it was asked for).
 */
function checkpointerOf(storage: SqliteStorage) {
  return (
    storage as unknown as {
      retention: { checkpointer: { settled(): Promise<unknown>; checkpoints: number } | null };
    }
  ).retention.checkpointer;
}

describe("SqliteStorage prune and the WAL", () => {
  it("commits a claim queued before a prune batch without the batch: the claim does not wait for the DELETE", async () => {
    const path = await seeded(2000);
    const storage = new SqliteStorage({ path });
    opened.push(storage);
    await storage.open();
    const side = new Database(path, { readonly: true });
    const count = () =>
      (
        side.prepare("SELECT count(*) AS n FROM executions WHERE schedule_id = 'history'").get() as {
          n: number;
        }
      ).n;
    let leftWhenClaimed = -1;
    // Same turn, claim first (as a fire's claim and a batch the fire guard let through).
    const claim = storage
      .claimFire({ execution: makeExecution({ scheduleId: "live", scheduledAt: NOW }) })
      .then((result) => {
        leftWhenClaimed = count();
        return result;
      });
    const prune = storage.pruneExecutions({ scheduleId: "history", limit: 1000 });
    expect((await claim).claimed).toBe(true);
    expect(await prune).toBe(1000);
    // In one group the claim would have committed with the 1000 deletions.
    expect(leftWhenClaimed).toBe(2000);
    expect(count()).toBe(1000);
    side.close();
  });

  it("commits a prune batch without its fsync and puts synchronous = FULL back for the fire path", async () => {
    const path = await seeded(2000);
    const storage = new SqliteStorage({ path });
    opened.push(storage);
    await storage.open();
    const db = (storage as unknown as { conn: { db: Database.Database } }).conn.db;
    const modes: number[] = [];
    // The batch's DELETE runs inside the transaction the mode applies to: read it from there.
    const remove = db.prepare.bind(db);
    (db as unknown as { prepare: typeof db.prepare }).prepare = ((sql: string) => {
      const statement = remove(sql);
      if (!/^\s*DELETE/i.test(sql)) return statement;
      const run = statement.run.bind(statement);
      (statement as unknown as { run: typeof run }).run = ((...args: unknown[]) => {
        modes.push(db.pragma("synchronous", { simple: true }) as number);
        return run(...(args as []));
      }) as typeof run;
      return statement;
    }) as typeof db.prepare;
    expect(await storage.pruneExecutions({ scheduleId: "history", limit: 500 })).toBe(500);
    // 1 = NORMAL (no fsync at COMMIT in WAL mode), 2 = FULL.
    expect(modes).toEqual([1]);
    expect(db.pragma("synchronous", { simple: true })).toBe(2);
    await storage.insertSchedule(makeSchedule({ id: "after" }));
    expect(db.pragma("synchronous", { simple: true })).toBe(2);
    await storage.close();
    // Nothing of the batch is lost to a process exit: it is in the file for the next opener.
    const side = new Database(path, { readonly: true });
    const left = side.prepare("SELECT count(*) AS n FROM executions WHERE schedule_id = 'history'").get();
    side.close();
    expect(left).toEqual({ n: 1500 });
  });

  it("checkpoints a prune batch off the event loop: the next commit starts a fresh WAL", async () => {
    const path = await seeded(4000);
    const storage = new SqliteStorage({ path });
    opened.push(storage);
    await storage.open();
    const deleted = await storage.pruneExecutions({
      scheduleId: "history",
      before: NOW - 30 * DAY,
      limit: 1000,
    });
    expect(deleted).toBe(1000);
    const checkpointer = checkpointerOf(storage);
    expect(checkpointer).not.toBeNull();
    await checkpointer?.settled();
    expect(checkpointer?.checkpoints).toBeGreaterThanOrEqual(1);
    // One small write: with the batch already in the file, SQLite restarts the WAL for it.
    await storage.insertSchedule(makeSchedule({ id: "after" }));
    const pages = walPages(path);
    // The batch alone wrote hundreds of pages (1000 random primary-key entries); the write after
    // it a handful.
    expect(pages).toBeGreaterThan(0);
    expect(pages).toBeLessThan(20);
  });

  it("without a prune, commits leave the WAL to SQLite (no worker is started)", async () => {
    const path = await seeded(4000);
    const storage = new SqliteStorage({ path });
    opened.push(storage);
    await storage.open();
    // A prune that deletes nothing wrote nothing: no checkpoint to ask for.
    expect(await storage.pruneExecutions({ scheduleId: "history", before: NOW - 90 * DAY, limit: 100 })).toBe(
      0,
    );
    expect(checkpointerOf(storage)).toBeNull();
  });

  it("the WAL of a batch that was not checkpointed is still there (what the worker saves a commit)", async () => {
    // The reference the first test is measured against: the same batch committed by a plain
    // connection, then one small write, leaves the batch's pages in the WAL.
    const path = await seeded(4000);
    const db = new Database(path);
    db.pragma("wal_autocheckpoint = 0");
    db.prepare(
      `DELETE FROM executions WHERE id IN (SELECT id FROM executions WHERE schedule_id = 'history'
        ORDER BY scheduled_at LIMIT 1000)`,
    ).run();
    db.prepare(
      `DELETE FROM executions WHERE id IN (SELECT id FROM executions ORDER BY scheduled_at LIMIT 1)`,
    ).run();
    const pages = walPages(path);
    db.close();
    expect(pages).toBeGreaterThan(100);
  });

  it("prunes an in-memory database without a worker", async () => {
    const storage = new SqliteStorage({ path: ":memory:" });
    opened.push(storage);
    await storage.open();
    expect(await storage.pruneAudit({ before: NOW, limit: 10 })).toBe(0);
    expect(checkpointerOf(storage)).toBeNull();
  });

  it("ends the worker on close and prunes again after a reopen", async () => {
    const path = await seeded(2000);
    const storage = new SqliteStorage({ path });
    await storage.open();
    expect(await storage.pruneExecutions({ scheduleId: "history", limit: 500 })).toBe(500);
    await checkpointerOf(storage)?.settled();
    await storage.close();
    expect(checkpointerOf(storage)).toBeNull();
    const again = new SqliteStorage({ path });
    opened.push(again);
    await again.open();
    expect(await again.pruneExecutions({ scheduleId: "history", limit: 500 })).toBe(500);
  });
});
