import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { ExecutionRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import { TestClock } from "../testing/test-clock.js";
import { deferred, setup } from "./test-helpers.js";

const T = Date.parse("2026-01-05T14:31:00Z");

/**
 * A view of `storage` whose claim answers are held back while `hold()` is in force, as a slow
 * network would: the storage decides the claim at once, the instance learns of it only on
 * `release()`. After `seal()` it behaves like a closed storage: every call rejects, and is recorded
 * (there must be none once stop() resolved: the host closes the storage next).
 */
function slowClaims(storage: Storage) {
  let gate: ReturnType<typeof deferred<void>> | null = null;
  let sealed = false;
  const late: string[] = [];
  const view = new Proxy(storage, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || prop === "watch" || prop === "issues") return value;
      return async (...args: unknown[]) => {
        if (sealed) {
          late.push(String(prop));
          throw new Error("the storage is closed");
        }
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        const held = gate;
        // Single and batch claims alike (fires due together go out in one `claimFires`).
        if ((prop === "claimFire" || prop === "claimFires") && held) await held.promise;
        return result;
      };
    },
  });
  return {
    storage: view,
    hold: () => {
      gate = deferred();
    },
    release: () => {
      gate?.resolve(undefined);
      gate = null;
    },
    seal: () => {
      sealed = true;
    },
    late,
  };
}

/** Handlers that take `ms` on the test clock, counting starts and ends per fire. */
function slowJob(clock: TestClock, ms: number) {
  const started = new Map<string, number>();
  const ended = new Map<string, number>();
  let active = 0;
  const handler = async (ctx: { fire: { idempotencyKey: string } }) => {
    const key = ctx.fire.idempotencyKey;
    started.set(key, (started.get(key) ?? 0) + 1);
    active++;
    await new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    active--;
    ended.set(key, (ended.get(key) ?? 0) + 1);
    return "done";
  };
  return { handler, started, ended, active: () => active };
}

async function oneRecordPerFire(storage: Storage, scheduleIds: string[]): Promise<ExecutionRecord[]> {
  const out: ExecutionRecord[] = [];
  for (const id of scheduleIds) {
    const items = (await storage.listExecutions({ scheduleId: id, limit: 10 })).items;
    expect(items, id).toHaveLength(1);
    out.push(items[0] as ExecutionRecord);
  }
  return out;
}

describe("stop() with claims in flight", () => {
  it("runs a fire whose claim is in flight to its end before it resolves, with nothing else running", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const memory = new MemoryStorage();
    const view = slowClaims(memory);
    const { scheduler } = setup({ clock, storage: view.storage });
    const job = slowJob(clock, 5000);
    scheduler.register("job", job.handler);
    await scheduler.createSchedule({ id: "once", job: "job", trigger: { at: T } });
    await scheduler.start();
    view.hold();
    await clock.advanceTo(T); // the claim is sent; its answer is held back
    let resolved = false;
    const stopped = scheduler.stop({ timeoutMs: 20_000 }).then(() => {
      resolved = true;
      view.seal(); // the host closes the storage as soon as stop() resolves
    });
    view.release();
    await clock.advance(1000);
    expect(job.active()).toBe(1);
    // Before: stop() resolved here, 1 ms in, while the handler kept going with nowhere to record.
    expect(resolved).toBe(false);
    await clock.advance(4000);
    await stopped;
    expect(job.active()).toBe(0);
    const [record] = await oneRecordPerFire(memory, ["once"]);
    expect(record).toMatchObject({ status: "succeeded", attempts: 1, result: "done" });
    expect(view.late).toEqual([]);
  });

  it("runs fires claimed during stop() to their end while another run is in progress", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const memory = new MemoryStorage();
    const view = slowClaims(memory);
    const { scheduler, events } = setup({ clock, storage: view.storage });
    const job = slowJob(clock, 3000);
    scheduler.register("job", job.handler);
    // The run in progress ends 200 ms into the stop, long before the fires claimed during it.
    scheduler.register("long", () => new Promise<void>((resolve) => clock.setTimeout(resolve, 30_200)));
    const ids = Array.from({ length: 14 }, (_, i) => `due-${i}`);
    for (const id of ids) await scheduler.createSchedule({ id, job: "job", trigger: { at: T } });
    await scheduler.createSchedule({ id: "long", job: "long", trigger: { at: T - 30_000 } });
    await scheduler.start();
    await clock.advanceTo(T - 29_000);
    expect(scheduler.runningCount).toBe(1);
    view.hold();
    await clock.advanceTo(T); // 14 claims sent, answers held back
    let resolved = false;
    const stopped = scheduler.stop({ timeoutMs: 20_000 }).then(() => {
      resolved = true;
      view.seal();
    });
    view.release();
    await clock.advance(1000);
    // Before: once the run stop() knew of ended (200 ms in), the 14 were recorded cancelled/shutdown.
    expect(resolved).toBe(false);
    await clock.advance(2000);
    await stopped;
    expect([...job.ended.values()]).toEqual(Array(14).fill(1));
    const records = await oneRecordPerFire(memory, [...ids, "long"]);
    expect(records.map((r) => r.status)).toEqual(Array(15).fill("succeeded"));
    expect(events.of("run:cancelled")).toEqual([]);
    expect(view.late).toEqual([]);
  });

  it("with two instances, each fire claimed during stop() runs exactly once, and nothing runs after", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const memory = new MemoryStorage();
    const viewA = slowClaims(memory);
    const a = setup({ clock, storage: viewA.storage, instanceId: "a", leaseMs: 3000 });
    const b = setup({ clock, storage: memory, instanceId: "b", leaseMs: 3000 });
    const job = slowJob(clock, 2000);
    const ran: string[] = [];
    a.scheduler.register("job", async (ctx) => {
      ran.push(`a:${ctx.fire.idempotencyKey}`);
      return job.handler(ctx);
    });
    b.scheduler.register("job", async (ctx) => {
      ran.push(`b:${ctx.fire.idempotencyKey}`);
      return job.handler(ctx);
    });
    const ids = Array.from({ length: 14 }, (_, i) => `due-${i}`);
    for (const id of ids) await a.scheduler.createSchedule({ id, job: "job", trigger: { at: T } });
    await a.scheduler.start(); // A's timer is set first, so A claims first and wins every fire
    await b.scheduler.start();
    viewA.hold();
    await clock.advanceTo(T);
    expect(b.events.of("fire:taken")).toHaveLength(14);
    // The host's sequence (examples/standalone): stop(), then close the storage.
    const stopped = a.scheduler.stop({ timeoutMs: 20_000 }).then(() => viewA.seal());
    viewA.release();
    await clock.advance(2000);
    await stopped;
    await clock.advance(30_000); // long past A's lease: B would take over anything left running
    const records = await oneRecordPerFire(memory, ids);
    expect(records.map((r) => [r.status, r.instanceId])).toEqual(Array(14).fill(["succeeded", "a"]));
    expect(ran.filter((r) => r.startsWith("b:"))).toEqual([]);
    expect([...job.ended.values()]).toEqual(Array(14).fill(1));
    expect(viewA.late).toEqual([]);
    await b.scheduler.stop();
  });

  it("with a zero deadline, hands fires whose claim is in flight over unstarted, and the other instance runs each once", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const memory = new MemoryStorage();
    const viewA = slowClaims(memory);
    const a = setup({ clock, storage: viewA.storage, instanceId: "a", leaseMs: 3000 });
    const b = setup({ clock, storage: memory, instanceId: "b", leaseMs: 3000 });
    const ran: { instance: string; key: string; attempt: number }[] = [];
    for (const [name, s] of [
      ["a", a.scheduler],
      ["b", b.scheduler],
    ] as const) {
      s.register("job", (ctx) => {
        ran.push({ instance: name, key: ctx.fire.idempotencyKey, attempt: ctx.fire.attempt });
      });
    }
    const ids = Array.from({ length: 14 }, (_, i) => `due-${i}`);
    for (const id of ids) await a.scheduler.createSchedule({ id, job: "job", trigger: { at: T } });
    await a.scheduler.start();
    await b.scheduler.start();
    viewA.hold();
    await clock.advanceTo(T);
    const stopped = a.scheduler.stop({ timeoutMs: 0 }).then(() => viewA.seal());
    viewA.release();
    await clock.flush();
    await stopped;
    expect(a.events.of("fire:handed-over")).toHaveLength(14);
    expect(ran.filter((r) => r.instance === "a")).toEqual([]);
    await clock.advance(5000); // B's maintenance takes the handed-over fires
    expect(ran.map((r) => [r.instance, r.attempt])).toEqual(Array(14).fill(["b", 1]));
    expect(new Set(ran.map((r) => r.key)).size).toBe(14);
    const records = await oneRecordPerFire(memory, ids);
    expect(records.map((r) => [r.status, r.instanceId, r.attempts])).toEqual(
      Array(14).fill(["succeeded", "b", 1]),
    );
    expect(viewA.late).toEqual([]);
    await b.scheduler.stop();
  });
});

describe("stop() called from within the claim", () => {
  it("still sees the claim as in flight and runs the fire to its end", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const memory = new MemoryStorage();
    let stopped: Promise<unknown> | null = null;
    const { scheduler } = setup({
      clock,
      storage: new Proxy(memory, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (prop !== "claimFire") return typeof value === "function" ? value.bind(target) : value;
          return (claim: never) => {
            const answer = target.claimFire(claim);
            // A host reacting to something inside the storage call (a log line, a signal).
            stopped ??= scheduler.stop({ timeoutMs: 20_000 });
            return answer;
          };
        },
      }),
    });
    const job = slowJob(clock, 2000);
    scheduler.register("job", job.handler);
    await scheduler.createSchedule({ id: "once", job: "job", trigger: { at: T } });
    await scheduler.start();
    await clock.advanceTo(T);
    await clock.advance(2000);
    await stopped;
    expect(job.ended.get("once@2026-01-05T14:31:00.000Z")).toBe(1);
    expect(await memory.findExecution("once", T)).toMatchObject({
      status: "succeeded",
      instanceId: "instance-a",
    });
  });
});

describe("stop() and the storage", () => {
  it("leaves the storage open (it is the host's), unless closeStorage: true", async () => {
    for (const closeStorage of [false, true]) {
      const memory = new MemoryStorage();
      let closed = 0;
      const storage = Object.assign(Object.create(memory) as MemoryStorage, {
        close: async () => {
          closed++;
        },
      });
      const { scheduler } = setup({ storage });
      await scheduler.start();
      await scheduler.stop({ closeStorage });
      expect(closed, `closeStorage: ${closeStorage}`).toBe(closeStorage ? 1 : 0);
    }
  });
});

describe("stop() keeps what it waits for", () => {
  it("keeps renewing the leases of runs longer than the lease, so no other instance runs them again", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const memory = new MemoryStorage();
    const a = setup({ clock, storage: memory, instanceId: "a", leaseMs: 3000 });
    const b = setup({ clock, storage: memory, instanceId: "b", leaseMs: 3000 });
    const ran: string[] = [];
    for (const [name, s] of [
      ["a", a.scheduler],
      ["b", b.scheduler],
    ] as const) {
      s.register("job", async () => {
        ran.push(name);
        await new Promise<void>((resolve) => clock.setTimeout(resolve, 10_000));
      });
    }
    await a.scheduler.createSchedule({ id: "s", job: "job", trigger: { at: T } });
    await a.scheduler.start();
    await b.scheduler.start();
    await clock.advanceTo(T + 1000);
    const stopped = a.scheduler.stop({ timeoutMs: 20_000 });
    await clock.advance(12_000);
    await stopped;
    // Before: stop() stopped renewing, the 3 s lease ran out, and B ran the fire a second time.
    expect(ran).toEqual(["a"]);
    expect(await memory.findExecution("s", T)).toMatchObject({ status: "succeeded", instanceId: "a" });
    await b.scheduler.stop();
  });
});

describe("stop() hands over what it does not finish", () => {
  it("hands a run that fails during stop over as it starts its backoff; the taker runs the next attempt", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const memory = new MemoryStorage();
    const a = setup({ clock, storage: memory, instanceId: "a", leaseMs: 3000 });
    const b = setup({ clock, storage: memory, instanceId: "b", leaseMs: 3000 });
    const seen: [string, number][] = [];
    a.scheduler.register("job", async (ctx) => {
      seen.push(["a", ctx.fire.attempt]);
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 2000));
      throw new Error("broker timeout"); // retryable
    });
    b.scheduler.register("job", (ctx) => {
      seen.push(["b", ctx.fire.attempt]);
      return "recovered";
    });
    await a.scheduler.createSchedule({
      id: "s",
      job: "job",
      trigger: { at: T },
      retry: { attempts: 3, backoff: { baseMs: "10s" } },
    });
    await a.scheduler.start();
    await clock.advanceTo(T + 1000);
    let stoppedAt: number | null = null;
    const stopped = a.scheduler.stop({ timeoutMs: 20_000 }).then(() => {
      stoppedAt = clock.now();
    });
    await clock.advance(1500); // attempt 1 fails 2 s in: A hands over instead of backing off 10 s
    await stopped;
    // Before: stop() waited out the 10 s backoff and ran attempt 2 itself.
    expect(stoppedAt).toBeLessThan(T + 5000);
    expect(a.events.of("fire:handed-over")).toHaveLength(1);
    await b.scheduler.start();
    await clock.advance(5000);
    expect(seen).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
    const [record] = (await memory.listExecutions({ scheduleId: "s", limit: 5 })).items;
    expect(record).toMatchObject({ status: "succeeded", instanceId: "b", attempts: 2, result: "recovered" });
    await b.scheduler.stop();
  });

  it("hands a buffered fire over (instead of deleting it): another instance runs it once, after the run before it", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const memory = new MemoryStorage();
    const a = setup({ clock, storage: memory, instanceId: "a", leaseMs: 3000, overlapPollMs: 500 });
    const b = setup({ clock, storage: memory, instanceId: "b", leaseMs: 3000, overlapPollMs: 500 });
    const log: string[] = [];
    for (const [name, s] of [
      ["a", a.scheduler],
      ["b", b.scheduler],
    ] as const) {
      s.register("job", async (ctx) => {
        const at = new Date(ctx.fire.scheduledAt).toISOString().slice(11, 19);
        log.push(`${name} start ${at}`);
        await new Promise<void>((resolve) => clock.setTimeout(resolve, 90_000));
        log.push(`${name} end ${at}`);
      });
    }
    await a.scheduler.createSchedule({
      id: "s",
      job: "job",
      trigger: { every: "1m" },
      overlap: "buffer_one",
    });
    await a.scheduler.start(); // only A runs at first: it runs 14:31 and buffers 14:32
    await clock.advanceTo(T + 70_000);
    expect(log).toEqual(["a start 14:31:00"]);
    await b.scheduler.start();
    const stopped = a.scheduler.stop({ timeoutMs: 60_000 }); // 14:32 is handed over at once
    await clock.advance(25_000); // 14:31 ends on A at 14:32:30
    await stopped;
    expect(a.events.of("fire:handed-over").map((e) => e.execution.status)).toEqual(["claimed"]);
    await clock.advance(100_000);
    // Before: the buffered fire was deleted at stop and nobody ran it.
    expect(log.slice(0, 4)).toEqual([
      "a start 14:31:00",
      "a end 14:31:00",
      "b start 14:32:00",
      "b end 14:32:00",
    ]);
    const record = await memory.findExecution("s", T + 60_000);
    expect(record).toMatchObject({ status: "succeeded", instanceId: "b", attempts: 1 });
    await b.scheduler.stop({ timeoutMs: 0 });
  });

  it("lets a handler whose run is over place no more orders (it ignored its signal)", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const { PaperBroker } = await import("../broker/paper-broker.js");
    const broker = new PaperBroker({ clock });
    const { scheduler, storage } = setup({ clock, broker });
    const late = deferred<unknown>();
    scheduler.register("job", async (ctx) => {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 5000)); // ignores its signal
      try {
        late.resolve(await ctx.submit({ symbol: "AAPL", side: "buy", qty: 1, referencePrice: 100 }));
      } catch (error) {
        late.resolve(error);
      }
    });
    await scheduler.createSchedule({ id: "s", job: "job", trigger: { at: T }, timeout: "1s", retry: 1 });
    await scheduler.start();
    await clock.advanceTo(T + 6000);
    expect(await late.promise).toMatchObject({ code: "RUN_CANCELLED" });
    expect((await storage.listOrders({ limit: 10 })).items).toEqual([]);
    expect(await broker.getOpenOrders()).toEqual([]);
    await scheduler.stop();
  });
});

/** What the stop did at its deadline, from its `scheduler:stopped` event. */
function stoppedEvent(events: ReturnType<typeof setup>["events"]) {
  const [stopped] = events.of("scheduler:stopped");
  return { cancelled: stopped?.cancelled, handedOver: stopped?.handedOver };
}

describe("stop() with atDeadline: hand-over (a rolling deploy)", () => {
  it("records nothing for a handler running at the deadline; another instance runs the fire as the same attempt", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const memory = new MemoryStorage();
    const a = setup({ clock, storage: memory, instanceId: "a", leaseMs: 60_000 });
    const b = setup({ clock, storage: memory, instanceId: "b", leaseMs: 60_000 });
    const ran: { instance: string; attempt: number; aborted: boolean }[] = [];
    for (const [name, s] of [
      ["a", a.scheduler],
      ["b", b.scheduler],
    ] as const) {
      // A 20-minute job that gives up when its signal aborts (as a well-behaved handler does).
      s.register("refresh", async (ctx) => {
        const entry = { instance: name, attempt: ctx.fire.attempt, aborted: false };
        ran.push(entry);
        await new Promise<void>((resolve, reject) => {
          const timer = clock.setTimeout(resolve, 20 * 60_000);
          ctx.signal.addEventListener("abort", () => {
            clock.clearTimeout(timer);
            entry.aborted = true;
            reject(ctx.signal.reason);
          });
        });
        return `refreshed on ${name}`;
      });
    }
    // One attempt only: a hand-over that consumed an attempt would fail the fire without running it.
    await a.scheduler.createSchedule({ id: "refresh", job: "refresh", trigger: { at: T }, retry: 1 });
    await a.scheduler.start();
    await clock.advanceTo(T);
    expect(ran).toEqual([{ instance: "a", attempt: 1, aborted: false }]);
    await b.scheduler.start();
    const stopped = a.scheduler.stop({ timeoutMs: 1000, atDeadline: "hand-over" });
    await clock.advance(1000);
    await stopped;
    const result = stoppedEvent(a.events);
    const [execution] = (await memory.listExecutions({ scheduleId: "refresh", limit: 10 })).items;
    expect(result).toEqual({ cancelled: [], handedOver: [execution?.id] });
    expect(ran[0]?.aborted).toBe(true);
    expect(a.events.of("run:cancelled")).toEqual([]);
    expect(execution).toMatchObject({ status: "running", instanceId: "a", attempts: 0 });
    // The handler gave up, so the lease was expired at once: B takes it over at its next
    // maintenance turn (a third of its lease), not after A's 60 s lease.
    expect(execution?.leaseExpiresAt).toBeLessThanOrEqual(clock.now());
    await clock.advance(21_000);
    expect(ran.slice(1)).toEqual([{ instance: "b", attempt: 1, aborted: false }]);
    await clock.advance(20 * 60_000);
    const final = await memory.getExecution(execution?.id as string);
    expect(final).toMatchObject({
      status: "succeeded",
      instanceId: "b",
      attempts: 1,
      result: "refreshed on b",
    });
    await b.scheduler.stop();
  });

  it("leaves the lease to lapse when the handler ignores its signal, so the fire never runs on two instances at once", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const memory = new MemoryStorage();
    const a = setup({ clock, storage: memory, instanceId: "a", leaseMs: 60_000 });
    const b = setup({ clock, storage: memory, instanceId: "b", leaseMs: 60_000 });
    let active = 0;
    let maxActive = 0;
    const starts: string[] = [];
    for (const [name, s] of [
      ["a", a.scheduler],
      ["b", b.scheduler],
    ] as const) {
      s.register("stubborn", async () => {
        starts.push(name);
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise<void>((resolve) => clock.setTimeout(resolve, 30_000));
        active--;
      });
    }
    await a.scheduler.createSchedule({ id: "stubborn", job: "stubborn", trigger: { at: T }, retry: 1 });
    await a.scheduler.start();
    await b.scheduler.start();
    await clock.advanceTo(T);
    const stopped = a.scheduler.stop({ timeoutMs: 1000, atDeadline: "hand-over" });
    await clock.advance(1000 + 10_000); // the deadline, then the 10 s grace for the handler
    await stopped;
    const result = stoppedEvent(a.events);
    expect(result.handedOver).toHaveLength(1);
    const [execution] = (await memory.listExecutions({ scheduleId: "stubborn", limit: 10 })).items;
    // Not expired early: A's handler is still going.
    expect(execution?.leaseExpiresAt).toBeGreaterThan(clock.now());
    expect(starts).toEqual(["a"]);
    await clock.advance(120_000);
    expect(starts).toEqual(["a", "b"]);
    expect(maxActive).toBe(1);
    const final = await memory.getExecution(execution?.id as string);
    expect(final).toMatchObject({ status: "succeeded", instanceId: "b", attempts: 1 });
    await b.scheduler.stop();
  });

  it("cancels by default, and says so in the stopped event", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const { scheduler, storage, events } = setup({ clock });
    scheduler.register("slow", async (ctx) => {
      await new Promise<void>((resolve) => {
        const t = clock.setTimeout(resolve, 60_000);
        ctx.signal.addEventListener("abort", () => {
          clock.clearTimeout(t);
          resolve();
        });
      });
    });
    await scheduler.createSchedule({ id: "slow", job: "slow", trigger: { at: T } });
    await scheduler.start();
    await clock.advanceTo(T);
    const stopped = scheduler.stop({ timeoutMs: 500 });
    await clock.advance(500);
    await stopped;
    const result = stoppedEvent(events);
    const [execution] = (await storage.listExecutions({ scheduleId: "slow", limit: 10 })).items;
    expect(result).toEqual({ cancelled: [execution?.id], handedOver: [] });
    expect(execution).toMatchObject({ status: "cancelled", reason: "shutdown" });
  });
});
