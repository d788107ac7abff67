/**
 * Schedule state on PostgreSQL with two scheduler instances on one schema (two pools, as two
 * processes have): every fire's increment is applied exactly once whichever instance runs it, a
 * fire taken over after a crash neither loses nor repeats its increment, and an instance that
 * stalled past its lease commits nothing when it wakes up. The clock is a TestClock driven in
 * steps while the database works in real time.
 */

import {
  type ExecutionRecord,
  type JobContext,
  type JsonValue,
  Scheduler,
  type Storage,
} from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { dropSchema, PG_URL, uniqueSchema, usePostgres } from "./helpers/pg.js";

usePostgres();

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0)
    await cleanups
      .pop()?.()
      .catch(() => {});
});

async function storages(count: number): Promise<PostgresStorage[]> {
  const schema = uniqueSchema();
  cleanups.push(() => dropSchema(schema));
  const out: PostgresStorage[] = [];
  for (let i = 0; i < count; i++) {
    const s = new PostgresStorage({ connectionString: PG_URL, poolSize: 3, schema });
    cleanups.push(() => s.close());
    await s.open();
    out.push(s);
  }
  return out;
}

/** Adds 1 to `state.n` and returns what it read. */
function increment(ctx: JobContext): { read: number } {
  const read = (ctx.state as { n?: number } | null)?.n ?? 0;
  ctx.setState({ n: read + 1 });
  return { read };
}

function scheduler(storage: Storage, clock: TestClock, instanceId: string): Scheduler {
  const s = new Scheduler({ storage, clock, instanceId, leaseMs: 30_000, syncIntervalMs: 1000 });
  cleanups.push(() => s.stop({ timeoutMs: 0 }));
  return s;
}

/**
 * Advances the clock 50 ms at a time until `promise` settles, letting a millisecond of real time
 * pass between steps: the database answers in real time, and a lease must not lapse on the test
 * clock while a query is on its way (that would be a takeover the test did not stage).
 */
async function drive<T>(clock: TestClock, promise: Promise<T>, maxSteps = 20_000): Promise<T> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let step = 0; !settled; step++) {
    if (step >= maxSteps) throw new Error(`drive: not settled after ${maxSteps} steps`);
    await clock.advance(50);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return promise;
}

/** Resolves once `condition` holds, checked every turn of the event loop. */
function until(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (condition()) resolve();
      else setImmediate(check);
    };
    check();
  });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function succeededRuns(s: Scheduler, scheduleId: string): Promise<ExecutionRecord[]> {
  return (await s.listExecutions({ scheduleId, status: "succeeded", limit: 100 })).items;
}

describe("PostgreSQL: schedule state with two instances", () => {
  it("applies every fire's increment exactly once, whichever instance runs it", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const [one, two] = await storages(2);
    const a = scheduler(one as Storage, clock, "a");
    const b = scheduler(two as Storage, clock, "b");
    for (const s of [a, b]) s.register("count", increment);
    await a.createSchedule({ id: "counter", job: "count", trigger: { every: "10s" } });
    await a.start();
    await b.start();
    let succeeded = 0;
    for (const s of [a, b]) s.on("run:succeeded", () => succeeded++);
    // Steps short against the lease: the database works in real time while the clock moves.
    await drive(
      clock,
      until(() => succeeded >= 10),
    );
    await a.stop();
    await b.stop();
    const runs = await succeededRuns(a, "counter");
    const state = await b.getScheduleState("counter");
    expect(state?.value).toEqual({ n: runs.length });
    expect(state?.revision).toBe(runs.length);
    // Each run read a different committed value: none lost, none applied twice.
    const reads = runs.map((r) => (r.result as { read: number }).read).sort((x, y) => x - y);
    expect(reads).toEqual(runs.map((_, i) => i));
    // No fire ran twice.
    expect(new Set(runs.map((r) => r.scheduledAt)).size).toBe(runs.length);
  }, 60_000);

  it("a fire taken over after its instance crashed neither loses nor repeats the increment", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const [one, two] = await storages(2);
    let dead = false;
    // The crashed process: after `dead`, nothing it does reaches the database.
    const deadView = new Proxy(one as PostgresStorage, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function" || prop === "watch") return value;
        return (...args: unknown[]) =>
          dead ? Promise.reject(new Error("process is dead")) : value.apply(target, args);
      },
    }) as Storage;
    const a = scheduler(deadView, clock, "a");
    const reads: [string, JsonValue | null][] = [];
    a.register("count", (ctx) => {
      reads.push(["a", ctx.state]);
      const out = increment(ctx);
      return out.read === 0 ? out : new Promise(() => {}); // the second run hangs: the crash
    });
    await a.createSchedule({ id: "t", job: "count", trigger: { every: "10s" } });
    await a.start();
    await drive(
      clock,
      until(() => reads.length === 2),
    );
    dead = true;
    const b = scheduler(two as Storage, clock, "b");
    b.register("count", (ctx) => {
      reads.push(["b", ctx.state]);
      return increment(ctx);
    });
    const taken = new Promise<ExecutionRecord>((resolve) =>
      b.once("run:succeeded", (p) => resolve(p.execution)),
    );
    await b.start();
    const execution = await drive(clock, taken);
    expect(execution).toMatchObject({ instanceId: "b", attempts: 2, result: { read: 1 } });
    expect(reads.slice(0, 3)).toEqual([
      ["a", null],
      ["a", { n: 1 }],
      ["b", { n: 1 }],
    ]);
    await b.stop();
    const state = await b.getScheduleState("t");
    const runs = await succeededRuns(b, "t");
    expect(state?.value).toEqual({ n: runs.length });
    expect(state?.revision).toBe(runs.length);
  }, 60_000);

  it("an instance stalled past its lease commits nothing when its handler finishes", async () => {
    const clock = new TestClock("2026-01-05T14:59:30Z");
    const [one, two] = await storages(2);
    const stall = deferred();
    const stalledView = new Proxy(one as PostgresStorage, {
      get(target, prop, receiver) {
        if (prop === "renewLeases") return () => stall.promise.then(() => []);
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as Storage;
    const a = scheduler(stalledView, clock, "a");
    const release = deferred();
    let started = false;
    a.register("count", async (ctx) => {
      started = true;
      const out = increment(ctx);
      await release.promise;
      return out;
    });
    await a.createSchedule({ id: "z", job: "count", trigger: { cron: "0 15 * * *" } });
    await a.start();
    await drive(
      clock,
      until(() => started),
    );
    const b = scheduler(two as Storage, clock, "b");
    b.register("count", increment);
    const taken = new Promise<ExecutionRecord>((resolve) =>
      b.once("run:succeeded", (p) => resolve(p.execution)),
    );
    await b.start();
    await drive(clock, taken);
    const lateOutcome = new Promise((resolve) => a.once("run:cancelled", resolve));
    release.resolve();
    await drive(clock, lateOutcome);
    stall.resolve();
    const state = await b.getScheduleState("z");
    expect(state).toMatchObject({ value: { n: 1 }, revision: 1 });
    const [execution] = (await b.listExecutions({ scheduleId: "z" })).items;
    expect(execution).toMatchObject({ status: "succeeded", instanceId: "b", result: { read: 0 } });
    expect(state?.executionId).toBe(execution?.id);
  }, 60_000);
});
