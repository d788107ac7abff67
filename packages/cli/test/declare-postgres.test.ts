/**
 * declareSchedules on PostgreSQL: two schedulers, each with its own pool on one schema, declare
 * the same set at the same moment. One set, one revision each, one audit entry per create, no
 * error; then both roll out the same change: one update each.
 */

import { declareSchedules, type ScheduleInput, Scheduler } from "@tradecron/core";
import { PostgresStorage } from "@tradecron/storage-sql";
import { afterEach, describe, expect, it } from "vitest";
import { dropSchema, PG_URL, uniqueSchema, usePostgres } from "./helpers.js";

usePostgres();

const SCHEDULES: ScheduleInput[] = Array.from({ length: 20 }, (_, i) => ({
  id: `s${String(i).padStart(2, "0")}`,
  job: "noop",
  trigger: i % 2 ? { every: `${30 + i}s` } : { cron: `${i} 16 * * 1-5`, timezone: "Europe/London" },
  retry: { attempts: 3, backoff: { baseMs: "60s", factor: 2 } },
}));

const schemas: string[] = [];
afterEach(async () => {
  for (const s of schemas.splice(0)) await dropSchema(s);
});

function instance(schema: string, id: string) {
  const storage = new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 4, warmConnections: 0 });
  const scheduler = new Scheduler({ storage, instanceId: id });
  scheduler.register("noop", () => {});
  const conflicts: string[] = [];
  const insert = storage.insertSchedule.bind(storage);
  storage.insertSchedule = async (record) => {
    try {
      await insert(record);
    } catch (error) {
      conflicts.push((error as { code: string }).code);
      throw error;
    }
  };
  return { storage, scheduler, conflicts };
}

describe("declareSchedules on PostgreSQL", () => {
  it("two instances declaring at once write one set, one revision each", async () => {
    const schema = uniqueSchema();
    schemas.push(schema);
    const a = instance(schema, "a");
    const b = instance(schema, "b");
    await Promise.all([a.storage.open(), b.storage.open()]);
    try {
      const [ra, rb] = await Promise.all([
        declareSchedules(a.scheduler, SCHEDULES, { actor: "a" }),
        declareSchedules(b.scheduler, SCHEDULES, { actor: "b" }),
      ]);
      const ids = SCHEDULES.map((s) => s.id as string);
      expect([...ra.created, ...rb.created].sort()).toEqual(ids);
      expect([...ra.unchanged, ...rb.unchanged].sort()).toEqual(ids);
      expect([...a.conflicts, ...b.conflicts]).toContain("SCHEDULE_EXISTS"); // they did race
      const stored = await a.scheduler.listSchedules();
      expect(stored.map((s) => s.revision)).toEqual(ids.map(() => 1));
      // Created together (createSchedules): the winner's batch entries list every id once.
      const creates = await a.scheduler.listAudit({ action: "schedule.create_batch", limit: 1000 });
      expect(creates.items.flatMap((e) => (e.details as { ids: string[] }).ids).sort()).toEqual(
        [...ids].sort(),
      );

      const v2 = SCHEDULES.map((s) => ({ ...s, description: "v2" }));
      const [ua, ub] = await Promise.all([
        declareSchedules(a.scheduler, v2),
        declareSchedules(b.scheduler, v2),
      ]);
      expect([...ua.updated, ...ub.updated].sort()).toEqual(ids);
      expect((await b.scheduler.listSchedules()).map((s) => [s.revision, s.description])).toEqual(
        ids.map(() => [2, "v2"]),
      );
      const again = await declareSchedules(a.scheduler, v2);
      expect(again.unchanged).toEqual(ids);
      expect((await a.scheduler.listAudit({ action: "schedule.update", limit: 1000 })).items).toHaveLength(
        ids.length,
      );
    } finally {
      await Promise.all([a.storage.close(), b.storage.close()]);
    }
  });
});
