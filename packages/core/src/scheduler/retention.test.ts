/**
 * The retention role inside a scheduler: the policy and its validation, per-schedule overrides,
 * background passes on the injected clock, the one-off prune, and failures as events.
 */

import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { silentLogger } from "../logger.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { ExecutionRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import { makeExecution } from "../testing/fixtures.js";
import { TestClock } from "../testing/test-clock.js";
import { DEFAULT_RETENTION, Pacer, Retention, type RetentionOptions, resolveRetention } from "./retention.js";
import { Scheduler } from "./scheduler.js";
import { setup } from "./test-helpers.js";

const DAY = 86_400_000;

/** Stores `count` succeeded executions of `scheduleId`, one a minute, ending `ageMs` before `now`. */
async function history(storage: Storage, scheduleId: string, count: number, now: number, ageMs: number) {
  const made: ExecutionRecord[] = [];
  for (let i = 0; i < count; i++) {
    const at = now - ageMs - (count - i) * 60_000;
    const e = makeExecution({
      scheduleId,
      scheduledAt: at,
      status: "succeeded",
      startedAt: at,
      endedAt: at + 5,
    });
    await storage.claimFire({ execution: e });
    made.push(e);
  }
  return made;
}

async function countOf(storage: Storage, scheduleId: string): Promise<number> {
  return (await storage.listExecutions({ scheduleId, limit: 1000 })).items.length;
}

describe("retention policy", () => {
  it("fills in the documented defaults and takes durations as the SDK parses them", () => {
    expect(resolveRetention(undefined)).toEqual(DEFAULT_RETENTION);
    const p = resolveRetention({
      executions: { maxAge: "7d", keepLast: null },
      audit: { maxAge: null },
      interval: "5m",
    });
    expect(p?.executions).toEqual({ maxAgeMs: 7 * DAY, keepLast: null });
    expect(p?.audit.maxAgeMs).toBeNull();
    expect(p?.orders.maxAgeMs).toBe(2557 * DAY);
    expect(p?.intervalMs).toBe(300_000);
    expect(resolveRetention(false)).toBeNull();
  });

  it("rejects a bad policy at construction, naming the field", () => {
    const bad = [
      [{ executions: { maxAge: "soon" } }, "options.retention.executions.maxAge"],
      [{ executions: { keepLast: -1 } }, "options.retention.executions.keepLast"],
      [{ batchSize: 0 }, "options.retention.batchSize"],
      [{ batchTime: 0 }, "options.retention.batchTime"],
      [{ batchTime: "2s" }, "options.retention.batchTime"],
      [{ dutyCycle: 0 }, "options.retention.dutyCycle"],
      [{ dutyCycle: 1.5 }, "options.retention.dutyCycle"],
      [{ interval: 0 }, "options.retention.interval"],
      [{ approvals: { keepLast: 3 } }, "options.retention.approvals.keepLast"],
    ] as const;
    for (const [retention, field] of bad) {
      let error: unknown;
      try {
        new Scheduler({ retention: retention as never });
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(retention)).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
    }
  });

  it("validates a schedule's own retention and stores it with the schedule", async () => {
    const { scheduler, storage } = setup();
    scheduler.register("job", async () => {});
    await expect(
      scheduler.createSchedule({ job: "job", trigger: { every: "1m" }, retention: { keepLast: 1.5 } }),
    ).rejects.toMatchObject({ field: "retention.keepLast" });
    const s = await scheduler.createSchedule({
      id: "kept",
      job: "job",
      trigger: { every: "1m" },
      retention: { maxAge: "365d" },
    });
    expect(s.retention).toEqual({ maxAgeMs: 365 * DAY });
    expect((await storage.getSchedule("kept"))?.retention).toEqual({ maxAgeMs: 365 * DAY });
    const plain = await scheduler.createSchedule({ id: "plain", job: "job", trigger: { every: "1m" } });
    expect(plain.retention).toBeNull();
  });
});

describe("retention in the scheduler", () => {
  it("prunes in the background soon after start, honours overrides, and reports what it deleted", async () => {
    const storage = new MemoryStorage();
    const { scheduler, clock, events } = setup({
      storage,
      retention: { executions: { maxAge: "1d", keepLast: 10 }, batchSize: 7 },
    });
    scheduler.register("job", async () => {});
    await scheduler.createSchedule({ id: "plain", job: "job", trigger: { cron: "0 0 1 1 *" } });
    await scheduler.createSchedule({
      id: "own",
      job: "job",
      trigger: { cron: "0 0 1 1 *" },
      retention: { maxAge: null, keepLast: 30 },
    });
    const now = clock.now();
    await history(storage, "plain", 50, now, 2 * DAY);
    await history(storage, "own", 50, now, 2 * DAY);
    await history(storage, "removed", 20, now, 2 * DAY); // a removed schedule: the scheduler's policy
    await history(storage, "recent", 20, now, 0);
    await scheduler.start();
    expect(events.of("retention:pruned")).toHaveLength(0);
    await clock.advance(60_000);
    for (let i = 0; i < 50 && events.of("retention:pruned").length === 0; i++)
      await new Promise((r) => setImmediate(r));
    expect(events.of("retention:pruned")).toHaveLength(1);
    expect(events.of("retention:pruned")[0]).toMatchObject({
      executions: 40 + 20 + 10,
      approvals: 0,
      audit: 0,
    });
    expect(await countOf(storage, "plain")).toBe(10);
    expect(await countOf(storage, "own")).toBe(30);
    expect(await countOf(storage, "removed")).toBe(10);
    expect(await countOf(storage, "recent")).toBe(20);
    // A one-off pass finds nothing more; passes that delete nothing are silent.
    expect(await scheduler.prune()).toEqual({ executions: 0, approvals: 0, orders: 0, audit: 0 });
    expect(events.of("retention:pruned")).toHaveLength(1);
    await scheduler.stop();
  });

  it("keeps everything with retention: false", async () => {
    const storage = new MemoryStorage();
    const { scheduler, clock } = setup({ storage, retention: false });
    await history(storage, "old", 200, clock.now(), 400 * DAY);
    await scheduler.start();
    await clock.advance(2 * 3_600_000);
    expect(await scheduler.prune()).toBeNull();
    expect(await countOf(storage, "old")).toBe(200);
    await scheduler.stop();
  });

  it("turns a failing prune into scheduler:error and carries on firing", async () => {
    const storage = new MemoryStorage();
    storage.pruneExecutions = async () => {
      throw new Error("disk on fire");
    };
    const { scheduler, clock, events } = setup({ storage });
    let runs = 0;
    scheduler.register("job", async () => {
      runs++;
    });
    await scheduler.createSchedule({ id: "s", job: "job", trigger: { every: "1m" } });
    await history(storage, "s", 150, clock.now(), 60 * DAY);
    await scheduler.start();
    await clock.advance(60_000);
    for (let i = 0; i < 50 && events.of("scheduler:error").length === 0; i++)
      await new Promise((r) => setImmediate(r));
    expect(events.of("scheduler:error").map((e) => e.context)).toContain("retention");
    await clock.advance(120_000);
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(scheduler.state).toBe("running");
    await scheduler.stop();
  });

  it("stop() ends a pass between batches instead of waiting for the whole history", async () => {
    const storage = new MemoryStorage();
    let calls = 0;
    const prune = storage.pruneExecutions.bind(storage);
    storage.pruneExecutions = async (p) => {
      calls++;
      return prune(p);
    };
    const { scheduler, clock } = setup({ storage, retention: { batchSize: 1 } });
    await history(storage, "s", 300, clock.now(), 60 * DAY);
    await scheduler.start();
    await clock.advance(60_000);
    await new Promise((r) => setImmediate(r));
    await scheduler.stop();
    const after = calls;
    expect(after).toBeLessThan(200);
    expect(await countOf(storage, "s")).toBeGreaterThan(100);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(after);
  });
});

/** Lets every pending setImmediate (and what it starts) run, without moving the TestClock. */
async function settle(turns = 30): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

/**
 * A Retention on a TestClock over a storage of one schedule with `backlog` prunable executions,
 * whose batches take the time `cost(limit)` says: `held` ms on the event loop (the counter moves
 * during the call) and `took` ms in all (it moves again two turns later, as a server's reply
 * would). `nextFireAt` is read before every batch.
 */
function paced(
  options: RetentionOptions,
  cost: (limit: number) => { held: number; took: number },
  nextFireAt: () => number | null = () => null,
  backlog = 100_000,
  firesStarting?: () => Promise<unknown>[],
) {
  const clock = new TestClock();
  let elapsed = 0;
  let left = backlog;
  const calls: { limit: number; at: number }[] = [];
  const storage = {
    name: "paced",
    executionScheduleIds: async (after: string | null) => (after === null ? ["s"] : []),
    pruneExecutions: async (p: { limit: number }) => {
      calls.push({ limit: p.limit, at: clock.now() });
      const { held, took } = cost(p.limit);
      elapsed += held;
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      elapsed += took - held;
      const n = Math.min(p.limit, left);
      left -= n;
      return n;
    },
    pruneApprovals: async () => 0,
    pruneOrders: async () => 0,
    pruneAudit: async () => 0,
  } as unknown as Storage;
  const retention = new Retention(
    {
      storage,
      clock,
      logger: silentLogger,
      schedules: () => [],
      nextFireAt,
      firesStarting,
      emit: () => {},
      reportError: () => {},
      elapsed: () => elapsed,
    },
    resolveRetention({ executions: { maxAge: null, keepLast: 1 }, ...options }),
  );
  return { clock, calls, retention, left: () => left };
}

describe("retention pacing", () => {
  it("waits after each batch so storage calls take at most dutyCycle of the pass", async () => {
    const { clock, calls, retention } = paced({ dutyCycle: 0.2, batchTime: 4 }, () => ({
      held: 1,
      took: 10,
    }));
    retention.start(); // so stop() aborts the pass
    const pass = retention.runOnce();
    await settle();
    expect(calls).toHaveLength(1);
    // A 10 ms batch at 20 %: 40 ms of pause before the next one.
    await clock.advance(39);
    await settle();
    expect(calls).toHaveLength(1);
    await clock.advance(2);
    await settle();
    expect(calls).toHaveLength(2);
    expect((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(40);
    await retention.stop();
    await pass;
  });

  it("sizes batches to batchTime on the event loop, and gives a server the whole batchSize", async () => {
    // 0.1 ms of event loop per record: 20 records fit 2 ms.
    const onLoop = paced(
      { dutyCycle: 1, batchTime: 2, batchSize: 500 },
      (n) => ({ held: n / 10, took: n / 10 }),
      () => null,
      2000,
    );
    await onLoop.retention.runOnce();
    const sizes = onLoop.calls.map((c) => c.limit);
    expect(sizes[0]).toBe(50);
    expect(sizes.slice(1).every((n) => n <= 20 && n >= 10)).toBe(true);
    expect(onLoop.left()).toBe(0);
    // A fixed cost per call (a commit's fsync, 8 ms) plus 0.01 ms per record: batches grow to
    // 200, where the records take 2 ms, instead of shrinking to nothing for the fsync.
    const fsync = paced(
      { dutyCycle: 1, batchTime: 2, batchSize: 500 },
      (n) => ({ held: 8 + n / 100, took: 8 + n / 100 }),
      () => null,
      20_000,
    );
    await fsync.retention.runOnce();
    const tail = fsync.calls.slice(-20).map((c) => c.limit);
    expect(Math.min(...tail)).toBeGreaterThanOrEqual(180);
    expect(Math.max(...tail)).toBeLessThanOrEqual(220);
    // A server: the loop is held for nothing, the reply takes 8 ms.
    const server = paced(
      { dutyCycle: 1, batchTime: 2, batchSize: 500 },
      () => ({ held: 0, took: 8 }),
      () => null,
      5000,
    );
    await server.retention.runOnce();
    const grown = server.calls.map((c) => c.limit);
    expect(grown.slice(0, 4)).toEqual([50, 75, 113, 170]);
    expect(Math.max(...grown)).toBe(500);
    expect(server.left()).toBe(0);
  });

  it("never starts a batch within the guard before the next due fire", async () => {
    const clock = { fire: null as number | null };
    const run = paced(
      { dutyCycle: 1 },
      () => ({ held: 0, took: 0 }),
      () => clock.fire,
      120,
    );
    clock.fire = run.clock.now() + 10;
    const pass = run.retention.runOnce();
    await settle();
    expect(run.calls).toHaveLength(0);
    await run.clock.advance(12);
    await settle();
    expect(run.calls).toHaveLength(0);
    // Due at +10: the batch goes 3 ms after it, once the fire has been claimed and started.
    clock.fire = null;
    await run.clock.advance(2);
    await settle();
    expect(run.calls.length).toBeGreaterThanOrEqual(1);
    expect((run.calls[0]?.at ?? 0) - (clock.fire ?? 0)).toBeGreaterThanOrEqual(0);
    await pass;
    expect(run.left()).toBe(0);
  });

  it("waits for fires still being claimed or started, but never more than 20 ms", async () => {
    let release = () => {};
    let claims: Promise<unknown>[] = [
      new Promise<void>((r) => {
        release = r;
      }),
    ];
    // Free batches of a 40-record backlog; the claims in flight are whatever `claims` holds.
    const withClaims = () =>
      paced(
        { dutyCycle: 1 },
        () => ({ held: 0, took: 0 }),
        () => null,
        40,
        () => claims,
      );
    const run = withClaims();
    const pass = run.retention.runOnce();
    await settle();
    await run.clock.advance(5);
    await settle();
    // A slow claim (a busy disk): the batch would hold the loop just as it came back.
    expect(run.calls).toHaveLength(0);
    claims = [];
    release();
    await settle();
    expect(run.calls.length).toBeGreaterThanOrEqual(1);
    await pass;
    // A claim that never settles holds no pass up for longer than 20 ms a batch.
    claims = [new Promise(() => {})];
    const stuck = withClaims();
    const second = stuck.retention.runOnce();
    await settle();
    await stuck.clock.advance(19);
    await settle();
    expect(stuck.calls).toHaveLength(0);
    await stuck.clock.advance(2);
    await settle();
    expect(stuck.calls).toHaveLength(1);
    // The pass's other kinds (approvals, orders, audit) wait their 20 ms too, then it ends.
    for (let i = 0; i < 4; i++) {
      await stuck.clock.advance(21);
      await settle();
    }
    await second;
    expect(stuck.left()).toBe(0);
  });

  it("adds a late wake-up to the next pause, and stop() cuts a pause short", async () => {
    const pacer = new Pacer({ batchSize: 500, batchTimeMs: 2, dutyCycle: 0.5 }, () => 0);
    pacer.learn(1, 10);
    expect(pacer.pause()).toBe(10);
    pacer.learn(1, 10);
    pacer.lag(25);
    expect(pacer.pause()).toBe(35);
    expect(pacer.pause()).toBe(10);
    pacer.learn(1, 100_000);
    expect(pacer.pause()).toBe(1000);

    const { calls, retention } = paced({ dutyCycle: 0.01 }, () => ({ held: 0, took: 50 }));
    retention.start();
    const pass = retention.runOnce();
    await settle();
    expect(calls).toHaveLength(1);
    await retention.stop();
    await pass;
    expect(calls).toHaveLength(1);
  });
});
