/**
 * SQLite specifics of approval groups: a file from before migration 4 ("approval groups") is
 * upgraded in place with its approvals intact, and a `group_id` damaged by hand is refused on read.
 */

import { join } from "node:path";
import { makeApproval } from "@tradecron/core/testing";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteStorage } from "../src/index.js";
import { SQLITE_MIGRATIONS } from "../src/sqlite/migrations.js";
import { sqliteNames } from "../src/sqlite/statements.js";
import { useTempDir } from "./helpers/sqlite.js";

const tempDir = useTempDir();
const opened: SqliteStorage[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
});

async function open(path: string): Promise<SqliteStorage> {
  const s = new SqliteStorage({ path });
  opened.push(s);
  await s.open();
  return s;
}

describe("SqliteStorage approval groups", () => {
  it("upgrades a version-1 file: old approvals read back unchanged, groups work after", async () => {
    const path = join(tempDir(), "old.db");
    const n = sqliteNames("");
    const db = new Database(path);
    const v1 = SQLITE_MIGRATIONS.find((m) => m.version === 1);
    db.exec(
      "CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT",
    );
    for (const statement of v1?.up(n) ?? []) db.exec(statement);
    db.prepare("INSERT INTO migrations VALUES (1, 'initial schema', 0)").run();
    const cols = db.prepare("SELECT name FROM pragma_table_info('approvals')").all() as { name: string }[];
    expect(cols.map((c) => c.name)).not.toContain("group_id");
    // A row written before groups existed.
    db.prepare(
      `INSERT INTO approvals (id, schedule_id, execution_id, fire_key, intent_index, client_order_id, intent,
        status, risk_level, created_at, expires_at) VALUES ('ap-old', 's', 'e', 'k', 0, 'tc-old', '{}', 'pending', 'low', 1, 2)`,
    ).run();
    db.close();
    const storage = await open(path);
    const old = await storage.getApproval("ap-old");
    expect(old).toMatchObject({ id: "ap-old", status: "pending", riskLevel: "low" });
    expect(old && "groupId" in old).toBe(false);
    const members = [0, 1].map((i) => makeApproval({ groupId: "apg-upgrade", intentIndex: i }));
    await storage.insertApprovals(members);
    const decided = await storage.transitionApprovalGroup("apg-upgrade", "pending", { status: "rejected" });
    expect(decided?.map((a) => a.status)).toEqual(["rejected", "rejected"]);
    expect((await storage.getApproval("ap-old"))?.status).toBe("pending");
  });

  it("refuses an approval whose group_id was damaged, naming it", async () => {
    const path = join(tempDir(), "damaged.db");
    const storage = await open(path);
    const a = makeApproval({ groupId: "apg-fine" });
    await storage.insertApprovals([a]);
    const db = new Database(path);
    db.prepare("UPDATE approvals SET group_id = ? WHERE id = ?").run("not a group id!", a.id);
    db.close();
    await expect(storage.getApproval(a.id)).rejects.toMatchObject({
      code: "STORAGE_CORRUPT",
      message: expect.stringContaining(a.id),
    });
  });
});
