import { join } from "node:path";
import { storageConformance } from "@tradecron/core/testing";
import Database from "better-sqlite3";
import { describe, it } from "vitest";
import { SqliteStorage } from "../src/index.js";
import { useTempDir } from "./helpers/sqlite.js";

const tempDir = useTempDir();

/** Runs a statement on the file through a connection of its own, as the sqlite3 shell would. */
function byHand(path: string, sql: string, ...params: unknown[]): void {
  const db = new Database(path);
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

storageConformance({ describe, it }, async () => {
  const path = join(tempDir(), "store.db");
  const open = () => new SqliteStorage({ path });
  return {
    storage: open(),
    reopen: async () => open(),
    // A person's UPDATE can store any integer where 0/1 belongs (read as false before: unpaused).
    corruptControl: async (storage) => {
      byHand(path, "UPDATE control SET paused_all = 2 WHERE id = 1");
      return storage;
    },
    corruptSchedule: async (storage, id) => {
      byHand(path, `UPDATE schedules SET retry = '"lots"' WHERE id = ?`, id);
      return storage;
    },
    corruptState: async (storage, id) => {
      byHand(path, "UPDATE schedule_state SET revision = -1 WHERE schedule_id = ?", id);
      return storage;
    },
  };
});
