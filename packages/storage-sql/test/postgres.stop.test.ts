/**
 * A graceful stop() on PostgreSQL with two instances, at the worst moment: instance A's claims of
 * 14 fires are on their way to the database when its host calls stop(), then closes the storage
 * (what examples/standalone does). Every fire must run exactly once: to its end on A and recorded
 * there, or handed over unstarted and run by B. Exactly-once is judged from the handlers' own
 * side effects, not from the records alone.
 */

import { type JobContext, Scheduler, type Storage } from "@tradecron/core";
import { afterEach, describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { until } from "./helpers/children.js";
import { adminPool, dropSchema, PG_URL, uniqueSchema, usePostgres } from "./helpers/pg.js";

usePostgres();

const FIRES = 14;
const LEASE_MS = 1000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `storage` with `claimFire` and `claimFires` wrapped by `around`, told how many fires the call
 * claims (the scheduler claims fires due together with one `claimFires`); the other methods go
 * straight through.
 */
function aroundClaims(
  storage: PostgresStorage,
  around: (send: () => Promise<unknown>, fires: number) => Promise<unknown>,
): Storage {
  return new Proxy(storage, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === "claimFire") {
        return (claim: unknown) => around(() => target.claimFire(claim as never), 1);
      }
      if (prop === "claimFires") {
        return (batch: readonly unknown[]) => around(() => target.claimFires(batch as never), batch.length);
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function scenario(timeoutMs: number) {
  const schema = uniqueSchema();
  cleanups.push(() => dropSchema(schema));
  const storageA = new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 4 });
  const storageB = new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 4 });
  cleanups.push(
    () => storageB.close(),
    () => storageA.close(),
  );
  const ran: { instance: string; key: string; attempt: number; ended: boolean }[] = [];
  let activeOnA = 0;
  const job = (instance: string) => async (ctx: JobContext) => {
    const entry = { instance, key: ctx.fire.idempotencyKey, attempt: ctx.fire.attempt, ended: false };
    ran.push(entry);
    if (instance === "a") activeOnA++;
    await wait(300);
    if (instance === "a") activeOnA--;
    entry.ended = true;
  };

  let a: Scheduler | null = null;
  let stopped: Promise<void> | null = null;
  let activeAtStop = -1;
  const claims = { sent: 0, answered: 0, atStop: { sent: -1, answered: -1 } };
  let stopCalled = () => {};
  const stopBegan = new Promise<void>((resolve) => {
    stopCalled = resolve;
  });
  // Right after A sends its claims (the same turn: one batch), its host calls stop(), while the
  // answers are still on their way from the database. The database may answer before that
  // turn's end (a local server, a loaded machine), so an answer is handed back only once stop()
  // has begun: committed in the database, not yet known to A, as the scenario needs.
  const viewA = aroundClaims(storageA, (send, fires) => {
    const first = claims.sent === 0;
    claims.sent += fires;
    const answer = send()
      .then(async (result) => {
        await stopBegan;
        return result;
      })
      .finally(() => {
        claims.answered += fires;
      });
    if (first) {
      setImmediate(() => {
        claims.atStop = { sent: claims.sent, answered: claims.answered };
        stopped = (a as Scheduler).stop({ timeoutMs }).then(async () => {
          activeAtStop = activeOnA;
          await storageA.close(); // the host's next step
        });
        stopCalled();
      });
    }
    return answer;
  });
  // B's claims go out a little later, so A wins every fire.
  const viewB = aroundClaims(storageB, async (send) => {
    await wait(150);
    return send();
  });
  // stepInMs 0: both claim every fire at once (no preferred claimer), so A's claims cover them all.
  a = new Scheduler({ storage: viewA, instanceId: "a", leaseMs: LEASE_MS, stepInMs: 0 });
  const b = new Scheduler({ storage: viewB, instanceId: "b", leaseMs: LEASE_MS, stepInMs: 0 });
  cleanups.push(() => b.stop({ timeoutMs: 0 }));
  a.register("job", job("a"));
  b.register("job", job("b"));
  const at = Date.now() + 1500;
  for (let i = 0; i < FIRES; i++) await a.createSchedule({ id: `due-${i}`, job: "job", trigger: { at } });
  await a.start();
  await b.start();
  await until(() => stopped !== null, 10_000, "A sent its claims");
  await stopped;
  await wait(LEASE_MS * 2 + 1000); // long enough for B to take over anything A left held
  const rows = (
    await adminPool().query<{ schedule_id: string; status: string; instance_id: string; attempts: number }>(
      `SELECT schedule_id, status, instance_id, attempts FROM "${schema}".executions ORDER BY schedule_id`,
    )
  ).rows;
  // stop() was called with every claim sent and none answered yet.
  expect(claims.atStop).toEqual({ sent: FIRES, answered: 0 });
  return { rows, ran, activeAtStop };
}

describe("PostgresStorage: stop() while claims are in flight, two instances", () => {
  it("runs every fire claimed during stop() once, to its end on the stopping instance, before stop() resolves", async () => {
    const { rows, ran, activeAtStop } = await scenario(20_000);
    expect(rows).toHaveLength(FIRES);
    expect(rows.map((r) => [r.status, r.instance_id, r.attempts])).toEqual(
      Array(FIRES).fill(["succeeded", "a", 1]),
    );
    // One finished run per fire, none after stop() resolved (nothing was running then).
    expect(activeAtStop).toBe(0);
    expect(ran.map((r) => [r.instance, r.ended])).toEqual(Array(FIRES).fill(["a", true]));
    expect(new Set(ran.map((r) => r.key)).size).toBe(FIRES);
  }, 30_000);

  it("with a zero deadline, hands the fires over unstarted and the other instance runs each once", async () => {
    const { rows, ran } = await scenario(0);
    expect(rows.map((r) => [r.status, r.instance_id, r.attempts])).toEqual(
      Array(FIRES).fill(["succeeded", "b", 1]),
    );
    expect(ran.map((r) => [r.instance, r.attempt, r.ended])).toEqual(Array(FIRES).fill(["b", 1, true]));
    expect(new Set(ran.map((r) => r.key)).size).toBe(FIRES);
  }, 30_000);
});
