import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { ExecutionRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import { TestClock } from "../testing/test-clock.js";
import { fireHash } from "./membership.js";
import { Scheduler } from "./scheduler.js";
import { severable } from "./test-helpers.js";

const T0 = "2026-01-05T14:30:00Z";
const STEP_IN = 250;

/** Who should claim fire (id, at) among the sorted live instances. */
const preferredOf = (live: string[], id: string, at: number) =>
  live[fireHash(id, at) % live.length] as string;

/** Schedulers on one storage and one clock, each counting the fires it ran. */
function cluster(ids: string[], storage: Storage = new MemoryStorage(), clock = new TestClock(T0)) {
  const ran = new Map<string, string[]>();
  const make = (instanceId: string, view: Storage = storage) => {
    const s = new Scheduler({ storage: view, clock, instanceId, stepInMs: STEP_IN, keepAlive: false });
    s.register("noop", (ctx) => {
      ran.set(ctx.schedule.id, [...(ran.get(ctx.schedule.id) ?? []), instanceId]);
    });
    return s;
  };
  return { clock, storage, ran, make, schedulers: ids.map((id) => make(id)) };
}

/** `count` one-offs due at `at`. */
const oneOffs = (count: number, at: number) =>
  Array.from({ length: count }, (_, i) => ({ id: `f${i}`, job: "noop", trigger: { at } }));

async function executions(s: Scheduler): Promise<ExecutionRecord[]> {
  return (await s.listExecutions({ limit: 1000 })).items;
}

describe("fireHash", () => {
  it("gives the values of earlier versions, so the instances of a rolling deploy agree on who is preferred", () => {
    // Pinned: a change here splits a mixed-version cluster's fires between two opinions.
    expect(fireHash("exit-check", 1_767_623_400_000)).toBe(1_021_101_516);
    expect(fireHash("", 0)).toBe(0x9be17165);
    expect(fireHash("s-é", 8.64e15)).toBe(3_265_358_278);
  });

  it("is stable and spreads the fires of many schedules evenly over the live instances", () => {
    expect(fireHash("exit-check", 1_767_623_400_000)).toBe(fireHash("exit-check", 1_767_623_400_000));
    expect(fireHash("exit-check", 1_767_623_400_000)).not.toBe(fireHash("exit-check", 1_767_623_401_000));
    const live = ["a", "b", "c"];
    const share = new Map<string, number>();
    for (let s = 0; s < 300; s++) {
      for (let k = 0; k < 100; k++) {
        const who = preferredOf(live, `schedule-${s}`, 1_767_623_400_000 + k * 60_000);
        share.set(who, (share.get(who) ?? 0) + 1);
      }
    }
    for (const id of live) expect(Math.abs((share.get(id) ?? 0) / 30_000 - 1 / 3)).toBeLessThan(0.02);
  });
});

describe("membership: instances sharing a storage split the due fires", () => {
  it("three instances: each fire runs once, on its preferred instance, at its instant", async () => {
    const { clock, ran, schedulers } = cluster(["a", "b", "c"]);
    const [a] = schedulers as [Scheduler];
    await Promise.all(schedulers.map((s) => s.start()));
    const T = clock.now() + 20_000;
    await a.createSchedules(oneOffs(300, T));
    // One maintenance turn: every instance has beaten since the last one started.
    await clock.advance(15_000);
    await clock.advance(5_000 + STEP_IN + 100);
    await Promise.all(schedulers.map((s) => s.stop()));

    expect(ran.size).toBe(300);
    expect([...ran.values()].every((who) => who.length === 1)).toBe(true);
    const all = await executions(a);
    expect(all).toHaveLength(300);
    for (const e of all) {
      expect(e.instanceId).toBe(preferredOf(["a", "b", "c"], e.scheduleId, e.scheduledAt));
      expect(e.startedAt).toBe(T); // the preferred instance claimed at once
    }
    const share = (id: string) => all.filter((e) => e.instanceId === id).length;
    for (const id of ["a", "b", "c"]) expect(share(id)).toBeGreaterThan(60);
    // The others' claims came a step-in later and lost.
    const taken = schedulers.map((s) => s.status());
    expect((await Promise.all(taken)).reduce((n, st) => n + st.counters.fires, 0)).toBe(300);
  });

  it("a preferred instance that stopped is left out: the others split its share with no step-in", async () => {
    const { clock, ran, schedulers } = cluster(["a", "b", "c"]);
    const [a, b, c] = schedulers as [Scheduler, Scheduler, Scheduler];
    await Promise.all(schedulers.map((s) => s.start()));
    await clock.advance(11_000); // every instance beats again and sees the other two
    await c.stop();
    await clock.advance(11_000); // a and b see that c left
    const T = clock.now() + 5_000;
    await a.createSchedules(oneOffs(120, T));
    await clock.advance(5_000 + STEP_IN + 100);
    await Promise.all([a.stop(), b.stop()]);

    expect(ran.size).toBe(120);
    expect([...ran.values()].every((who) => who.length === 1 && who[0] !== "c")).toBe(true);
    for (const e of await executions(a)) {
      expect(e.instanceId).toBe(preferredOf(["a", "b"], e.scheduleId, e.scheduledAt));
      expect(e.startedAt).toBe(T);
    }
  });

  it("a paused instance leaves the list: the others run its share at the instant; on resume it rejoins", async () => {
    const { clock, ran, schedulers } = cluster(["a", "b", "c"]);
    const [a, b, c] = schedulers as [Scheduler, Scheduler, Scheduler];
    await Promise.all(schedulers.map((s) => s.start()));
    await clock.advance(11_000); // every instance beats again and sees the other two
    c.pause();
    await clock.advance(11_000); // a and b see that c left
    const T = clock.now() + 5_000;
    await a.createSchedules(oneOffs(120, T));
    await clock.advance(5_000 + STEP_IN + 100);
    expect(ran.size).toBe(120);
    expect([...ran.values()].every((who) => who.length === 1 && who[0] !== "c")).toBe(true);
    for (const e of await executions(a)) {
      expect(e.instanceId).toBe(preferredOf(["a", "b"], e.scheduleId, e.scheduledAt));
      expect(e.startedAt).toBe(T); // no fire waited a step-in for the paused instance
    }
    c.resume();
    await clock.advance(11_000); // c beats again; a and b see it at their next beat
    const T2 = clock.now() + 5_000;
    await a.createSchedules(oneOffs(120, T2).map((s) => ({ ...s, id: `again-${s.id}` })));
    await clock.advance(5_000 + STEP_IN + 100);
    const again = (await executions(a)).filter((e) => e.scheduleId.startsWith("again-"));
    expect(again).toHaveLength(120);
    for (const e of again)
      expect(e.instanceId).toBe(preferredOf(["a", "b", "c"], e.scheduleId, e.scheduledAt));
    expect(again.some((e) => e.instanceId === "c")).toBe(true);
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  });

  it("a scheduler started paused is not in the list until it resumes", async () => {
    const { clock, ran, schedulers } = cluster(["a", "b"]);
    const [a, b] = schedulers as [Scheduler, Scheduler];
    b.pause();
    await Promise.all(schedulers.map((s) => s.start()));
    await clock.advance(11_000);
    const T = clock.now() + 5_000;
    await a.createSchedules(oneOffs(40, T));
    await clock.advance(5_000 + STEP_IN + 100);
    expect(ran.size).toBe(40);
    for (const e of await executions(a)) {
      expect(e.instanceId).toBe("a");
      expect(e.startedAt).toBe(T);
    }
    await Promise.all([a.stop(), b.stop()]);
  });

  it("a killed preferred instance's fires are run by another after the step-in, exactly once", async () => {
    const clock = new TestClock(T0);
    const storage = new MemoryStorage();
    const { ran, make } = cluster([], storage, clock);
    const { storage: cView, sever } = severable(storage);
    const a = make("a");
    const b = make("b");
    const c = make("c", cView);
    await Promise.all([a.start(), b.start(), c.start()]);
    await clock.advance(11_000);
    const T = clock.now() + 5_000;
    await a.createSchedules(oneOffs(150, T));
    sever(); // c is gone (kill -9): its beat stays in the list until it expires
    await clock.advance(5_000 + STEP_IN + 100);

    expect(ran.size).toBe(150);
    expect([...ran.values()].every((who) => who.length === 1 && who[0] !== "c")).toBe(true);
    const all = await executions(a);
    expect(all).toHaveLength(150);
    const orphaned = all.filter((e) => preferredOf(["a", "b", "c"], e.scheduleId, e.scheduledAt) === "c");
    expect(orphaned.length).toBeGreaterThan(20);
    for (const e of orphaned) expect(e.startedAt).toBeGreaterThanOrEqual(T + STEP_IN);
    for (const e of all.filter((x) => !orphaned.includes(x))) expect(e.startedAt).toBe(T);
    await Promise.all([a.stop(), b.stop()]);
  });

  it("stepping in asks who holds the held fires and claims only the free ones", async () => {
    const clock = new TestClock(T0);
    const storage = new MemoryStorage();
    const { ran, make } = cluster([], storage, clock);
    /** A view of the storage that counts the fires it is asked to claim. */
    const counted = () => {
      const sent = { claims: 0 };
      const view = new Proxy(storage, {
        get(target, key, receiver) {
          if (key === "claimFire") {
            return (claim: Parameters<Storage["claimFire"]>[0]) => {
              sent.claims++;
              return target.claimFire(claim);
            };
          }
          if (key === "claimFires") {
            return (claims: Parameters<NonNullable<Storage["claimFires"]>>[0]) => {
              sent.claims += claims.length;
              return target.claimFires(claims);
            };
          }
          const value = Reflect.get(target, key, receiver);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      return { sent, view };
    };
    const aView = counted();
    const bView = counted();
    const { storage: cView, sever } = severable(storage);
    const a = make("a", aView.view);
    const b = make("b", bView.view);
    const c = make("c", cView);
    const taken: string[] = [];
    for (const s of [a, b]) s.on("fire:taken", ({ holder }) => taken.push(holder));
    await Promise.all([a.start(), b.start(), c.start()]);
    await clock.advance(11_000);
    const T = clock.now() + 5_000;
    await a.createSchedules(oneOffs(150, T));
    sever(); // c is gone: the fires it was preferred for are still free at the step-in
    await clock.advance(5_000 + STEP_IN + 100);
    await Promise.all([a.stop(), b.stop()]);

    expect(ran.size).toBe(150);
    expect([...ran.values()].every((who) => who.length === 1)).toBe(true);
    const orphaned = (await executions(a)).filter(
      (e) => preferredOf(["a", "b", "c"], e.scheduleId, e.scheduledAt) === "c",
    ).length;
    expect(orphaned).toBeGreaterThan(20);
    // One claim per fire: each instance claimed the fires it was preferred for, and at the
    // step-in only c's, which were free (in one process the two step-ins run one after the
    // other, so the second finds the first's claims). Claiming every held fire: 300 claims.
    expect(aView.sent.claims + bView.sent.claims).toBe(150);
    // Each held fire another instance had claimed is reported taken, by its holder, unclaimed:
    // a's held fires and b's, less the orphans one of them won (150 + orphaned - orphaned).
    expect(taken).toHaveLength(150);
    expect(taken.every((h) => h === "a" || h === "b")).toBe(true);
  });

  /**
   * a and b on one storage; b's batch claim of its share sends the first half at once and the
   * second half only when `release()` is called (b busy with a burst), so at a's step-in b holds
   * some of the batch and the rest is free.
   */
  async function busyPreferred(others = 0) {
    const clock = new TestClock(T0);
    const storage = new MemoryStorage();
    const { ran, make } = cluster([], storage, clock);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const bView = new Proxy(storage, {
      get(target, key, receiver) {
        if (key === "claimFires") {
          return async (claims: Parameters<NonNullable<Storage["claimFires"]>>[0]) => {
            const half = Math.ceil(claims.length / 2);
            const first = await target.claimFires(claims.slice(0, half));
            await gate;
            return [...first, ...(await target.claimFires(claims.slice(half)))];
          };
        }
        const value = Reflect.get(target, key, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const a = make("a");
    const b = make("b", bView);
    // Job "other" only a has (b never claims its fires).
    a.register("other", (ctx) => {
      ran.set(ctx.schedule.id, [...(ran.get(ctx.schedule.id) ?? []), "a"]);
    });
    await Promise.all([a.start(), b.start()]);
    await clock.advance(11_000);
    const T = clock.now() + 5_000;
    await a.createSchedules(oneOffs(100, T));
    if (others > 0) {
      await a.createSchedules(
        Array.from({ length: others }, (_, i) => ({ id: `o${i}`, job: "other", trigger: { at: T } })),
      );
    }
    return { clock, ran, a, b, T, release };
  }

  it("a busy preferred instance (it holds part of the batch) gets another step-in for the rest", async () => {
    const { clock, ran, a, b, T, release } = await busyPreferred();
    await clock.advance(5_000 + STEP_IN + 10); // a's step-in: b holds half its share
    release(); // b gets to the rest of its burst
    await clock.advance(2 * STEP_IN);
    await Promise.all([a.stop(), b.stop()]);

    expect(ran.size).toBe(100);
    expect([...ran.values()].every((who) => who.length === 1)).toBe(true);
    // Every fire ran on its preferred instance: a did not race b for the half b had not sent.
    for (const e of await executions(a)) {
      expect(e.instanceId).toBe(preferredOf(["a", "b"], e.scheduleId, e.scheduledAt));
      if (e.instanceId === "a") expect(e.startedAt).toBe(T);
    }
  });

  it("a busy preferred instance that lacks a job: that job's fires step in at once, not after more step-ins", async () => {
    const { clock, a, b, T, release } = await busyPreferred(60);
    await clock.advance(5_000 + STEP_IN + 10);
    const others = (await executions(a)).filter((e) => e.scheduleId.startsWith("o"));
    const bs = others.filter((e) => preferredOf(["a", "b"], e.scheduleId, e.scheduledAt) === "b");
    expect(bs.length).toBeGreaterThan(10);
    // b held noop fires of the batch (busy), but none of "other": a claimed those at its step-in.
    for (const e of bs) expect([e.instanceId, e.startedAt]).toEqual(["a", T + STEP_IN]);
    release();
    await Promise.all([a.stop(), b.stop()]);
  });

  it("a preferred instance that stops claiming mid-burst: what it never claimed runs on another a step-in later", async () => {
    const { clock, ran, a, b, T, release } = await busyPreferred();
    // b never sends the second half (as if killed mid-burst); the first half it claimed stays
    // its own until its leases expire (lease takeover, not tested here).
    await clock.advance(5_000 + 3 * STEP_IN);
    const mine = (await executions(a)).filter(
      (e) => preferredOf(["a", "b"], e.scheduleId, e.scheduledAt) === "b",
    );
    const unsent = mine.filter((e) => e.instanceId === "a");
    const claimedByB = mine.filter((e) => e.instanceId === "b");
    expect(unsent.length).toBeGreaterThan(10);
    // At the first step-in b held half the batch, so a waited one more; then none was b's.
    for (const e of unsent) expect(e.startedAt).toBe(T + 2 * STEP_IN);
    expect(ran.size).toBe(100 - claimedByB.length);
    expect([...ran.values()].every((who) => who.length === 1)).toBe(true);
    release(); // (stop() waits on the test clock for b's claim in flight)
    await Promise.all([a.stop(), b.stop()]);
  });

  it("one live instance, or a storage without heartbeat: no fire waits", async () => {
    const alone = cluster(["a"]);
    const [a] = alone.schedulers as [Scheduler];
    await a.start();
    const T = alone.clock.now() + 5_000;
    await a.createSchedules(oneOffs(50, T));
    await alone.clock.advance(5_000);
    expect(alone.ran.size).toBe(50);
    await a.stop();

    const plain = new MemoryStorage();
    const view = Object.create(plain) as Storage;
    view.heartbeat = undefined;
    const two = cluster(["x", "y"], view);
    await Promise.all(two.schedulers.map((s) => s.start()));
    const T2 = two.clock.now() + 5_000;
    await (two.schedulers[0] as Scheduler).createSchedules(oneOffs(50, T2));
    await two.clock.advance(5_000);
    await Promise.all(two.schedulers.map((s) => s.stop()));
    // Both race for every fire, as before membership: one run each, all at once.
    expect(two.ran.size).toBe(50);
    expect([...two.ran.values()].every((who) => who.length === 1)).toBe(true);
    expect((await executions(two.schedulers[0] as Scheduler)).every((e) => e.startedAt === T2)).toBe(true);
  });

  it("stop() drops the fires it holds for a step-in: they were never claimed, the preferred instance runs them", async () => {
    const { clock, ran, schedulers } = cluster(["a", "b"]);
    const [a, b] = schedulers as [Scheduler, Scheduler];
    await Promise.all(schedulers.map((s) => s.start()));
    await clock.advance(11_000);
    const T = clock.now() + 5_000;
    await a.createSchedules(oneOffs(100, T));
    const claimsAfterStop: string[] = [];
    await clock.advance(5_000); // a holds b's share, b holds a's
    await a.stop({ timeoutMs: 0 });
    a.on("fire:taken", (e) => claimsAfterStop.push(e.scheduleId));
    a.on("fire:claimed", (e) => claimsAfterStop.push(e.execution.scheduleId));
    await clock.advance(STEP_IN + 100);
    await b.stop();
    expect(claimsAfterStop).toEqual([]);
    expect(ran.size).toBe(100);
    expect([...ran.values()].every((who) => who.length === 1)).toBe(true);
  });

  it("checks stepInMs", () => {
    expect(() => new Scheduler({ stepInMs: -1 })).toThrow(
      expect.objectContaining({ field: "options.stepInMs" }),
    );
    expect(() => new Scheduler({ stepInMs: 60_000 })).toThrow(
      expect.objectContaining({ field: "options.stepInMs" }),
    );
    expect(() => new Scheduler({ stepInMs: 0 })).not.toThrow();
  });
});
