/**
 * The storage conformance suite: the executable contract of {@link Storage}. Every storage runs
 * it against a real backend:
 *
 * ```ts
 * import { describe, it } from "vitest";
 * import { storageConformance } from "@tradecron/core/testing";
 * storageConformance({ describe, it }, async () => ({ storage: new MyStorage(...), cleanup }));
 * ```
 *
 * Assertions use node:assert, so the suite works with any test runner that has describe/it.
 */

import assert from "node:assert/strict";
import { ConflictError, NotFoundError, TradecronError } from "../errors.js";
import type { ApprovalRecord, ExecutionRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import { makeApproval, makeAudit, makeExecution, makeOrder, makeSchedule } from "./fixtures.js";
import { batchTests } from "./storage-suite-batch.js";
import { groupTests } from "./storage-suite-groups.js";
import { retentionTests } from "./storage-suite-retention.js";
import { stateTests } from "./storage-suite-state.js";
import { trustTests } from "./storage-suite-trust.js";

/** The describe/it pair of the caller's test runner. */
export interface SuiteTestApi {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void> | void, timeout?: number): void;
}

/** A fresh, opened-or-openable store, and how to dispose of it. */
export interface StoreHandle {
  storage: Storage;
  /** Called after the test (close connections, drop the schema, remove the folder). */
  cleanup?: () => Promise<void>;
  /**
   * Opens a second handle on the same data (another connection or process view). Enables the
   * tests of persistence across reopen and of races between handles.
   */
  reopen?: () => Promise<Storage>;
  /**
   * Damages the stored control record the way this backend's data gets damaged (a file edited by
   * hand, a row changed with psql) and returns the storage to read it through (the same one, or
   * a reopened one). Enables the fail-safe control tests.
   */
  corruptControl?: (storage: Storage) => Promise<Storage>;
  /**
   * Damages the stored schedule `id` so it fails its checks (an impossible trigger or policy) and
   * returns the storage to read it through. Enables the tests of invalid stored schedules.
   */
  corruptSchedule?: (storage: Storage, id: string) => Promise<Storage>;
  /**
   * Damages the stored state of schedule `id` so it fails its checks and returns the storage to
   * read it through (the test closes it when it is not the same one). Enables the state check test.
   */
  corruptState?: (storage: Storage, id: string) => Promise<Storage>;
}

/** Options of {@link storageConformance}. */
export interface StorageSuiteOptions {
  /** Per-test timeout in ms (default 20,000). */
  timeout?: number;
  /** Number of racers in the concurrent-claim tests (default 50). */
  racers?: number;
}

type Factory = () => Promise<StoreHandle>;

async function withStore(factory: Factory, fn: (h: StoreHandle) => Promise<void>): Promise<void> {
  const handle = await factory();
  await handle.storage.open();
  // A test may swap the storage for a reopened one (corruptControl, corruptSchedule): close that too.
  const opened = new Set<Storage>([handle.storage]);
  const tracked: StoreHandle = {
    ...handle,
    ...(handle.corruptControl && {
      corruptControl: async (s) => {
        const next = await (handle.corruptControl as NonNullable<StoreHandle["corruptControl"]>)(s);
        opened.add(next);
        return next;
      },
    }),
    ...(handle.corruptSchedule && {
      corruptSchedule: async (s, id) => {
        const next = await (handle.corruptSchedule as NonNullable<StoreHandle["corruptSchedule"]>)(s, id);
        opened.add(next);
        return next;
      },
    }),
  };
  try {
    await fn(tracked);
  } finally {
    for (const s of opened) await s.close();
    await handle.cleanup?.();
  }
}

async function rejectsWith(
  promise: Promise<unknown>,
  ctor: new (...a: never[]) => Error,
  code: string,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ctor, `expected ${ctor.name}, got ${String(error)}`);
    assert.equal((error as TradecronError).code, code);
    return true;
  });
}

function tryMutate(obj: object, key: string, value: unknown): void {
  try {
    (obj as Record<string, unknown>)[key] = value;
  } catch {
    // frozen records throw in strict mode; either way the store must be unaffected
  }
}

async function drain<T>(
  page: (cursor: string | null) => Promise<{ items: T[]; nextCursor: string | null }>,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const p = await page(cursor);
    all.push(...p.items);
    if (!p.nextCursor) return all;
    cursor = p.nextCursor;
  }
  throw new Error("pagination did not terminate");
}

/** Registers the storage conformance tests with the caller's `describe`/`it`. */
export function storageConformance(
  api: SuiteTestApi,
  factory: Factory,
  options: StorageSuiteOptions = {},
): void {
  const { describe, it } = api;
  const timeout = options.timeout ?? 20_000;
  const racers = options.racers ?? 50;
  const test = (name: string, fn: (h: StoreHandle) => Promise<void>) =>
    it(name, () => withStore(factory, fn), timeout);

  describe("storage conformance: schedules", () => {
    test("inserts and reads back a schedule exactly", async ({ storage }) => {
      const s = makeSchedule();
      await storage.insertSchedule(s);
      assert.deepEqual(await storage.getSchedule(s.id), s);
      assert.equal(await storage.getSchedule("missing"), null);
    });

    test("rejects a second schedule with the same id", async ({ storage }) => {
      await storage.insertSchedule(makeSchedule({ id: "dup" }));
      await rejectsWith(
        storage.insertSchedule(makeSchedule({ id: "dup" })),
        ConflictError,
        "SCHEDULE_EXISTS",
      );
    });

    test("lists schedules ordered by id", async ({ storage }) => {
      for (const id of ["b", "c", "a"]) await storage.insertSchedule(makeSchedule({ id }));
      assert.deepEqual(
        (await storage.listSchedules()).map((s) => s.id),
        ["a", "b", "c"],
      );
    });

    test("updates with the expected revision and refuses a stale one", async ({ storage }) => {
      const s = makeSchedule({ id: "rev" });
      await storage.insertSchedule(s);
      const v2 = { ...s, name: "renamed", revision: 2 };
      await storage.updateSchedule(v2, 1);
      assert.deepEqual(await storage.getSchedule("rev"), v2);
      await rejectsWith(
        storage.updateSchedule({ ...s, name: "stale", revision: 2 }, 1),
        ConflictError,
        "REVISION_CONFLICT",
      );
      assert.equal((await storage.getSchedule("rev"))?.name, "renamed");
      await rejectsWith(
        storage.updateSchedule(makeSchedule({ id: "nope", revision: 2 }), 1),
        NotFoundError,
        "SCHEDULE_NOT_FOUND",
      );
    });

    test("lets exactly one of many concurrent updates of one revision win", async ({ storage }) => {
      const s = makeSchedule({ id: "race" });
      await storage.insertSchedule(s);
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => storage.updateSchedule({ ...s, name: `n${i}`, revision: 2 }, 1)),
      );
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      assert.equal((await storage.getSchedule("race"))?.revision, 2);
    });

    test("deletes a schedule and reports whether it existed", async ({ storage }) => {
      await storage.insertSchedule(makeSchedule({ id: "gone" }));
      assert.equal(await storage.deleteSchedule("gone"), true);
      assert.equal(await storage.deleteSchedule("gone"), false);
      assert.equal(await storage.getSchedule("gone"), null);
    });

    test("does not let a caller mutate stored schedules through returned records", async ({ storage }) => {
      const s = makeSchedule({ id: "frozen" });
      await storage.insertSchedule(s);
      const read = (await storage.getSchedule("frozen")) as ReturnType<typeof makeSchedule>;
      tryMutate(read, "name", "hacked");
      tryMutate(read.trigger, "expression", "* * * * *");
      tryMutate(s, "name", "hacked too");
      const again = await storage.getSchedule("frozen");
      assert.equal(again?.name, "Schedule 1");
      assert.deepEqual(again?.trigger, makeSchedule().trigger);
    });
  });

  describe("storage conformance: control", () => {
    test("starts unpaused at revision 0 and round-trips the control record", async ({ storage }) => {
      const fresh = await storage.getControl();
      assert.equal(fresh.pausedAll, false);
      assert.equal(fresh.revision, 0);
      const control = {
        pausedAll: true,
        pausedAt: 1_767_600_000_000,
        pausedBy: "alice",
        reason: "fat finger",
        revision: 1,
      };
      await storage.setControl(control);
      assert.deepEqual(await storage.getControl(), control);
    });
  });

  describe("storage conformance: fires and executions", () => {
    test("claims a fire once; a second claim sees the holder", async ({ storage }) => {
      const e = makeExecution();
      const first = await storage.claimFire({ execution: e });
      assert.equal(first.claimed, true);
      assert.deepEqual(first.claimed && first.execution, e);
      const second = await storage.claimFire({
        execution: { ...makeExecution(), scheduledAt: e.scheduledAt, instanceId: "b" },
      });
      assert.equal(second.claimed, false);
      assert.equal(!second.claimed && second.existing.id, e.id);
    });

    test(`lets exactly one of ${racers} concurrent claims of one fire win`, async ({ storage, reopen }) => {
      const other = reopen ? await reopen() : storage;
      if (other !== storage) await other.open();
      try {
        const at = 1_767_700_000_000;
        const attempts = Array.from({ length: racers }, (_, i) =>
          (i % 2 === 0 ? storage : other).claimFire({
            execution: makeExecution({ scheduledAt: at, instanceId: `racer-${i}` }),
          }),
        );
        const results = await Promise.all(attempts);
        const winners = results.filter((r) => r.claimed);
        assert.equal(winners.length, 1, "exactly one winner");
        const winnerId = winners[0]?.claimed ? winners[0].execution.id : "";
        for (const r of results) if (!r.claimed) assert.equal(r.existing.id, winnerId);
        assert.equal((await storage.findExecution("sched-1", at))?.id, winnerId);
      } finally {
        if (other !== storage) await other.close();
      }
    });

    test("claims different instants and schedules independently", async ({ storage }) => {
      const a = await storage.claimFire({ execution: makeExecution({ scheduledAt: 1000 }) });
      const b = await storage.claimFire({ execution: makeExecution({ scheduledAt: 2000 }) });
      const c = await storage.claimFire({
        execution: makeExecution({ scheduledAt: 1000, scheduleId: "other" }),
      });
      assert.deepEqual([a.claimed, b.claimed, c.claimed], [true, true, true]);
    });

    test("records a skipped fire as a claim with a final status", async ({ storage }) => {
      const e = makeExecution({
        status: "skipped",
        reason: "misfire",
        leaseExpiresAt: null,
        details: { missed: 3 },
      });
      assert.equal((await storage.claimFire({ execution: e })).claimed, true);
      assert.deepEqual(await storage.getExecution(e.id), e);
      assert.deepEqual(await storage.activeExecutions(e.scheduleId), []);
    });

    test("reports the last own fire of a schedule, ignoring manual and backfill fires", async ({
      storage,
    }) => {
      assert.equal(await storage.lastFireAt("sched-1"), null);
      await storage.claimFire({ execution: makeExecution({ scheduledAt: 5000 }) });
      await storage.claimFire({ execution: makeExecution({ scheduledAt: 9000, kind: "catchup" }) });
      await storage.claimFire({ execution: makeExecution({ scheduledAt: 7000 }) });
      await storage.claimFire({ execution: makeExecution({ scheduledAt: 20_000, kind: "manual" }) });
      await storage.claimFire({ execution: makeExecution({ scheduledAt: 30_000, kind: "backfill" }) });
      await storage.claimFire({ execution: makeExecution({ scheduledAt: 99_000, scheduleId: "other" }) });
      assert.equal(await storage.lastFireAt("sched-1"), 9000);
    });

    test("applies updates only for the holder while the execution is active", async ({ storage }) => {
      const e = makeExecution();
      await storage.claimFire({ execution: e });
      assert.equal(await storage.updateExecution(e.id, "intruder", { attempts: 9 }), null);
      const updated = await storage.updateExecution(e.id, e.instanceId, { attempts: 2 });
      assert.equal(updated?.attempts, 2);
      const done = await storage.updateExecution(e.id, e.instanceId, {
        status: "succeeded",
        endedAt: e.scheduledAt + 500,
        result: { orders: 2 },
        leaseExpiresAt: null,
      });
      assert.equal(done?.status, "succeeded");
      assert.deepEqual(done?.result, { orders: 2 });
      assert.equal(
        await storage.updateExecution(e.id, e.instanceId, { status: "failed" }),
        null,
        "final is final",
      );
      assert.equal((await storage.getExecution(e.id))?.status, "succeeded");
      assert.equal(await storage.updateExecution("missing", e.instanceId, { attempts: 1 }), null);
    });

    test("renews the leases it holds and reports the ones it lost", async ({ storage }) => {
      const mine = makeExecution();
      const theirs = makeExecution({ instanceId: "instance-b" });
      const finished = makeExecution();
      for (const e of [mine, theirs, finished]) await storage.claimFire({ execution: e });
      await storage.updateExecution(finished.id, finished.instanceId, { status: "succeeded", endedAt: 1 });
      const held = await storage.renewLeases(
        "instance-a",
        [mine.id, theirs.id, finished.id, "missing"],
        9_999_999_999_999,
      );
      assert.deepEqual(held, [mine.id]);
      assert.equal((await storage.getExecution(mine.id))?.leaseExpiresAt, 9_999_999_999_999);
      assert.equal((await storage.getExecution(theirs.id))?.leaseExpiresAt, theirs.leaseExpiresAt);
    });

    test("releases a buffered claim so the fire can be claimed again", async ({ storage }) => {
      const e = makeExecution({ status: "claimed", attempts: 0, startedAt: null });
      await storage.claimFire({ execution: e });
      assert.equal(await storage.releaseClaim(e.id, "instance-b"), false, "only the holder releases");
      assert.equal(await storage.releaseClaim(e.id, e.instanceId), true);
      assert.equal(await storage.getExecution(e.id), null);
      const again = await storage.claimFire({ execution: makeExecution({ scheduledAt: e.scheduledAt }) });
      assert.equal(again.claimed, true);
      const running = makeExecution();
      await storage.claimFire({ execution: running });
      assert.equal(
        await storage.releaseClaim(running.id, running.instanceId),
        false,
        "running fires are not released",
      );
    });

    test("takes over expired leases once, with attempt + 1 and the same idempotency key", async ({
      storage,
    }) => {
      const now = 1_767_800_000_000;
      const expired = makeExecution({ leaseExpiresAt: now - 1, attempts: 1 });
      const buffered = makeExecution({
        status: "claimed",
        attempts: 0,
        startedAt: null,
        leaseExpiresAt: now - 5,
      });
      const alive = makeExecution({ leaseExpiresAt: now + 10_000 });
      const otherJob = makeExecution({ leaseExpiresAt: now - 1, job: "job-z" });
      const done = makeExecution({ status: "succeeded", leaseExpiresAt: now - 1 });
      for (const e of [expired, buffered, alive, otherJob, done]) await storage.claimFire({ execution: e });
      const taken = await storage.takeOverExpired("instance-b", now, now + 30_000, 10, ["job-a"]);
      const byId = new Map(taken.map((t) => [t.id, t]));
      assert.deepEqual([...byId.keys()].sort(), [expired.id, buffered.id].sort());
      const t = byId.get(expired.id) as ExecutionRecord;
      assert.equal(t.instanceId, "instance-b");
      assert.equal(t.attempts, 2);
      assert.equal(t.status, "running");
      assert.equal(t.leaseExpiresAt, now + 30_000);
      assert.equal(t.idempotencyKey, expired.idempotencyKey);
      assert.equal(byId.get(buffered.id)?.attempts, 1);
      const rest = await storage.takeOverExpired("instance-c", now, now + 30_000, 10);
      assert.deepEqual(
        rest.map((e) => [e.id, e.instanceId, e.attempts]),
        [[otherJob.id, "instance-c", 2]],
      );
      assert.equal(
        await storage.updateExecution(expired.id, "instance-a", { status: "failed" }),
        null,
        "old holder is fenced",
      );
    });

    test("never hands one expired fire to two instances taking over at once", async ({ storage, reopen }) => {
      const other = reopen ? await reopen() : storage;
      if (other !== storage) await other.open();
      try {
        const now = 1_767_800_000_000;
        const ids: string[] = [];
        for (let i = 0; i < 20; i++) {
          const e = makeExecution({ leaseExpiresAt: now - 1 - i });
          ids.push(e.id);
          await storage.claimFire({ execution: e });
        }
        const [a, b, c] = await Promise.all([
          storage.takeOverExpired("x", now, now + 30_000, 100),
          other.takeOverExpired("y", now, now + 30_000, 100),
          storage.takeOverExpired("z", now, now + 30_000, 7),
        ]);
        const all = [...a, ...b, ...c].map((e) => e.id);
        assert.equal(new Set(all).size, all.length, "no execution taken twice");
        assert.deepEqual([...all].sort(), [...ids].sort());
        assert.ok(c.length <= 7, "respects the limit");
      } finally {
        if (other !== storage) await other.close();
      }
    });

    test("cancels an active execution whoever holds it, and fences the holder", async ({ storage }) => {
      const e = makeExecution({ instanceId: "instance-b" });
      await storage.claimFire({ execution: e });
      const cancelled = await storage.cancelExecution(e.id, "superseded", e.scheduledAt + 10);
      assert.equal(cancelled?.status, "cancelled");
      assert.equal(cancelled?.reason, "superseded");
      assert.equal(cancelled?.endedAt, e.scheduledAt + 10);
      assert.equal(await storage.cancelExecution(e.id, "again", 0), null);
      assert.equal(await storage.updateExecution(e.id, "instance-b", { status: "succeeded" }), null);
      assert.deepEqual(await storage.renewLeases("instance-b", [e.id], 1), []);
    });

    test("lists the active executions of a schedule, oldest first", async ({ storage }) => {
      const late = makeExecution({ scheduledAt: 3000 });
      const early = makeExecution({ scheduledAt: 1000, status: "claimed", attempts: 0 });
      const finished = makeExecution({ scheduledAt: 2000, status: "failed" });
      const elsewhere = makeExecution({ scheduledAt: 500, scheduleId: "other" });
      for (const e of [late, early, finished, elsewhere]) await storage.claimFire({ execution: e });
      assert.deepEqual(
        (await storage.activeExecutions("sched-1")).map((e) => e.id),
        [early.id, late.id],
      );
    });

    test("finds an execution by fire and by id", async ({ storage }) => {
      const e = makeExecution({ scheduledAt: 4242 });
      await storage.claimFire({ execution: e });
      assert.deepEqual(await storage.findExecution("sched-1", 4242), e);
      assert.deepEqual(await storage.getExecution(e.id), e);
      assert.equal(await storage.findExecution("sched-1", 4243), null);
    });

    test("lists executions newest first with filters and a cursor that visits each once", async ({
      storage,
    }) => {
      const statuses = ["succeeded", "failed", "skipped", "running"] as const;
      const made: ExecutionRecord[] = [];
      for (let i = 0; i < 37; i++) {
        const e = makeExecution({
          scheduleId: i % 2 === 0 ? "other" : "sched-1",
          scheduledAt: 100_000 + Math.floor(i / 2) * 1000,
          status: statuses[i % 4],
          kind: i % 5 === 0 ? "manual" : "scheduled",
        });
        made.push(e);
        await storage.claimFire({ execution: e });
      }
      const all = await drain((cursor) => storage.listExecutions({ limit: 5, cursor }));
      assert.equal(all.length, made.length);
      assert.equal(new Set(all.map((e) => e.id)).size, made.length);
      for (let i = 1; i < all.length; i++) {
        assert.ok(
          (all[i - 1] as ExecutionRecord).scheduledAt >= (all[i] as ExecutionRecord).scheduledAt,
          "newest first",
        );
      }
      const filtered = await drain((cursor) =>
        storage.listExecutions({
          scheduleId: "sched-1",
          status: ["succeeded", "failed"],
          from: 103_000,
          to: 115_000,
          limit: 2,
          cursor,
        }),
      );
      const expected = made.filter(
        (e) =>
          e.scheduleId === "sched-1" &&
          (e.status === "succeeded" || e.status === "failed") &&
          e.scheduledAt >= 103_000 &&
          e.scheduledAt < 115_000,
      );
      assert.deepEqual(filtered.map((e) => e.id).sort(), expected.map((e) => e.id).sort());
      const manual = await storage.listExecutions({ kind: "manual", limit: 100 });
      assert.deepEqual(
        manual.items.map((e) => e.id).sort(),
        made
          .filter((e) => e.kind === "manual")
          .map((e) => e.id)
          .sort(),
      );
      await assert.rejects(storage.listExecutions({ limit: 0 }), TradecronError);
      await assert.rejects(storage.listExecutions({ limit: 5, cursor: "not-a-cursor" }), TradecronError);
    });
  });

  describe("storage conformance: approvals", () => {
    test("inserts, reads back and counts approvals by status", async ({ storage }) => {
      const a = makeApproval();
      const b = makeApproval({ status: "rejected" });
      await storage.insertApprovals([a, b]);
      assert.deepEqual(await storage.getApproval(a.id), a);
      assert.equal(await storage.countApprovals("pending"), 1);
      assert.equal(await storage.countApprovals("rejected"), 1);
      assert.equal(await storage.countApprovals("approved"), 0);
    });

    test("inserts a batch all or nothing", async ({ storage }) => {
      const existing = makeApproval();
      await storage.insertApprovals([existing]);
      const fresh = makeApproval();
      await assert.rejects(
        storage.insertApprovals([fresh, { ...makeApproval(), id: existing.id }]),
        ConflictError,
      );
      assert.equal(await storage.getApproval(fresh.id), null);
      assert.equal(await storage.countApprovals("pending"), 1);
    });

    test("lists approvals newest first with filters and pagination", async ({ storage }) => {
      const made: ApprovalRecord[] = [];
      for (let i = 0; i < 23; i++) {
        made.push(
          makeApproval({
            riskLevel: (["low", "medium", "high"] as const)[i % 3],
            scheduleId: i % 2 ? "s-odd" : "s-even",
            status: i % 4 === 0 ? "approved" : "pending",
          }),
        );
      }
      await storage.insertApprovals(made);
      const all = await drain((cursor) => storage.listApprovals({ limit: 4, cursor }));
      assert.equal(all.length, 23);
      assert.ok(all.every((a, i) => i === 0 || (all[i - 1] as ApprovalRecord).createdAt >= a.createdAt));
      const highPending = await drain((cursor) =>
        storage.listApprovals({
          status: "pending",
          riskLevel: ["high"],
          scheduleId: "s-odd",
          limit: 2,
          cursor,
        }),
      );
      assert.deepEqual(
        highPending.map((a) => a.id).sort(),
        made
          .filter((a) => a.status === "pending" && a.riskLevel === "high" && a.scheduleId === "s-odd")
          .map((a) => a.id)
          .sort(),
      );
    });

    test("transitions an approval only from the expected status, once under a race", async ({ storage }) => {
      const a = makeApproval();
      await storage.insertApprovals([a]);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          storage.transitionApproval(a.id, "pending", {
            status: i % 2 ? "approved" : "rejected",
            decidedBy: `actor-${i}`,
            decidedAt: 5,
          }),
        ),
      );
      const winners = results.filter((r) => r !== null);
      assert.equal(winners.length, 1);
      const stored = await storage.getApproval(a.id);
      assert.equal(stored?.decidedBy, winners[0]?.decidedBy);
      assert.equal(await storage.countApprovals("pending"), 0);
      assert.equal(await storage.transitionApproval(a.id, "pending", { status: "expired" }), null);
      assert.equal(await storage.transitionApproval("missing", "pending", { status: "expired" }), null);
    });

    test("lists pending approvals that have expired, oldest first", async ({ storage }) => {
      const now = 1_767_900_000_000;
      const old = makeApproval({ expiresAt: now - 2000 });
      const older = makeApproval({ expiresAt: now - 5000 });
      const exact = makeApproval({ expiresAt: now });
      const future = makeApproval({ expiresAt: now + 1 });
      const decided = makeApproval({ expiresAt: now - 9000, status: "approved" });
      await storage.insertApprovals([old, older, exact, future, decided]);
      assert.deepEqual(
        (await storage.listExpiredApprovals(now, 10)).map((a) => a.id),
        [older.id, old.id, exact.id],
      );
      assert.equal((await storage.listExpiredApprovals(now, 1)).length, 1);
    });
  });

  describe("storage conformance: orders", () => {
    test("upserts orders by client order id and reads them back", async ({ storage }) => {
      const o = makeOrder();
      await storage.upsertOrder(o);
      assert.deepEqual(await storage.getOrder(o.clientOrderId), o);
      const filled = {
        ...o,
        status: "filled",
        filledQty: "10",
        avgFillPrice: "187.25",
        updatedAt: o.updatedAt + 1,
      };
      await storage.upsertOrder(filled);
      assert.deepEqual(await storage.getOrder(o.clientOrderId), filled);
      assert.equal(await storage.getOrder("missing"), null);
    });

    test("lists orders newest first with filters and pagination", async ({ storage }) => {
      const made = Array.from({ length: 17 }, (_, i) =>
        makeOrder({
          symbol: i % 2 ? "AAPL" : "MSFT",
          status: i % 3 ? "filled" : "canceled",
          scheduleId: "s",
        }),
      );
      for (const o of made) await storage.upsertOrder(o);
      const all = await drain((cursor) => storage.listOrders({ limit: 5, cursor }));
      assert.equal(all.length, 17);
      const aaplFilled = await drain((cursor) =>
        storage.listOrders({ symbol: "AAPL", status: ["filled"], scheduleId: "s", limit: 3, cursor }),
      );
      assert.deepEqual(
        aaplFilled.map((o) => o.clientOrderId).sort(),
        made
          .filter((o) => o.symbol === "AAPL" && o.status === "filled")
          .map((o) => o.clientOrderId)
          .sort(),
      );
    });
  });

  describe("storage conformance: audit", () => {
    test("appends entries with increasing sequence numbers and lists them newest first", async ({
      storage,
    }) => {
      const first = await storage.appendAudit(makeAudit({ actor: "alice", at: 1000 }));
      const second = await storage.appendAudit(
        makeAudit({ actor: "bob", at: 2000, action: "approval.approve" }),
      );
      await storage.appendAudit(
        makeAudit({ actor: "alice", at: 3000, action: "scheduler.pause_all", subjectId: null }),
      );
      assert.ok(second.seq > first.seq);
      assert.deepEqual({ ...first, seq: 0 }, { ...makeAudit({ actor: "alice", at: 1000 }), seq: 0 });
      const alice = await drain((cursor) => storage.listAudit({ actor: "alice", limit: 1, cursor }));
      assert.deepEqual(
        alice.map((e) => e.at),
        [3000, 1000],
      );
      const window = await storage.listAudit({ from: 1500, to: 3000, limit: 10 });
      assert.deepEqual(
        window.items.map((e) => e.actor),
        ["bob"],
      );
      const byAction = await storage.listAudit({ action: "approval.approve", limit: 10 });
      assert.equal(byAction.items.length, 1);
    });
  });

  trustTests(describe, test);
  retentionTests(describe, test);
  stateTests(describe, test);
  groupTests(describe, test);
  batchTests(describe, test);

  describe("storage conformance: reopen", () => {
    test("keeps acknowledged writes across a reopen", async ({ storage, reopen }) => {
      if (!reopen) return; // the store cannot be reopened on the same data (in-memory): nothing to check
      const s = makeSchedule({ id: "durable" });
      await storage.insertSchedule(s);
      const e = makeExecution();
      await storage.claimFire({ execution: e });
      await storage.updateExecution(e.id, e.instanceId, {
        status: "succeeded",
        endedAt: 1,
        leaseExpiresAt: null,
      });
      const a = makeApproval();
      await storage.insertApprovals([a]);
      await storage.setControl({ pausedAll: true, pausedAt: 1, pausedBy: "x", reason: null, revision: 3 });
      await storage.appendAudit(makeAudit());
      await storage.close();
      const again = await reopen();
      await again.open();
      try {
        assert.deepEqual(await again.getSchedule("durable"), s);
        assert.equal((await again.getExecution(e.id))?.status, "succeeded");
        assert.equal(await again.lastFireAt("sched-1"), e.scheduledAt);
        assert.equal(
          (await again.claimFire({ execution: makeExecution({ scheduledAt: e.scheduledAt }) })).claimed,
          false,
        );
        assert.deepEqual(await again.getApproval(a.id), a);
        assert.equal((await again.getControl()).revision, 3);
        assert.equal((await again.listAudit({ limit: 10 })).items.length, 1);
      } finally {
        await again.close();
      }
    });
  });

  describe("storage conformance: reopen of lease state", () => {
    test("keeps releases, cancellations, takeovers and renewed leases across a reopen", async ({
      storage,
      reopen,
    }) => {
      if (!reopen) return; // the store cannot be reopened on the same data (in-memory): nothing to check
      const released = makeExecution({ status: "claimed", attempts: 0, startedAt: null });
      const cancelled = makeExecution();
      const expired = makeExecution({ leaseExpiresAt: 10 });
      const renewed = makeExecution();
      for (const execution of [released, cancelled, expired, renewed]) await storage.claimFire({ execution });
      await storage.releaseClaim(released.id, released.instanceId);
      await storage.cancelExecution(cancelled.id, "superseded", 77);
      const [taken] = await storage.takeOverExpired("instance-b", 11, 99_999, 1);
      await storage.renewLeases(renewed.instanceId, [renewed.id], 123_456);
      await storage.close();
      const again = await reopen();
      await again.open();
      try {
        assert.equal(await again.getExecution(released.id), null);
        assert.equal((await again.getExecution(cancelled.id))?.status, "cancelled");
        assert.deepEqual(await again.getExecution(expired.id), taken);
        assert.equal((await again.getExecution(renewed.id))?.leaseExpiresAt, 123_456);
      } finally {
        await again.close();
      }
    });
  });

  describe("storage conformance: change notification", () => {
    test("notifies watchers of schedule and control changes", async ({ storage, reopen }) => {
      if (!storage.watch) return; // optional capability: the scheduler polls backends without it
      const writer = reopen ? await reopen() : storage;
      if (writer !== storage) await writer.open();
      try {
        const seen: string[] = [];
        const got = new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no notification within 2 s (saw ${seen.join(",")})`)),
            2000,
          );
          const stop = storage.watch?.((change) => {
            seen.push(change.type === "control" ? "control" : `${change.type}:${change.id}`);
            if (seen.includes("schedule:watched") && seen.includes("control")) {
              clearTimeout(timer);
              stop?.();
              resolve();
            }
          });
        });
        // Give a LISTEN-style watcher a moment to subscribe before writing.
        await new Promise((r) => setTimeout(r, 50));
        await writer.insertSchedule(makeSchedule({ id: "watched" }));
        await writer.setControl({ pausedAll: true, pausedAt: 1, pausedBy: "x", reason: null, revision: 1 });
        await got;
      } finally {
        if (writer !== storage) await writer.close();
      }
    });
  });
}
