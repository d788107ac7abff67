/**
 * Scale-out on PostgreSQL: three schedulers on one schema (each its own PostgresStorage, as three
 * processes would have) beat into the instances table and split the due fires by the preferred
 * claimer of each; every fire runs exactly once, and the share of an instance that stopped or
 * was cut off is run by the others (after the step-in while its beat has not expired).
 */

import { type ExecutionRecord, fireHash, Scheduler, type Storage } from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { dropSchema, PG_URL, uniqueSchema, usePostgres } from "./helpers/pg.js";

usePostgres();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const T0 = "2026-01-05T14:30:00Z";
const STEP_IN = 250;

const preferredOf = (live: string[], id: string, at: number) =>
  live[fireHash(id, at) % live.length] as string;

/** A view of `storage` whose calls fail once `sever()` is called (its process is gone). */
function severable(storage: Storage): { storage: Storage; sever: () => void } {
  let severed = false;
  const view = new Proxy(storage, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || prop === "watch") return value;
      return (...args: unknown[]) =>
        severed
          ? Promise.reject(new Error("process is dead"))
          : (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
  return { storage: view, sever: () => (severed = true) };
}

async function cluster(ids: string[]) {
  const schema = uniqueSchema();
  const clock = new TestClock(T0);
  const ran = new Map<string, string[]>();
  const storages: PostgresStorage[] = [];
  const schedulers: Scheduler[] = [];
  const severs: (() => void)[] = [];
  for (const instanceId of ids) {
    const pg = new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 3 });
    await pg.open();
    storages.push(pg);
    const { storage, sever } = severable(pg);
    severs.push(sever);
    const s = new Scheduler({ storage, clock, instanceId, stepInMs: STEP_IN, keepAlive: false });
    s.register("noop", (ctx) => {
      ran.set(ctx.schedule.id, [...(ran.get(ctx.schedule.id) ?? []), instanceId]);
    });
    schedulers.push(s);
  }
  cleanups.push(async () => {
    await Promise.all(schedulers.map((s) => s.stop({ timeoutMs: 0 }).catch(() => {})));
    await Promise.all(storages.map((s) => s.close()));
    await dropSchema(schema);
  });
  return { clock, ran, schedulers, severs };
}

/** Advances the test clock in small steps, giving PostgreSQL's real I/O time between them. */
async function advance(clock: TestClock, ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await clock.advance(Math.min(step, ms - t));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function settle(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600 && !(await done()); i++) await new Promise((r) => setTimeout(r, 10));
  if (!(await done())) throw new Error(`timed out: ${what}`);
}

const oneOffs = (count: number, at: number) =>
  Array.from({ length: count }, (_, i) => ({ id: `f${i}`, job: "noop", trigger: { at } }));

async function executions(s: Scheduler): Promise<ExecutionRecord[]> {
  return (await s.listExecutions({ limit: 1000 })).items;
}

describe("PostgreSQL: three instances split the due fires", () => {
  it("each fire runs once, on its preferred instance, at its instant; each instance runs its share", async () => {
    const { clock, ran, schedulers } = await cluster(["a", "b", "c"]);
    const a = schedulers[0] as Scheduler;
    await Promise.all(schedulers.map((s) => s.start()));
    const T = clock.now() + 20_000;
    await a.createSchedules(oneOffs(300, T));
    for (const s of schedulers) await settle(async () => (await s.status()).schedules.length === 300, "sync");
    await clock.advance(15_000); // a maintenance turn: every instance has seen the other two
    await new Promise((r) => setTimeout(r, 50));
    // To the instant, then real time for the preferred claimers' I/O before the clock reaches
    // the step-in (on a loaded machine a claim's round trips can outlast a clock step).
    await advance(clock, 5_000, 250);
    await settle(() => ran.size === 300, "every fire to run at its instant");
    await advance(clock, STEP_IN + 200, 50);
    await Promise.all(schedulers.map((s) => s.stop({ timeoutMs: 5000 })));

    expect([...ran.values()].every((who) => who.length === 1)).toBe(true);
    const all = await executions(a);
    expect(all).toHaveLength(300);
    expect(all.every((e) => e.status === "succeeded")).toBe(true);
    for (const e of all) {
      expect(e.instanceId).toBe(preferredOf(["a", "b", "c"], e.scheduleId, e.scheduledAt));
      expect(e.claimedAt).toBeLessThan(T + STEP_IN);
    }
    for (const id of ["a", "b", "c"])
      expect(all.filter((e) => e.instanceId === id).length).toBeGreaterThan(60);
  });

  it("a stopped instance's share goes to the others at once; a cut-off one's after the step-in", async () => {
    const { clock, ran, schedulers, severs } = await cluster(["a", "b", "c"]);
    const [a, b, c] = schedulers as [Scheduler, Scheduler, Scheduler];
    await Promise.all(schedulers.map((s) => s.start()));
    await clock.advance(11_000);
    await new Promise((r) => setTimeout(r, 50));
    await c.stop(); // leaves the instances table
    await clock.advance(11_000); // a and b beat again and see two instances
    await new Promise((r) => setTimeout(r, 50));
    const T = clock.now() + 5_000;
    await a.createSchedules(oneOffs(120, T));
    await settle(async () => (await b.status()).schedules.length === 120, "sync");
    await advance(clock, 5_000 + 200, 250);
    await settle(() => ran.size === 120, "every fire to run");
    for (const e of await executions(a)) {
      expect(e.instanceId).toBe(preferredOf(["a", "b"], e.scheduleId, e.scheduledAt));
      expect(e.claimedAt).toBeLessThan(T + STEP_IN);
    }

    // Now b is cut off (as by kill -9): its beat stays in the table until it expires.
    severs[1]?.();
    const T2 = clock.now() + 2_000;
    await a.createSchedules(oneOffs(60, T2).map((s) => ({ ...s, id: `g${s.id}` })));
    await advance(clock, 2_000 + STEP_IN + 500, 250);
    await settle(() => ran.size === 180, "every fire of the second batch to run");
    const second = (await executions(a)).filter((e) => e.scheduleId.startsWith("g"));
    expect(second).toHaveLength(60);
    expect(second.every((e) => e.instanceId === "a")).toBe(true);
    const stepped = second.filter((e) => preferredOf(["a", "b"], e.scheduleId, e.scheduledAt) === "b");
    expect(stepped.length).toBeGreaterThan(10);
    for (const e of stepped) expect(e.claimedAt).toBeGreaterThanOrEqual(T2 + STEP_IN);
    expect([...ran.values()].every((who) => who.length === 1)).toBe(true);
    await a.stop({ timeoutMs: 5000 });
  });
});
