import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../storage/memory-storage.js";
import { TestClock } from "../testing/test-clock.js";
import { deferred, iso, setup, severable } from "./test-helpers.js";

describe("misfire policies (fires missed while down)", () => {
  async function downtime(misfire: unknown, downMs = 10 * 60_000) {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const storage = new MemoryStorage();
    const first = setup({ clock, storage });
    first.scheduler.register("job", () => {});
    await first.scheduler.createSchedule({
      id: "m",
      job: "job",
      trigger: { cron: "* * * * *" },
      misfire: misfire as never,
    });
    await first.scheduler.start();
    await clock.advance(60_000); // runs 14:31
    await first.scheduler.stop();
    await clock.advance(downMs); // down until 14:41 (+ 20 s below)
    await clock.advance(20_000);
    const second = setup({ clock, storage, instanceId: "instance-b" });
    const ran: { at: string; kind: string }[] = [];
    second.scheduler.register("job", (ctx) => {
      ran.push({ at: iso(ctx.fire.scheduledAt), kind: ctx.fire.kind });
    });
    await second.scheduler.start();
    await clock.advance(1000);
    return { ran, second, storage, clock };
  }

  it("skip (default) records the missed fires once and waits for the next one", async () => {
    const { ran, second, clock } = await downtime(undefined);
    // 14:41 is 20 s late: within the 30 s tolerance it is simply run late; 14:32..14:40 were missed.
    expect(ran).toEqual([{ at: "2026-01-05T14:41:00.000Z", kind: "scheduled" }]);
    const skipped = (await second.scheduler.listExecutions({ scheduleId: "m", status: "skipped" })).items;
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({
      reason: "misfire",
      scheduledAt: Date.parse("2026-01-05T14:40:00Z"),
      details: {
        missed: 9,
        firstAt: Date.parse("2026-01-05T14:32:00Z"),
        lastAt: Date.parse("2026-01-05T14:40:00Z"),
      },
    });
    expect(second.events.of("fire:missed")).toMatchObject([{ count: 9, policy: "skip", ran: 0 }]);
    await clock.advance(60_000);
    expect(ran.map((r) => r.at)).toContain("2026-01-05T14:42:00.000Z");
    await second.scheduler.stop();
  });

  it("run_once runs the latest missed fire within the grace period, coalescing the rest", async () => {
    const { ran, second } = await downtime({ policy: "run_once", graceMs: 5 * 60_000, toleranceMs: 10_000 });
    // 14:41 is 20 s late (> 10 s tolerance), so it is missed too; it is the latest, within 5 min grace.
    expect(ran).toEqual([{ at: "2026-01-05T14:41:00.000Z", kind: "catchup" }]);
    expect(second.events.of("fire:missed")).toMatchObject([{ count: 10, policy: "run_once", ran: 1 }]);
    const skipped = (await second.scheduler.listExecutions({ scheduleId: "m", status: "skipped" })).items;
    expect(skipped[0]?.reason).toBe("coalesced");
    await second.scheduler.stop();
  });

  it("run_once runs nothing when the latest missed fire is older than the grace period", async () => {
    const { ran, second } = await downtime({ policy: "run_once", graceMs: 5000, toleranceMs: 5000 });
    expect(ran).toEqual([]);
    const skipped = (await second.scheduler.listExecutions({ scheduleId: "m", status: "skipped" })).items;
    expect(skipped[0]).toMatchObject({ reason: "misfire", details: { missed: 10 } });
    await second.scheduler.stop();
  });

  it("run_all runs every missed fire within the window, oldest first, one after another", async () => {
    const { ran, second, clock } = await downtime({ policy: "run_all", windowMs: 5 * 60_000 });
    await clock.advance(1000);
    expect(ran).toEqual([
      { at: "2026-01-05T14:37:00.000Z", kind: "catchup" },
      { at: "2026-01-05T14:38:00.000Z", kind: "catchup" },
      { at: "2026-01-05T14:39:00.000Z", kind: "catchup" },
      { at: "2026-01-05T14:40:00.000Z", kind: "catchup" },
      { at: "2026-01-05T14:41:00.000Z", kind: "scheduled" },
    ]);
    expect(second.events.of("fire:missed")).toMatchObject([{ count: 9, policy: "run_all", ran: 4 }]);
    await second.scheduler.stop();
  });

  it("run_all stops at maxRuns, keeping the most recent fires", async () => {
    const { ran, second } = await downtime({ policy: "run_all", windowMs: 3_600_000, maxRuns: 2 });
    expect(ran.map((r) => r.at)).toEqual([
      "2026-01-05T14:39:00.000Z",
      "2026-01-05T14:40:00.000Z",
      "2026-01-05T14:41:00.000Z",
    ]);
    await second.scheduler.stop();
  });

  it("counts a very long downtime without enumerating every missed fire", async () => {
    const { ran, second } = await downtime(undefined, 3 * 86_400_000);
    expect(ran).toHaveLength(1);
    const [missed] = second.events.of("fire:missed");
    expect(missed?.count).toBeGreaterThanOrEqual(4000);
    await second.scheduler.stop();
  });
});

describe("clock jumps and timer drift", () => {
  it("treats a forward jump of the wall clock as missed fires, not a burst", async () => {
    const { clock, scheduler, events } = setup({ start: "2026-01-05T14:30:00Z" });
    const ran: string[] = [];
    scheduler.register("job", (ctx) => {
      ran.push(iso(ctx.fire.scheduledAt));
    });
    await scheduler.createSchedule({ id: "s", job: "job", trigger: { cron: "* * * * *" } });
    await scheduler.start();
    clock.jump("2026-01-05T16:00:40Z"); // NTP fix or VM resume: 90 minutes forward at once
    await clock.advance(30_000); // the capped timer wakes within 30 s, at 16:01:10
    // 14:31..16:00 were missed (one record, no burst); 16:01 is only 10 s late and runs.
    expect(ran).toEqual(["2026-01-05T16:01:00.000Z"]);
    expect(events.of("fire:missed")).toMatchObject([{ count: 90, policy: "skip", ran: 0 }]);
    expect(events.of("timer:drift").some((d) => d.kind === "late")).toBe(true);
    await clock.advance(60_000);
    expect(ran).toEqual(["2026-01-05T16:01:00.000Z", "2026-01-05T16:02:00.000Z"]);
    await scheduler.stop();
  });

  it("does not fire twice when the wall clock moves backwards", async () => {
    const { clock, scheduler, events } = setup({ start: "2026-01-05T14:30:00Z" });
    const ran: string[] = [];
    scheduler.register("job", (ctx) => {
      ran.push(iso(ctx.fire.scheduledAt));
    });
    await scheduler.createSchedule({ id: "s", job: "job", trigger: { cron: "* * * * *" } });
    await scheduler.start();
    await clock.advance(125_000); // 14:32:05, ran 14:31 and 14:32
    clock.jump("2026-01-05T14:30:30Z"); // wall clock set back by 95 s
    await clock.advance(240_000);
    expect(ran).toEqual([
      "2026-01-05T14:31:00.000Z",
      "2026-01-05T14:32:00.000Z",
      "2026-01-05T14:33:00.000Z",
      "2026-01-05T14:34:00.000Z",
    ]);
    expect(events.of("timer:drift").some((d) => d.kind === "backwards" || d.kind === "early")).toBe(true);
    await scheduler.stop();
  });
});

describe("overlap policies (a fire comes while the previous run is still going)", () => {
  async function overlapping(overlap: string) {
    const { clock, scheduler, events } = setup({ start: "2026-01-05T14:30:00Z", overlapPollMs: 100 });
    const releases: (() => void)[] = [];
    const started: string[] = [];
    const signals: AbortSignal[] = [];
    scheduler.register("slow", (ctx) => {
      started.push(iso(ctx.fire.scheduledAt));
      signals.push(ctx.signal);
      const d = deferred();
      releases.push(() => d.resolve());
      ctx.signal.addEventListener("abort", () => d.reject(ctx.signal.reason));
      return d.promise;
    });
    await scheduler.createSchedule({
      id: "s",
      job: "slow",
      trigger: { every: "10s" },
      overlap: overlap as never,
    });
    await scheduler.start();
    await clock.advance(10_000); // first run starts at 14:30:10
    await clock.advance(20_000); // fires at 14:30:20 and 14:30:30 while it is running
    return { clock, scheduler, events, releases, started, signals };
  }

  it("skip records the overlapping fires as skipped", async () => {
    const { scheduler, events, started } = await overlapping("skip");
    expect(started).toEqual(["2026-01-05T14:30:10.000Z"]);
    expect(events.of("run:skipped").map((e) => [iso(e.execution.scheduledAt), e.reason])).toEqual([
      ["2026-01-05T14:30:20.000Z", "overlap"],
      ["2026-01-05T14:30:30.000Z", "overlap"],
    ]);
    await scheduler.stop({ timeoutMs: 0 });
  });

  it("buffer_one keeps one waiting fire and skips the rest; it runs when the previous ends", async () => {
    const { clock, scheduler, events, releases, started } = await overlapping("buffer_one");
    expect(events.of("run:skipped").map((e) => [iso(e.execution.scheduledAt), e.reason])).toEqual([
      ["2026-01-05T14:30:30.000Z", "overlap_buffer_full"],
    ]);
    releases[0]?.();
    await clock.advance(1);
    expect(started).toEqual(["2026-01-05T14:30:10.000Z", "2026-01-05T14:30:20.000Z"]);
    await scheduler.stop({ timeoutMs: 0 });
  });

  it("buffer_all runs every overlapping fire in order, one at a time", async () => {
    const { clock, scheduler, releases, started } = await overlapping("buffer_all");
    expect(started).toHaveLength(1);
    releases[0]?.();
    await clock.advance(1);
    expect(started).toHaveLength(2);
    releases[1]?.();
    await clock.advance(1);
    expect(started).toEqual([
      "2026-01-05T14:30:10.000Z",
      "2026-01-05T14:30:20.000Z",
      "2026-01-05T14:30:30.000Z",
    ]);
    await scheduler.stop({ timeoutMs: 0 });
  });

  it("cancel_previous aborts the running one, records it as cancelled, then starts", async () => {
    const { scheduler, started, signals } = await overlapping("cancel_previous");
    expect(started).toEqual([
      "2026-01-05T14:30:10.000Z",
      "2026-01-05T14:30:20.000Z",
      "2026-01-05T14:30:30.000Z",
    ]);
    expect(signals.map((s) => s.aborted)).toEqual([true, true, false]);
    const cancelled = (await scheduler.listExecutions({ status: "cancelled" })).items;
    expect(cancelled.map((e) => [iso(e.scheduledAt), e.reason])).toEqual([
      ["2026-01-05T14:30:20.000Z", "superseded"],
      ["2026-01-05T14:30:10.000Z", "superseded"],
    ]);
    await scheduler.stop({ timeoutMs: 0 });
  });

  it("allow runs overlapping fires concurrently", async () => {
    const { scheduler, started } = await overlapping("allow");
    expect(started).toHaveLength(3);
    expect(scheduler.runningCount).toBe(3);
    await scheduler.stop({ timeoutMs: 0 });
  });

  it("sees a run held by another instance on the same storage", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const storage = new MemoryStorage();
    const a = setup({ clock, storage, instanceId: "a" });
    const b = setup({ clock, storage, instanceId: "b" });
    const hold = deferred();
    const starts: string[] = [];
    for (const x of [a, b]) {
      x.scheduler.register("slow", (ctx) => {
        starts.push(`${ctx.fire.scheduledAt}`);
        return hold.promise;
      });
    }
    await a.scheduler.createSchedule({ id: "s", job: "slow", trigger: { every: "10s" } });
    await a.scheduler.start();
    await b.scheduler.start();
    await clock.advance(30_000);
    expect(starts).toHaveLength(1);
    const skipped = [...a.events.of("run:skipped"), ...b.events.of("run:skipped")];
    expect(skipped.map((e) => e.reason)).toEqual(["overlap", "overlap"]);
    hold.resolve();
    await a.scheduler.stop();
    await b.scheduler.stop();
  });
});

describe("the overlap check fails closed", () => {
  /** A storage whose overlap check (activeExecutions) fails while `down` is above zero. */
  function flaky() {
    const memory = new MemoryStorage();
    const state = { down: 0 };
    const storage = new Proxy(memory, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== "activeExecutions") return typeof value === "function" ? value.bind(target) : value;
        return async (...args: [string]) => {
          if (state.down > 0) {
            state.down--;
            throw new Error("connection reset");
          }
          return memory.activeExecutions(...args);
        };
      },
    });
    return { storage, state };
  }

  async function running(down: number) {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const { storage, state } = flaky();
    const { scheduler, events } = setup({ clock, storage, overlapPollMs: 1000 });
    let active = 0;
    let most = 0;
    scheduler.register("slow", async () => {
      active++;
      most = Math.max(most, active);
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 90_000));
      active--;
    });
    await scheduler.createSchedule({ id: "s", job: "slow", trigger: { every: "1m" }, overlap: "skip" });
    await scheduler.start();
    await clock.advance(60_000); // the first run starts
    state.down = down; // the second fire's check cannot reach storage
    await clock.advance(60_000 + 40_000);
    return { scheduler, events, most: () => most };
  }

  it("asks again while storage cannot tell, and skips the fire once it can see the run in progress", async () => {
    const { scheduler, events, most } = await running(3);
    // Before: "cannot tell" counted as "nothing running", and the second handler started alongside.
    expect(most()).toBe(1);
    expect(events.of("run:skipped").map((e) => e.reason)).toEqual(["overlap"]);
    await scheduler.stop({ timeoutMs: 0 });
  });

  it("skips the fire (reason overlap_unknown) when storage stays unreachable past the misfire tolerance", async () => {
    const { scheduler, events, most } = await running(1_000);
    expect(most()).toBe(1);
    expect(events.of("run:skipped").map((e) => e.reason)).toEqual(["overlap_unknown"]);
    await scheduler.stop({ timeoutMs: 0 });
  });
});

describe("retry and timeout", () => {
  it("retries with exponential backoff on the injected clock, same fire and idempotency key", async () => {
    const { clock, scheduler, events } = setup({ start: "2026-01-05T16:35:00Z" });
    const attempts: { attempt: number; at: number; key: string }[] = [];
    scheduler.register("snapshot", (ctx) => {
      attempts.push({ attempt: ctx.fire.attempt, at: ctx.now(), key: ctx.fire.idempotencyKey });
      if (ctx.fire.attempt < 3) throw new Error("Connection refused");
      return "ok";
    });
    await scheduler.createSchedule({
      id: "snap",
      job: "snapshot",
      trigger: { cron: "35 16 * * *" },
      retry: { attempts: 3, backoff: { baseMs: 60_000, factor: 2 } },
    });
    await scheduler.start();
    await clock.advanceTo("2026-01-06T16:35:00Z");
    await clock.advance(59_999);
    expect(attempts).toHaveLength(1);
    await clock.advance(1);
    expect(attempts).toHaveLength(2);
    await clock.advance(120_000);
    expect(attempts.map((a) => [a.attempt, iso(a.at)])).toEqual([
      [1, "2026-01-06T16:35:00.000Z"],
      [2, "2026-01-06T16:36:00.000Z"],
      [3, "2026-01-06T16:38:00.000Z"],
    ]);
    expect(new Set(attempts.map((a) => a.key)).size).toBe(1);
    expect(events.of("run:retrying").map((r) => [r.attempt, r.delayMs])).toEqual([
      [2, 60_000],
      [3, 120_000],
    ]);
    const [execution] = (await scheduler.listExecutions({ scheduleId: "snap" })).items;
    expect(execution).toMatchObject({ status: "succeeded", attempts: 3, result: "ok" });
    await scheduler.stop();
  });

  it("gives up after the last attempt and reports the exhausted failure", async () => {
    const { clock, scheduler, events } = setup();
    scheduler.register("down", () => {
      throw Object.assign(new Error("503 from broker"), { code: "E503" });
    });
    await scheduler.createSchedule({
      id: "d",
      job: "down",
      trigger: { every: "1h" },
      retry: { attempts: 3, backoff: { baseMs: 1000 } },
    });
    await scheduler.start();
    await clock.advance(3_600_000 + 3000);
    const [failure] = events.of("run:failed");
    expect(failure).toMatchObject({ exhausted: true, execution: { status: "failed", attempts: 3 } });
    expect(failure?.execution.error).toEqual({ message: "503 from broker", code: "E503", name: "Error" });
    await scheduler.stop();
  });

  it("does not retry errors the policy names as non-retryable", async () => {
    const { clock, scheduler } = setup();
    let calls = 0;
    scheduler.register("reject", () => {
      calls++;
      throw Object.assign(new Error("insufficient buying power"), { code: "INSUFFICIENT_FUNDS" });
    });
    await scheduler.createSchedule({
      id: "r",
      job: "reject",
      trigger: { every: "1h" },
      retry: { attempts: 5, nonRetryable: ["INSUFFICIENT_FUNDS"] },
    });
    await scheduler.start();
    await clock.advance(3_600_000 + 60_000);
    expect(calls).toBe(1);
    await scheduler.stop();
  });

  it("waits at least as long as a rate-limited error asks before retrying", async () => {
    const { clock, scheduler, events } = setup();
    let calls = 0;
    scheduler.register("limited", () => {
      calls++;
      if (calls === 1) throw Object.assign(new Error("429"), { retryAfterMs: 45_000 });
    });
    await scheduler.createSchedule({ id: "l", job: "limited", trigger: { every: "1h" } });
    await scheduler.start();
    await clock.advance(3_600_000);
    expect(events.of("run:retrying")[0]?.delayMs).toBe(45_000);
    await clock.advance(44_999);
    expect(calls).toBe(1);
    await clock.advance(1);
    expect(calls).toBe(2);
    await scheduler.stop();
  });

  it("aborts a handler at its timeout, records it as timed out and discards its late result", async () => {
    const { clock, scheduler, events } = setup();
    let signal: AbortSignal | null = null;
    const late = deferred<string>();
    scheduler.register("slow", (ctx) => {
      signal = ctx.signal;
      return late.promise; // ignores its signal
    });
    await scheduler.createSchedule({ id: "t", job: "slow", trigger: { every: "1h" }, timeout: "30s" });
    await scheduler.start();
    await clock.advance(3_600_000 + 29_999);
    expect((signal as AbortSignal | null)?.aborted).toBe(false);
    await clock.advance(1);
    expect((signal as AbortSignal | null)?.aborted).toBe(true);
    const [timedOut] = events.of("run:timed-out");
    expect(timedOut).toMatchObject({ timeoutMs: 30_000, execution: { status: "timed_out", attempts: 1 } });
    expect(timedOut?.execution.error?.code).toBe("RUN_TIMEOUT");
    late.resolve("too late");
    await clock.flush();
    expect(events.of("run:late-result")).toHaveLength(1);
    const [execution] = (await scheduler.listExecutions({ scheduleId: "t" })).items;
    expect(execution?.status).toBe("timed_out");
    expect(execution?.result).toBeNull();
    expect(events.of("run:retrying")).toHaveLength(0);
    await scheduler.stop();
  });

  it("times a run out at a timeout above setTimeout's limit (30 days), not after a few ms", async () => {
    // Long lease and waits keep the timer ticks few while the test clock crosses 30 days.
    const { clock, scheduler, events } = setup({ leaseMs: 86_400_000, maxWaitMs: 86_400_000 });
    const done = deferred();
    scheduler.register("long", (ctx) => {
      ctx.signal.addEventListener("abort", () => done.resolve());
      return done.promise;
    });
    await scheduler.createSchedule({
      id: "long",
      job: "long",
      trigger: { at: "2026-01-05T14:31:00Z" },
      timeout: "30d",
    });
    await scheduler.start();
    await clock.advance(120_000);
    expect(events.of("run:started")).toHaveLength(1);
    expect(events.of("run:timed-out")).toHaveLength(0);
    await clock.advance(30 * 86_400_000 - 60_001);
    expect(events.of("run:timed-out")).toHaveLength(0);
    await clock.advance(1);
    expect(events.of("run:timed-out")).toHaveLength(1);
    await scheduler.stop();
  });

  it("takes over a fire whose holder died, with attempt + 1 and the same idempotency key", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const storage = new MemoryStorage();
    const { storage: deadView, sever } = severable(storage);
    const dead = setup({ clock, storage: deadView, instanceId: "dead", leaseMs: 9000 });
    const seen: { instance: string; attempt: number; key: string }[] = [];
    dead.scheduler.register("job", (ctx) => {
      seen.push({ instance: "dead", attempt: ctx.fire.attempt, key: ctx.fire.idempotencyKey });
      return new Promise(() => {}); // "crashes": never finishes, and its lease will not be renewed
    });
    await dead.scheduler.createSchedule({ id: "s", job: "job", trigger: { cron: "0 15 * * *" } });
    await dead.scheduler.start();
    await clock.advanceTo("2026-01-05T15:00:00Z");
    expect(seen).toHaveLength(1);
    sever(); // the process dies: it renews no lease and writes nothing more
    const heir = setup({ clock, storage, instanceId: "heir", leaseMs: 9000 });
    heir.scheduler.register("job", (ctx) => {
      seen.push({ instance: "heir", attempt: ctx.fire.attempt, key: ctx.fire.idempotencyKey });
      return "recovered";
    });
    await heir.scheduler.start();
    await clock.advance(30_000);
    expect(seen.map((s) => [s.instance, s.attempt])).toEqual([
      ["dead", 1],
      ["heir", 2],
    ]);
    expect(seen[0]?.key).toBe(seen[1]?.key);
    expect(heir.events.of("fire:taken-over")).toHaveLength(1);
    const [execution] = (await heir.scheduler.listExecutions({ scheduleId: "s" })).items;
    expect(execution).toMatchObject({
      status: "succeeded",
      instanceId: "heir",
      attempts: 2,
      result: "recovered",
    });
    await heir.scheduler.stop();
  });
});
