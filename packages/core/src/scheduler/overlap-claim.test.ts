/**
 * The overlap question answered by the claim (`FireClaim.withOverlap`): a fire whose claim says
 * no other run of its schedule was active starts without an `activeExecutions` read; one whose
 * claim says otherwise still goes through its policy, and a storage that does not answer is
 * asked as before.
 */

import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { ExecutionRecord } from "../storage/records.js";
import type { ClaimResult, FireClaim } from "../storage/storage.js";
import { deferred, setup } from "./test-helpers.js";

/** MemoryStorage whose overlap read fails: a fire that needs it cannot start (fail closed). */
class NoActiveReads extends MemoryStorage {
  reads = 0;
  override async activeExecutions(): Promise<ExecutionRecord[]> {
    this.reads++;
    throw new Error("activeExecutions is down");
  }
}

/** The same, and its claims ignore `withOverlap` (a storage that does not answer). */
class SilentClaims extends NoActiveReads {
  override claimFire(claim: FireClaim): Promise<ClaimResult> {
    return super.claimFire({ ...claim, withOverlap: false });
  }
  override claimFires(claims: readonly FireClaim[]): Promise<ClaimResult[]> {
    return super.claimFires(claims.map((c) => ({ ...c, withOverlap: false })));
  }
}

describe("the claim answers the overlap question", () => {
  it("starts a fire whose claim found no other run active without reading the active executions", async () => {
    const storage = new NoActiveReads();
    const { clock, scheduler } = setup({ storage });
    const ran: string[] = [];
    scheduler.register("job", (ctx) => {
      ran.push(ctx.schedule.id);
    });
    await scheduler.start();
    const at = clock.now() + 1000;
    for (const id of ["a", "b", "c"])
      await scheduler.createSchedule({ id, job: "job", trigger: { at }, overlap: "skip" });
    await clock.advance(1000);
    await scheduler.stop();
    expect(ran.sort()).toEqual(["a", "b", "c"]);
    expect(storage.reads).toBe(0);
  });

  it("still applies the policy when the claim found an earlier run active", async () => {
    const storage = new MemoryStorage();
    const { clock, scheduler, events } = setup({ storage });
    const slow = deferred();
    let started = 0;
    scheduler.register("job", async () => {
      started++;
      await slow.promise;
    });
    await scheduler.start();
    await scheduler.createSchedule({ id: "s", job: "job", trigger: { every: "1s" }, overlap: "skip" });
    await clock.advance(1000);
    await clock.advance(1000);
    expect(started).toBe(1);
    expect(events.of("run:skipped").map((e) => e.reason)).toContain("overlap");
    slow.resolve();
    await scheduler.stop();
  });

  it("with another live instance, reads the active executions even so (the claim may not see a racing one)", async () => {
    const storage = new NoActiveReads();
    const { clock, scheduler: a } = setup({ storage });
    const { scheduler: b } = setup({ storage, clock, instanceId: "instance-b" });
    let started = 0;
    for (const s of [a, b])
      s.register("job", () => {
        started++;
      });
    await a.start();
    await b.start();
    await clock.advance(11_000); // a maintenance turn: each has seen the other beat
    await a.createSchedule({ id: "s", job: "job", trigger: { at: clock.now() + 1000 }, overlap: "skip" });
    await clock.advance(1000);
    expect(storage.reads).toBeGreaterThan(0);
    expect(started).toBe(0); // fail closed: the read failed
    await Promise.all([a.stop(), b.stop()]);
  });

  it("reads the active executions when the storage does not answer (and fails closed when it cannot)", async () => {
    const storage = new SilentClaims();
    const { clock, scheduler } = setup({ storage });
    let started = 0;
    scheduler.register("job", () => {
      started++;
    });
    await scheduler.start();
    await scheduler.createSchedule({
      id: "s",
      job: "job",
      trigger: { at: clock.now() + 1000 },
      overlap: "skip",
    });
    await clock.advance(1000);
    expect(started).toBe(0);
    expect(storage.reads).toBeGreaterThan(0);
    await scheduler.stop();
  });
});
