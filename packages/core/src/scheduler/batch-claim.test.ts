/**
 * The fire path with a storage that claims in batches and hands the schedule's state back with a
 * claim (`claimFires`, `FireClaim.withState`): fires due together are claimed in one call, a
 * run's first attempt uses the claim's state instead of reading it, and every promise of the
 * single-claim path still holds (stop sees the batch in flight, market skips, overlap, order of
 * events, a stale state never reaches a handler).
 */

import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { ScheduleStateRecord } from "../storage/schedule-state.js";
import type { ClaimResult, FireClaim, Storage } from "../storage/storage.js";
import type { JobContext } from "./job.js";
import { Scheduler } from "./scheduler.js";
import { deferred, setup } from "./test-helpers.js";

const T = Date.parse("2026-01-05T15:00:00Z");

/** What {@link batching} counts, and the switches a test flips. */
interface Batching {
  storage: Storage;
  batches: number[];
  singleClaims: number;
  stateReads: number;
  /** While set, claims wait for it before they answer (a claim still on its way). */
  hold: Promise<void> | null;
  failNextBatch: boolean;
}

/**
 * A real MemoryStorage with a batch claim and the state handed back with a won claim, as the
 * contract allows, counting what the scheduler asks of it. A view (not a subclass), so it is the
 * same whether or not MemoryStorage has a `claimFires` of its own.
 */
function batching(): Batching {
  const memory = new MemoryStorage();
  const claimOne = async (claim: FireClaim): Promise<ClaimResult> => {
    const result = await memory.claimFire({ execution: claim.execution });
    if (!result.claimed || !claim.withState) return result;
    return { ...result, state: await memory.getScheduleState(claim.execution.scheduleId) };
  };
  const own = {
    async claimFire(claim: FireClaim): Promise<ClaimResult> {
      b.singleClaims++;
      const result = await claimOne(claim);
      if (b.hold) await b.hold;
      return result;
    },
    async claimFires(claims: readonly FireClaim[]): Promise<ClaimResult[]> {
      b.batches.push(claims.length);
      if (b.failNextBatch) {
        b.failNextBatch = false;
        throw new Error("database unavailable");
      }
      const out: ClaimResult[] = [];
      for (const claim of claims) out.push(await claimOne(claim));
      if (b.hold) await b.hold;
      return out;
    },
    getScheduleState(scheduleId: string): Promise<ScheduleStateRecord | null> {
      b.stateReads++;
      return memory.getScheduleState(scheduleId);
    },
  };
  const storage = new Proxy(memory, {
    get(target, prop, receiver) {
      if (prop in own) return own[prop as keyof typeof own];
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Storage;
  const b: Batching = {
    storage,
    batches: [],
    singleClaims: 0,
    stateReads: 0,
    hold: null,
    failNextBatch: false,
  };
  return b;
}

/** A handler that adds 1 to `state.n` and returns what it read. */
function increment(ctx: JobContext): { read: number } {
  const read = (ctx.state as { n?: number } | null)?.n ?? 0;
  ctx.setState({ n: read + 1 });
  return { read };
}

describe("Scheduler with a batch-claiming storage", () => {
  it("claims fires due together in one call, runs each once, and reads no state for them", async () => {
    const storage = batching();
    const { clock, scheduler, events } = setup({ storage: storage.storage, start: "2026-01-05T14:59:00Z" });
    const ran: string[] = [];
    scheduler.register("job", (ctx) => {
      ran.push(ctx.fire.scheduleId);
    });
    for (let i = 0; i < 50; i++) {
      await scheduler.createSchedule({ id: `s${i}`, job: "job", trigger: { at: T } });
    }
    await scheduler.start();
    await clock.advanceTo(T);
    await clock.flush();
    expect(ran.sort()).toEqual(Array.from({ length: 50 }, (_, i) => `s${i}`).sort());
    expect(storage.batches).toEqual([50]);
    expect(storage.singleClaims).toBe(0);
    expect(storage.stateReads).toBe(0);
    // Each fire's events in order: claimed, started, succeeded.
    for (let i = 0; i < 50; i++) {
      const mine = events.events
        .filter(
          (e) => (e.payload as { execution?: { scheduleId: string } }).execution?.scheduleId === `s${i}`,
        )
        .map((e) => e.name);
      expect(mine).toEqual(["fire:claimed", "run:started", "run:succeeded"]);
    }
    await scheduler.stop();
  });

  it("a single due fire takes the single claim; its first attempt uses the claim's state", async () => {
    const storage = batching();
    const { clock, scheduler } = setup({ storage: storage.storage });
    const reads: number[] = [];
    scheduler.register("count", (ctx) => reads.push(increment(ctx).read));
    await scheduler.createSchedule({ id: "c", job: "count", trigger: { every: "1m" } });
    await scheduler.start();
    await clock.advance(3 * 60_000);
    expect(reads).toEqual([0, 1, 2]);
    expect(storage.singleClaims).toBe(3);
    expect(storage.batches).toEqual([]);
    expect(storage.stateReads).toBe(0);
    expect(await scheduler.getScheduleState("c")).toMatchObject({ value: { n: 3 }, revision: 3 });
    await scheduler.stop();
  });

  it("with another live instance on the storage, the first attempt of a schedule that has a state reads it afresh (a run there may have committed since the claim)", async () => {
    const storage = batching();
    const { clock, scheduler } = setup({ storage: storage.storage });
    // A second instance on the same storage, without the job: it never claims, it only lives.
    const other = new Scheduler({ storage: storage.storage, clock, instanceId: "instance-b", stepInMs: 0 });
    const reads: number[] = [];
    scheduler.register("count", (ctx) => reads.push(increment(ctx).read));
    await scheduler.createSchedule({ id: "c", job: "count", trigger: { every: "1m" } });
    await scheduler.start();
    await other.start();
    await clock.advance(3 * 60_000);
    expect(reads).toEqual([0, 1, 2]);
    // The first fire's claim found no state yet (null is kept); the next two read afresh.
    expect(storage.stateReads).toBe(2);
    await other.stop();
    await clock.advance(60_000); // its leave is seen on the next heartbeat: alone again
    await clock.advance(60_000);
    expect(reads).toEqual([0, 1, 2, 3, 4]);
    expect(storage.stateReads).toBe(2);
    await scheduler.stop();
  });

  it("a retry reads the state afresh", async () => {
    const storage = batching();
    const { clock, scheduler } = setup({ storage: storage.storage });
    let calls = 0;
    scheduler.register("flaky", (ctx) => {
      calls++;
      if (calls === 1) throw new Error("first attempt fails");
      return increment(ctx);
    });
    await scheduler.createSchedule({
      id: "f",
      job: "flaky",
      trigger: { at: "2026-01-05T14:31:00Z" },
      retry: { attempts: 2, backoff: { baseMs: 1000, factor: 1, maxMs: 1000, jitter: 0 } },
    });
    await scheduler.start();
    await clock.advance(5 * 60_000);
    expect(calls).toBe(2);
    expect(storage.stateReads).toBe(1);
    expect(await scheduler.getScheduleState("f")).toMatchObject({ value: { n: 1 }, revision: 1 });
    await scheduler.stop();
  });

  it("a fire that waited for its turn (overlap buffer_one) reads the state afresh: no conflict", async () => {
    const storage = batching();
    const { clock, scheduler } = setup({ storage: storage.storage, overlapPollMs: 100 });
    const first = deferred();
    const reads: number[] = [];
    scheduler.register("slow", async (ctx) => {
      const r = increment(ctx).read;
      reads.push(r);
      if (r === 0) await first.promise;
    });
    await scheduler.createSchedule({
      id: "b",
      job: "slow",
      trigger: { every: "1m" },
      overlap: "buffer_one",
      retry: 1,
    });
    await scheduler.start();
    await clock.advance(60_000);
    await clock.advance(60_000);
    expect(reads).toEqual([0]);
    const readsBefore = storage.stateReads;
    first.resolve();
    await clock.advance(1000);
    expect(reads).toEqual([0, 1]);
    expect(storage.stateReads).toBe(readsBefore + 1);
    const runs = (await scheduler.listExecutions({ scheduleId: "b" })).items;
    expect(runs.map((e) => e.status)).toEqual(["succeeded", "succeeded"]);
    expect(await scheduler.getScheduleState("b")).toMatchObject({ value: { n: 2 }, revision: 2 });
    await scheduler.stop();
  });

  it("a run of the schedule that ends between the claim and the start makes the claim's state stale: read afresh", async () => {
    const storage = batching();
    const { clock, scheduler } = setup({ storage: storage.storage });
    const first = deferred();
    const reads: number[] = [];
    scheduler.register("job", async (ctx) => {
      const r = increment(ctx).read;
      reads.push(r);
      if (r === 0) await first.promise;
    });
    await scheduler.createSchedule({
      id: "x",
      job: "job",
      trigger: { every: "1m" },
      overlap: "allow",
      retry: 1,
    });
    await scheduler.start();
    await clock.advance(60_000);
    expect(reads).toEqual([0]);
    // The second fire's claim comes back (with state: none yet) only after the first run committed.
    const claimHeld = deferred();
    storage.hold = claimHeld.promise;
    await clock.advance(60_000);
    storage.hold = null;
    first.resolve();
    await clock.flush();
    expect((await scheduler.getScheduleState("x"))?.revision).toBe(1);
    claimHeld.resolve();
    await clock.flush();
    expect(reads).toEqual([0, 1]);
    const runs = (await scheduler.listExecutions({ scheduleId: "x" })).items;
    expect(runs.map((e) => e.status)).toEqual(["succeeded", "succeeded"]);
    expect(await scheduler.getScheduleState("x")).toMatchObject({ value: { n: 2 }, revision: 2 });
    await scheduler.stop();
  });

  it("stop() waits for a batch claim still on its way, then runs and records every fire it claimed", async () => {
    const storage = batching();
    const { clock, scheduler } = setup({ storage: storage.storage, start: "2026-01-05T14:59:00Z" });
    const ran: string[] = [];
    scheduler.register("job", (ctx) => {
      ran.push(ctx.fire.scheduleId);
    });
    for (let i = 0; i < 5; i++)
      await scheduler.createSchedule({ id: `s${i}`, job: "job", trigger: { at: T } });
    await scheduler.start();
    const held = deferred();
    storage.hold = held.promise;
    await clock.advanceTo(T);
    expect(storage.batches).toEqual([5]);
    let stopped = false;
    const stopping = scheduler.stop({ timeoutMs: 5000 }).then(() => {
      stopped = true;
    });
    await clock.flush();
    expect(stopped).toBe(false);
    held.resolve();
    await stopping;
    // Claimed before the deadline: each ran to its end and was recorded before stop() resolved.
    expect(ran.sort()).toEqual(["s0", "s1", "s2", "s3", "s4"]);
    const items = (await scheduler.listExecutions()).items;
    expect(items.map((e) => e.status)).toEqual(Array(5).fill("succeeded"));
  });

  it("records market skips of a batch one by one and claims the rest together", async () => {
    const storage = batching();
    // 2026-01-05 is a Monday; 05:00 UTC is outside NYSE hours.
    const closed = Date.parse("2026-01-05T05:00:00Z");
    const { clock, scheduler, events } = setup({ storage: storage.storage, start: "2026-01-05T04:59:00Z" });
    const ran: string[] = [];
    scheduler.register("job", (ctx) => {
      ran.push(ctx.fire.scheduleId);
    });
    for (let i = 0; i < 3; i++)
      await scheduler.createSchedule({ id: `open${i}`, job: "job", trigger: { at: closed } });
    for (let i = 0; i < 2; i++) {
      await scheduler.createSchedule({
        id: `mkt${i}`,
        job: "job",
        trigger: { at: closed },
        marketHoursOnly: true,
      });
    }
    await scheduler.start();
    await clock.advanceTo(closed);
    await clock.flush();
    expect(ran.sort()).toEqual(["open0", "open1", "open2"]);
    expect(storage.batches).toEqual([3]);
    expect(storage.singleClaims).toBe(2);
    const skipped = events.of("run:skipped").map((p) => [p.execution.scheduleId, p.reason]);
    expect(skipped.sort()).toEqual([
      ["mkt0", "market_closed"],
      ["mkt1", "market_closed"],
    ]);
    await scheduler.stop();
  });

  it("a failed batch claim is one scheduler:error; nothing runs, and the loop goes on", async () => {
    const storage = batching();
    const { clock, scheduler, events } = setup({ storage: storage.storage, start: "2026-01-05T14:59:00Z" });
    const ran: string[] = [];
    scheduler.register("job", (ctx) => {
      ran.push(ctx.fire.scheduleId);
    });
    for (let i = 0; i < 3; i++)
      await scheduler.createSchedule({ id: `a${i}`, job: "job", trigger: { at: T } });
    for (let i = 0; i < 2; i++)
      await scheduler.createSchedule({ id: `b${i}`, job: "job", trigger: { at: T + 60_000 } });
    storage.failNextBatch = true;
    await scheduler.start();
    await clock.advanceTo(T);
    await clock.flush();
    expect(ran).toEqual([]);
    expect(events.of("scheduler:error").map((p) => p.context)).toEqual(["claiming 3 fires"]);
    await clock.advanceTo(T + 60_000);
    await clock.flush();
    expect(ran.sort()).toEqual(["b0", "b1"]);
    expect(storage.batches).toEqual([3, 2]);
    await scheduler.stop();
  });
});
