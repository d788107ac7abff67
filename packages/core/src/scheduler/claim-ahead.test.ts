/**
 * A group of fires due together is claimed `claimAheadMs` before its instant and started at it;
 * whatever changes before the instant (a pause, a pause-all, the schedule removed or paused, a
 * stop) is decided at the instant as if the claim had been made then, and no handler starts early.
 */

import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { ExecutionRecord } from "../storage/records.js";
import type { TestClock } from "../testing/test-clock.js";
import type { Clock } from "../time/clock.js";
import type { Scheduler } from "./scheduler.js";
import { setup } from "./test-helpers.js";

const N = 100;

/** `n` one-offs `s0`... due at `at`. */
const oneOffs = (n: number, at: number, over: Record<string, unknown> = {}) =>
  Array.from({ length: n }, (_, i) => ({ id: `s${i}`, job: "job", trigger: { at }, ...over }));

async function all(scheduler: Scheduler): Promise<ExecutionRecord[]> {
  return (await scheduler.listExecutions({ limit: 1000 })).items;
}

/** A started scheduler with `n` one-offs due at T = now + 1 s; `starts` holds each handler's clock time. */
async function group(n = N, options: Parameters<typeof setup>[0] = {}) {
  const ctx = setup(options);
  const starts: number[] = [];
  ctx.scheduler.register("job", () => {
    starts.push(ctx.clock.now());
  });
  await ctx.scheduler.start();
  const T = ctx.clock.now() + 1000;
  await ctx.scheduler.createSchedules(oneOffs(n, T));
  return { ...ctx, starts, T };
}

describe("fires claimed ahead", () => {
  it("a group is claimed at least claimAheadMs before its instant and every fire starts at the instant, not before", async () => {
    const { clock, scheduler, starts, T } = await group();
    await clock.advance(1000 - 20);
    // Claimed: each record is there, running, with the instant as its start, all in one pass
    // (20 ms ahead, plus what 100 claims are expected to take).
    const claimed = await all(scheduler);
    expect(claimed).toHaveLength(N);
    const at = claimed[0]?.claimedAt as number;
    expect(at).toBeLessThanOrEqual(T - 20);
    expect(at).toBeGreaterThanOrEqual(T - 1000);
    expect(claimed.every((e) => e.status === "running" && e.claimedAt === at && e.startedAt === T)).toBe(
      true,
    );
    await clock.advance(19);
    expect(starts).toEqual([]);
    await clock.advance(1);
    expect(starts).toHaveLength(N);
    expect(starts.every((t) => t === T)).toBe(true);
    expect((await all(scheduler)).every((e) => e.status === "succeeded")).toBe(true);
    await scheduler.stop();
  });

  it("status() shows the instant as the next fire of a group claimed ahead, until it has come", async () => {
    const { clock, scheduler } = setup();
    scheduler.register("job", () => {});
    await scheduler.start();
    const T = clock.now() + 1000;
    // One-offs at T, and recurring schedules whose fire at T is followed by one a minute later.
    await scheduler.createSchedules([
      ...oneOffs(N, T),
      ...Array.from({ length: N }, (_, i) => ({
        id: `r${i}`,
        job: "job",
        trigger: { cron: `${new Date(T).getUTCSeconds()} * * * * *` },
      })),
    ]);
    const next = async () => new Map((await scheduler.status()).schedules.map((s) => [s.id, s.nextFireAt]));
    await clock.advance(1000 - 20);
    // Claimed ahead (the records are there), not started: the next fire is still T for all.
    expect((await all(scheduler)).filter((e) => e.scheduledAt === T)).toHaveLength(2 * N);
    const before = await next();
    expect([...before.values()].every((at) => at === T)).toBe(true);
    await clock.advance(20);
    const after = await next();
    expect(after.get("s0")).toBeNull();
    expect(after.get("r0")).toBe(T + 60_000);
    await scheduler.stop();
  });

  it("a retention batch steps aside for a group claimed ahead, as for any fire about to start", async () => {
    const storage = new MemoryStorage();
    const prunes: number[] = [];
    const { clock, scheduler } = setup({ storage, retention: { executions: { maxAge: "1d" } } });
    const prune = storage.pruneExecutions.bind(storage);
    storage.pruneExecutions = (p) => {
      prunes.push(clock.now());
      return prune(p);
    };
    scheduler.register("job", () => {});
    await scheduler.start();
    const T = clock.now() + 1000;
    await scheduler.createSchedules(oneOffs(N, T));
    // Claimed ahead at T - 20: a one-off pass started now must wait until just after T.
    await clock.advance(1000 - 20);
    expect(await all(scheduler)).toHaveLength(N);
    let done = false;
    const pass = scheduler.prune().finally(() => {
      done = true;
    });
    // The first step small (the instant is 20 ms away), then the rest of the pass.
    await clock.advance(10);
    for (let i = 0; i < 600 && !done; i++) await clock.advance(100);
    await pass;
    expect(prunes.length).toBeGreaterThan(0);
    expect(Math.min(...prunes)).toBeGreaterThan(T);
    await scheduler.stop();
  });

  it("no handler starts before its instant even on a clock whose timers fire a millisecond early", async () => {
    const base = setup();
    const early: Clock = {
      now: () => base.clock.now(),
      setTimeout: (fn, ms) => base.clock.setTimeout(fn, Math.max(0, ms - 1)),
      clearTimeout: (handle) => base.clock.clearTimeout(handle),
    };
    const { clock, scheduler } = setup({ storage: base.storage, clock: early as unknown as TestClock });
    const starts: number[] = [];
    scheduler.register("job", () => {
      starts.push(clock.now());
    });
    await scheduler.start();
    const T = clock.now() + 1000;
    await scheduler.createSchedules(oneOffs(N, T));
    await base.clock.advance(999);
    expect(starts).toEqual([]);
    await base.clock.advance(1);
    expect(starts).toHaveLength(N);
    expect(starts.every((t) => t >= T)).toBe(true);
    await scheduler.stop();
  });

  it("recurring schedules claimed ahead fire at their own instants, minute after minute", async () => {
    const { clock, scheduler } = setup();
    const fired: number[] = [];
    scheduler.register("job", (ctx) => {
      fired.push(ctx.fire.scheduledAt);
      expect(clock.now()).toBeGreaterThanOrEqual(ctx.fire.scheduledAt);
    });
    await scheduler.start();
    await scheduler.createSchedules(
      Array.from({ length: N }, (_, i) => ({ id: `m${i}`, job: "job", trigger: { cron: "0 * * * * *" } })),
    );
    const first = Math.ceil((clock.now() + 1) / 60_000) * 60_000;
    await clock.advanceTo(first + 60_000 + 10);
    const records = await all(scheduler);
    expect(records).toHaveLength(2 * N);
    expect(records.every((e) => e.status === "succeeded" && e.claimedAt < e.scheduledAt)).toBe(true);
    expect([...new Set(records.map((e) => e.scheduledAt))].sort()).toEqual([first, first + 60_000]);
    expect(fired.filter((t) => t === first)).toHaveLength(N);
    expect(fired.filter((t) => t === first + 60_000)).toHaveLength(N);
    await scheduler.stop();
  });

  it("a fire due alone (or with too few others) is claimed at its instant, as before", async () => {
    const { clock, scheduler, starts, T } = await group(10);
    await clock.advance(999);
    expect(await all(scheduler)).toEqual([]);
    await clock.advance(1);
    expect(starts).toHaveLength(10);
    expect((await all(scheduler)).every((e) => e.claimedAt === T)).toBe(true);
    await scheduler.stop();
  });

  it("claimAheadMs: 0 turns it off", async () => {
    const { clock, scheduler, starts, T } = await group(N, { claimAheadMs: 0 });
    await clock.advance(999);
    expect(await all(scheduler)).toEqual([]);
    await clock.advance(1);
    expect(starts).toHaveLength(N);
    expect((await all(scheduler)).every((e) => e.claimedAt === T && e.status === "succeeded")).toBe(true);
    await scheduler.stop();
  });

  it("a pause-all between the claim and the instant: no handler runs, each fire is recorded skipped (paused_all)", async () => {
    const { clock, scheduler, starts } = await group();
    await clock.advance(985);
    expect(await all(scheduler)).toHaveLength(N);
    await scheduler.pauseAll({ actor: "ops", reason: "halt" });
    await clock.advance(100);
    expect(starts).toEqual([]);
    const records = await all(scheduler);
    expect(
      records.every((e) => e.status === "skipped" && e.reason === "paused_all" && e.attempts === 0),
    ).toBe(true);
    await scheduler.stop();
  });

  it("this instance paused before the instant: skipped (paused), and resume does not run them again", async () => {
    const { clock, scheduler, starts } = await group();
    await clock.advance(985);
    await scheduler.pause();
    await clock.advance(100);
    await scheduler.resume();
    await clock.advance(60_000);
    expect(starts).toEqual([]);
    const records = await all(scheduler);
    expect(records).toHaveLength(N);
    expect(records.every((e) => e.status === "skipped" && e.reason === "paused")).toBe(true);
    await scheduler.stop();
  });

  it("a schedule removed, paused or disabled before the instant does not run; the others do", async () => {
    const { clock, scheduler, starts, T } = await group();
    await clock.advance(985);
    await scheduler.removeSchedule("s0");
    await scheduler.pauseSchedule("s1");
    await scheduler.updateSchedule("s2", { enabled: false });
    await clock.advance(100);
    expect(starts).toHaveLength(N - 3);
    const records = await all(scheduler);
    const reasonOf = (id: string) => records.find((e) => e.scheduleId === id)?.reason ?? "gone";
    // A removed schedule's history may go with it; a paused or disabled one keeps the skip.
    expect(["removed", "gone"]).toContain(reasonOf("s0"));
    expect(reasonOf("s1")).toBe("paused");
    expect(reasonOf("s2")).toBe("disabled");
    expect(records.filter((e) => e.status === "succeeded").every((e) => e.startedAt === T)).toBe(true);
    await scheduler.stop();
  });

  it("stop() before the instant releases every claim at once: none runs early, a restart runs each once at its instant", async () => {
    const { clock, scheduler, storage, starts, T } = await group();
    await clock.advance(985);
    expect(await all(scheduler)).toHaveLength(N);
    await scheduler.stop({ timeoutMs: 60_000 });
    expect(clock.now()).toBeLessThan(T);
    // Released, not handed over: nothing is left for a takeover to start before the instant.
    expect(await all(scheduler)).toEqual([]);
    const next = setup({ storage, clock, instanceId: "instance-b" });
    const startedB: number[] = [];
    next.scheduler.register("job", () => {
      startedB.push(clock.now());
    });
    await next.scheduler.start();
    await clock.advance(60_000);
    expect(starts).toEqual([]);
    expect(startedB).toHaveLength(N);
    expect(startedB.every((t) => t >= T)).toBe(true);
    const records = await all(next.scheduler);
    expect(records).toHaveLength(N);
    expect(records.every((e) => e.status === "succeeded" && e.instanceId === "instance-b")).toBe(true);
    await next.scheduler.stop();
  });

  it("is not used while another instance is live on the storage (its fires wait a step-in from their instant)", async () => {
    const a = setup({ stepInMs: 250, instanceId: "a" });
    const b = setup({ storage: a.storage, clock: a.clock, stepInMs: 250, instanceId: "b" });
    for (const s of [a, b]) s.scheduler.register("job", () => {});
    await Promise.all([a.scheduler.start(), b.scheduler.start()]);
    await a.clock.advance(11_000); // both beat again and see each other
    const T = a.clock.now() + 1000;
    await a.scheduler.createSchedules(oneOffs(N, T));
    await a.clock.advance(999);
    expect(await all(a.scheduler)).toEqual([]);
    await a.clock.advance(1000);
    const records = await all(a.scheduler);
    expect(records).toHaveLength(N);
    expect(records.every((e) => e.claimedAt >= T)).toBe(true);
    expect(new Set(records.map((e) => e.instanceId))).toEqual(new Set(["a", "b"]));
    await Promise.all([a.scheduler.stop(), b.scheduler.stop()]);
  });

  it("rejects a claimAheadMs out of range with a ValidationError naming the field", () => {
    for (const bad of [-1, 1.5, 1001]) {
      try {
        setup({ claimAheadMs: bad });
        expect.unreachable(`accepted claimAheadMs ${bad}`);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).code).toBe("VALIDATION");
        expect((error as ValidationError).field).toContain("claimAheadMs");
      }
    }
  });
});
