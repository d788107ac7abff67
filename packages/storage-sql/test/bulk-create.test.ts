/**
 * `Scheduler.createSchedules` on the real SQL storages: the batch is one `insertSchedules` write
 * (all or none against a taken id, nothing armed then), validation names the index, and the fires
 * of a bulk-created batch run exactly once, also with two schedulers sharing one PostgreSQL.
 */

import { join } from "node:path";
import { type ScheduleInput, Scheduler, type Storage } from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { PostgresStorage, SqliteStorage } from "../src/index.js";
import { dropSchema, PG_URL, uniqueSchema, usePostgres } from "./helpers/pg.js";
import { useTempDir } from "./helpers/sqlite.js";

usePostgres();
const tempDir = useTempDir();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const T0 = "2026-01-05T14:30:00Z";

async function sqlite(): Promise<Storage[]> {
  const s = new SqliteStorage({ path: join(tempDir(), "store.db") });
  await s.open();
  cleanups.push(() => s.close());
  return [s];
}

/** Two storages (two "processes") on one fresh schema. */
async function postgres(): Promise<Storage[]> {
  const schema = uniqueSchema();
  const make = async () => {
    const s = new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 3 });
    await s.open();
    return s;
  };
  const a = await make();
  const b = await make();
  cleanups.push(async () => {
    await Promise.all([a.close(), b.close()]);
    await dropSchema(schema);
  });
  return [a, b];
}

function oneOffs(count: number, at: number, prefix = "p"): ScheduleInput[] {
  return Array.from({ length: count }, (_, i) => ({ id: `${prefix}${i}`, job: "noop", trigger: { at } }));
}

/** Advances the clock in steps, letting real I/O progress between them, until `done()`. */
async function until(clock: TestClock, done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) {
    await clock.advance(50);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  if (!done()) throw new Error(`timed out waiting for ${what}`);
}

describe.each([
  ["sqlite", sqlite],
  ["postgres", postgres],
])("%s: createSchedules", (_name, make) => {
  it("writes the batch all or none, and names bad inputs by their index", async () => {
    const [storage] = (await make()) as [Storage];
    const clock = new TestClock(T0);
    const scheduler = new Scheduler({ storage, clock, instanceId: "a", keepAlive: false });
    scheduler.register("noop", () => {});
    await scheduler.start();
    try {
      await scheduler.createSchedule({ id: "p3", job: "noop", trigger: { every: "1h" } });
      await expect(scheduler.createSchedules(oneOffs(6, clock.now() + 60_000))).rejects.toMatchObject({
        code: "SCHEDULE_EXISTS",
        details: { id: "p3" },
      });
      expect((await storage.listSchedules()).map((s) => s.id)).toEqual(["p3"]);
      expect((await scheduler.status()).schedules.map((s) => s.id)).toEqual(["p3"]);

      const bad = [
        ...oneOffs(2, clock.now() + 60_000, "q"),
        { id: "q2", job: "noop", trigger: { cron: "x" } },
      ];
      await expect(scheduler.createSchedules(bad)).rejects.toMatchObject({
        code: "INVALID_CRON",
        field: "[2].trigger.expression",
      });
      expect(await storage.listSchedules()).toHaveLength(1);

      const created = await scheduler.createSchedules(oneOffs(40, clock.now() + 60_000, "r"));
      expect(created).toHaveLength(40);
      expect((await storage.listSchedules()).map((s) => s.id).sort()).toEqual(
        ["p3", ...created.map((r) => r.id)].sort(),
      );
    } finally {
      await scheduler.stop({ timeoutMs: 0 });
    }
  });

  it("runs every fire of a bulk-created batch exactly once (on PostgreSQL: two schedulers sharing it)", async () => {
    const storages = await make();
    const clock = new TestClock(T0);
    const runs = new Map<string, number>();
    const schedulers = storages.map((storage, i) => {
      const s = new Scheduler({ storage, clock, instanceId: `i${i}`, keepAlive: false });
      s.register("noop", (ctx) => {
        runs.set(ctx.schedule.id, (runs.get(ctx.schedule.id) ?? 0) + 1);
      });
      return s;
    });
    await Promise.all(schedulers.map((s) => s.start()));
    try {
      const count = 200;
      await (schedulers[0] as Scheduler).createSchedules(oneOffs(count, clock.now() + 2_000));
      // The others learn of the batch through the storage's change notifications.
      for (const s of schedulers) {
        for (let i = 0; i < 500 && (await s.status()).schedules.length < count; i++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect((await s.status()).schedules).toHaveLength(count);
      }
      await until(clock, () => runs.size === count, "every fire to run");
      await Promise.all(schedulers.map((s) => s.stop({ timeoutMs: 5000 })));
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
      const all = await (schedulers[0] as Scheduler).listExecutions({ limit: 1000 });
      expect(all.items).toHaveLength(count);
      expect(all.items.every((e) => e.status === "succeeded")).toBe(true);
    } finally {
      await Promise.all(schedulers.map((s) => s.stop({ timeoutMs: 1000 })));
    }
  });
});
