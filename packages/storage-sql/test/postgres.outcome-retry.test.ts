/**
 * A run's outcome write that fails on PostgreSQL, with a second instance waiting to take over.
 * The failure is PostgreSQL's own: a trigger on the executions table raises on the first writes
 * of a final status (counted with a sequence, which a rolled-back transaction does not undo), so
 * the storage sees exactly what a failover, a full disk or a killed connection makes it see. The
 * runner retries the write within its lease; the fire must end recorded once, on the instance
 * that ran it, and the handler must not run again on the other one.
 */

import { type JobContext, Scheduler } from "@tradecron/core";
import { afterEach, describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { until } from "./helpers/children.js";
import { adminPool, dropSchema, PG_URL, uniqueSchema, usePostgres } from "./helpers/pg.js";

usePostgres();

const LEASE_MS = 1500;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Makes the first `failures` writes of a final status into `schema`.executions fail in PostgreSQL. */
async function failOutcomeWrites(schema: string, failures: number): Promise<void> {
  const q = (sql: string) => adminPool().query(sql);
  await q(`CREATE SEQUENCE "${schema}".outcome_failures`);
  await q(`CREATE FUNCTION "${schema}".fail_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.status IN ('succeeded', 'failed', 'timed_out') AND OLD.status = 'running'
         AND nextval('"${schema}".outcome_failures') <= ${failures} THEN
        RAISE EXCEPTION 'injected: the outcome write fails';
      END IF;
      RETURN NEW;
    END $$`);
  await q(`CREATE TRIGGER fail_outcome BEFORE UPDATE ON "${schema}".executions
    FOR EACH ROW EXECUTE FUNCTION "${schema}".fail_outcome()`);
}

describe("PostgresStorage: a failed outcome write, two instances", () => {
  it("retries the write within the lease: the fire is recorded once, and the other instance never runs it", async () => {
    const schema = uniqueSchema();
    cleanups.push(() => dropSchema(schema));
    const storageA = new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 2 });
    const storageB = new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 2 });
    cleanups.push(
      () => storageB.close(),
      () => storageA.close(),
    );
    const ran: { instance: string; attempt: number }[] = [];
    const job = (instance: string) => (ctx: JobContext) => {
      ran.push({ instance, attempt: ctx.fire.attempt });
    };
    const a = new Scheduler({ storage: storageA, instanceId: "a", leaseMs: LEASE_MS });
    const b = new Scheduler({ storage: storageB, instanceId: "b", leaseMs: LEASE_MS });
    cleanups.push(
      () => b.stop({ timeoutMs: 0 }),
      () => a.stop({ timeoutMs: 0 }),
    );
    const takenOver: string[] = [];
    a.on("fire:taken-over", (e) => takenOver.push(`a:${e.execution.scheduleId}`));
    b.on("fire:taken-over", (e) => takenOver.push(`b:${e.execution.scheduleId}`));
    a.register("job", job("a"));
    b.register("job", job("b"));
    await storageA.open();
    await failOutcomeWrites(schema, 2);
    // Only A arms it at first (B is not started yet), so A claims and runs it.
    await a.createSchedule({ id: "once", job: "job", trigger: { at: Date.now() + 400 } });
    await a.start();
    await until(() => ran.length > 0, 10_000, "A ran the fire");
    await b.start();
    const final = async () =>
      (
        await adminPool().query<{ status: string; instance_id: string; attempts: number }>(
          `SELECT status, instance_id, attempts FROM "${schema}".executions WHERE schedule_id = 'once'`,
        )
      ).rows;
    await until(async () => (await final())[0]?.status === "succeeded", 10_000, "the outcome recorded");
    // Past the lease: a fire whose outcome never landed would be taken over by B by now.
    await wait(LEASE_MS * 2);
    expect(await final()).toEqual([{ status: "succeeded", instance_id: "a", attempts: 1 }]);
    expect(ran).toEqual([{ instance: "a", attempt: 1 }]);
    expect(takenOver).toEqual([]);
    // Both injected failures were spent: the write was retried, not given up.
    const { rows } = await adminPool().query<{ last_value: string }>(
      `SELECT last_value FROM "${schema}".outcome_failures`,
    );
    expect(Number(rows[0]?.last_value)).toBeGreaterThanOrEqual(3);
  }, 30_000);
});
