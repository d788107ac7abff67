// The same consumer in CommonJS (run by scripts/check-install.mjs): require() of every package,
// a scheduler on FileStorage behind Express, and core's error classes shared with the storage.
const assert = require("node:assert/strict");
const { once } = require("node:events");
const { mkdtempSync, rmSync, writeFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const express = require("express");
const { Decimal, Scheduler, StorageError, ValidationError } = require("@tradecron/core");
const { FileStorage } = require("@tradecron/storage-fs");
const { SqliteStorage } = require("@tradecron/storage-sql");

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "tradecron-consumer-cjs-"));
  try {
    const storage = new FileStorage({ dir: join(dir, "store") });
    const scheduler = new Scheduler({ storage });
    scheduler.register("ping", async () => ({ ok: true }));
    await assert.rejects(
      () => scheduler.createSchedule({ id: "bad", job: "ping", trigger: { cron: "61 * * * *" } }),
      ValidationError,
    );
    await scheduler.createSchedule({ id: "ping", job: "ping", trigger: { every: "1h" } });
    await scheduler.start();
    const app = express();
    app.get("/health", async (_req, res) => {
      res.json(await scheduler.health());
    });
    const server = app.listen(0, "127.0.0.1");
    await once(server, "listening");
    const health = await (await fetch(`http://127.0.0.1:${server.address().port}/health`)).json();
    assert.ok(["healthy", "degraded", "unhealthy"].includes(health.status));
    server.close();
    writeFileSync(join(dir, "notes.txt"), "not a store");
    await assert.rejects(() => new FileStorage({ dir }).listSchedules(), StorageError);
    await scheduler.stop();
    await storage.close();
    const sqlite = new SqliteStorage({ path: join(dir, "tradecron.db") });
    await sqlite.open();
    await new Scheduler({ storage: sqlite }).listSchedules();
    await sqlite.close();
    assert.equal(new Decimal("0.1").plus("0.2").toString(), "0.3");
    console.log("consumer app ok (cjs)");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
