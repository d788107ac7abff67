/**
 * Fires claimed ahead of their instant on PostgreSQL (core's `claimAheadMs`, one instance alone
 * on the database): a group is claimed before its instant and started at it; a stop() between
 * the claim and the instant releases every claim in the database, and the instance that comes
 * next runs each fire once, never before its instant. Real time, real SQL.
 */

import { Scheduler } from "@tradecron/core";
import { afterEach, describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { until } from "./helpers/children.js";
import { adminPool, dropSchema, PG_URL, uniqueSchema, usePostgres } from "./helpers/pg.js";

usePostgres();

const FIRES = 100;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

function storage(schema: string): PostgresStorage {
  const s = new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 4 });
  cleanups.push(() => s.close());
  return s;
}

/** The executions in `schema`, straight from the table. */
async function rows(schema: string): Promise<{ status: string; instance_id: string }[]> {
  const { rows: found } = await adminPool().query(`SELECT status, instance_id FROM "${schema}".executions`);
  return found;
}

describe("PostgreSQL: fires claimed ahead", () => {
  it("a group is claimed before its instant and each fire starts at it, once", async () => {
    const schema = uniqueSchema();
    cleanups.push(() => dropSchema(schema));
    const a = new Scheduler({ storage: storage(schema), instanceId: "a", claimAheadMs: 300 });
    const started: number[] = [];
    a.register("job", () => {
      started.push(Date.now());
    });
    cleanups.push(() => a.stop({ timeoutMs: 0 }));
    await a.start();
    const T = Date.now() + 1500;
    await a.createSchedules(
      Array.from({ length: FIRES }, (_, i) => ({ id: `s${i}`, job: "job", trigger: { at: T } })),
    );
    await until(async () => (await rows(schema)).length === FIRES, 5000, "the group claimed");
    expect(Date.now()).toBeLessThan(T);
    expect(started).toEqual([]);
    await until(
      async () => (await rows(schema)).every((r) => r.status === "succeeded"),
      10_000,
      "every fire run",
    );
    expect(started).toHaveLength(FIRES);
    expect(started.every((t) => t >= T)).toBe(true);
  });

  it("stop() between the claims and the instant releases them; the next instance runs each once, not early", async () => {
    const schema = uniqueSchema();
    cleanups.push(() => dropSchema(schema));
    const storageA = storage(schema);
    const a = new Scheduler({ storage: storageA, instanceId: "a", claimAheadMs: 1000 });
    const ranOnA: string[] = [];
    a.register("job", (ctx) => {
      ranOnA.push(ctx.fire.scheduleId);
    });
    // stop() and close as a host does, as soon as the group's claims have come back.
    let stopping: Promise<void> | null = null;
    let claimedAt = 0;
    a.on("fire:claimed", () => {
      if (stopping) return;
      claimedAt = Date.now();
      stopping = a.stop({ timeoutMs: 10_000 }).then(() => storageA.close());
    });
    await a.start();
    const T = Date.now() + 2500;
    await a.createSchedules(
      Array.from({ length: FIRES }, (_, i) => ({ id: `s${i}`, job: "job", trigger: { at: T } })),
    );
    await until(() => stopping !== null, 5000, "the claims back");
    await stopping;
    expect(claimedAt).toBeLessThan(T);
    expect(Date.now()).toBeLessThan(T);
    // Released: nothing left in the database for a takeover to start before the instant.
    expect(await rows(schema)).toEqual([]);

    const b = new Scheduler({ storage: storage(schema), instanceId: "b" });
    const ranOnB: { id: string; at: number }[] = [];
    b.register("job", (ctx) => {
      ranOnB.push({ id: ctx.fire.scheduleId, at: Date.now() });
    });
    cleanups.push(() => b.stop({ timeoutMs: 0 }));
    await b.start();
    await until(
      async () => {
        const found = await rows(schema);
        return found.length === FIRES && found.every((r) => r.status === "succeeded");
      },
      10_000,
      "every fire run on b",
    );
    expect(ranOnA).toEqual([]);
    expect(new Set(ranOnB.map((r) => r.id)).size).toBe(FIRES);
    expect(ranOnB).toHaveLength(FIRES);
    expect(ranOnB.every((r) => r.at >= T)).toBe(true);
    expect((await rows(schema)).every((r) => r.instance_id === "b")).toBe(true);
  });
});
