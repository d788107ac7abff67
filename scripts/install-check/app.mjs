// An Express app on the installed tarballs (ESM), run by scripts/check-install.mjs in its scratch
// project: a scheduler on FileStorage behind a /status route, then SqliteStorage, then the proof
// that the storages and the app share one copy of core (its error classes pass `instanceof`).
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Decimal, Scheduler, StorageError } from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import { FileStorage } from "@tradecron/storage-fs";
import { SqliteStorage } from "@tradecron/storage-sql";
import express from "express";

const dir = mkdtempSync(join(tmpdir(), "tradecron-consumer-esm-"));
try {
  const storage = new FileStorage({ dir: join(dir, "store") });
  const scheduler = new Scheduler({ storage });
  scheduler.register("ping", async () => ({ ok: true }));
  await scheduler.createSchedule({ id: "ping", job: "ping", trigger: { every: "1h" } });
  await scheduler.start();

  const app = express();
  app.get("/status", async (_req, res) => {
    res.json(await scheduler.status());
  });
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  const status = await (await fetch(`http://127.0.0.1:${port}/status`)).json();
  assert.equal(status.state, "running");
  assert.deepEqual(
    status.schedules.map((s) => s.id),
    ["ping"],
  );
  server.close();

  // A folder that is not a store is refused with core's StorageError, thrown by storage-fs.
  writeFileSync(join(dir, "notes.txt"), "not a store");
  await assert.rejects(() => new FileStorage({ dir }).listSchedules(), StorageError);
  await scheduler.stop();
  await storage.close();

  const sqlite = new SqliteStorage({ path: join(dir, "tradecron.db") });
  await sqlite.open();
  const onSqlite = new Scheduler({ storage: sqlite, clock: new TestClock("2026-01-05T14:30:00Z") });
  onSqlite.register("ping", async () => {});
  await onSqlite.createSchedule({
    id: "ping",
    job: "ping",
    trigger: { cron: "0 9 * * 1-5", timezone: "America/New_York" },
  });
  assert.equal((await onSqlite.preview("ping", { count: 1 }))[0].iso, "2026-01-06T14:00:00.000Z");
  await sqlite.close();

  assert.equal(new Decimal("0.1").plus("0.2").toString(), "0.3");
  console.log("consumer app ok (esm)");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
