// The consumer app that scripts/check-install.mjs runs in its scratch project, once with the
// packages loaded through ESM `import` (app.mjs) and once through CJS `require` (app.cjs): an
// Express server on a scheduler with FileStorage, SqliteStorage, and the proof that the storages
// and the app share one copy of core (its error classes pass `instanceof` across packages).
const assert = require("node:assert/strict");
const { once } = require("node:events");
const { mkdtempSync, rmSync, writeFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

/** Runs the app on `mods` (each package's module as the caller loaded it); resolves when it passed. */
async function runConsumerApp(mods, label) {
  const { express, core, testing, storageFs, storageSql } = mods;
  const { Decimal, Scheduler, StorageError, ValidationError } = core;
  const dir = mkdtempSync(join(tmpdir(), `tradecron-consumer-${label}-`));
  try {
    const storage = new storageFs.FileStorage({ dir: join(dir, "store") });
    const scheduler = new Scheduler({ storage });
    scheduler.register("ping", async () => ({ ok: true }));
    await assert.rejects(
      () => scheduler.createSchedule({ id: "bad", job: "ping", trigger: { cron: "61 * * * *" } }),
      ValidationError,
    );
    await scheduler.createSchedule({ id: "ping", job: "ping", trigger: { every: "1h" } });
    await scheduler.start();

    const app = express();
    app.get("/status", async (_req, res) => {
      res.json({ status: await scheduler.status(), health: await scheduler.health() });
    });
    const server = app.listen(0, "127.0.0.1");
    await once(server, "listening");
    const body = await (await fetch(`http://127.0.0.1:${server.address().port}/status`)).json();
    assert.equal(body.status.state, "running");
    assert.deepEqual(
      body.status.schedules.map((s) => s.id),
      ["ping"],
    );
    assert.ok(["healthy", "degraded", "unhealthy"].includes(body.health.status));
    server.close();

    // A folder that is not a store is refused with core's StorageError, thrown by storage-fs.
    writeFileSync(join(dir, "notes.txt"), "not a store");
    await assert.rejects(() => new storageFs.FileStorage({ dir }).listSchedules(), StorageError);
    await scheduler.stop();
    await storage.close();

    const sqlite = new storageSql.SqliteStorage({ path: join(dir, "tradecron.db") });
    await sqlite.open();
    const onSqlite = new Scheduler({ storage: sqlite, clock: new testing.TestClock("2026-01-05T14:30:00Z") });
    onSqlite.register("ping", async () => {});
    await onSqlite.createSchedule({
      id: "ping",
      job: "ping",
      trigger: { cron: "0 9 * * 1-5", timezone: "America/New_York" },
    });
    const [next] = await onSqlite.preview("ping", { count: 1 });
    assert.equal(next.iso, "2026-01-06T14:00:00.000Z");
    await sqlite.close();

    assert.equal(new Decimal("0.1").plus("0.2").toString(), "0.3");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`consumer app ok (${label})`);
}

module.exports = { runConsumerApp };
