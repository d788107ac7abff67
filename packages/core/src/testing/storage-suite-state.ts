/**
 * The storage conformance tests of persisted schedule state (part of `storageConformance`): the
 * state is written with a run's succeeded outcome in one atomic write fenced by the claim and by
 * the revision the run read, kept in its own record, deleted with its schedule and checked when
 * read back.
 */

import assert from "node:assert/strict";
import { ConflictError, StorageError } from "../errors.js";
import type { ExecutionRecord, JsonValue } from "../storage/records.js";
import type { StateCommit } from "../storage/schedule-state.js";
import type { Storage } from "../storage/storage.js";
import { makeExecution, makeSchedule } from "./fixtures.js";
import type { StoreHandle } from "./storage-suite.js";

type Register = (name: string, fn: (h: StoreHandle) => Promise<void>) => void;

const T0 = 1_767_700_000_000;

/** Claims a running execution of `scheduleId` for `instanceId`. */
async function running(
  storage: Storage,
  scheduleId: string,
  overrides: Partial<ExecutionRecord> = {},
): Promise<ExecutionRecord> {
  const e = makeExecution({ scheduleId, ...overrides });
  const claim = await storage.claimFire({ execution: e });
  assert.ok(claim.claimed, "the fixture fire is free");
  return e;
}

/** Ends `e` as succeeded with `state`. */
function succeed(storage: Storage, e: ExecutionRecord, state: StateCommit): Promise<ExecutionRecord | null> {
  return storage.updateExecution(
    e.id,
    e.instanceId,
    { status: "succeeded", endedAt: state.at, result: { ok: true }, leaseExpiresAt: null },
    state,
  );
}

const commit = (value: JsonValue, expectedRevision: number, at = T0): StateCommit => ({
  value,
  expectedRevision,
  at,
});

async function rejectsStateConflict(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ConflictError, `expected a ConflictError, got ${String(error)}`);
    assert.equal(error.code, "REVISION_CONFLICT");
    assert.equal(error.field, "state");
    return true;
  });
}

/** Registers the schedule state tests. */
export function stateTests(describe: (name: string, fn: () => void) => void, test: Register): void {
  describe("storage conformance: schedule state", () => {
    test("has no state before the first commit", async ({ storage }) => {
      await storage.insertSchedule(makeSchedule({ id: "st-none" }));
      assert.equal(await storage.getScheduleState("st-none"), null);
      assert.equal(await storage.getScheduleState("st-unknown"), null);
    });

    test("commits the state with the succeeded outcome, its revision +1 per commit", async ({ storage }) => {
      await storage.insertSchedule(makeSchedule({ id: "st-1" }));
      const e1 = await running(storage, "st-1");
      const value = { count: 1, nested: { list: [1, "two", null, true] } };
      const done = await succeed(storage, e1, commit(value, 0, T0));
      assert.equal(done?.status, "succeeded");
      assert.deepEqual(await storage.getScheduleState("st-1"), {
        scheduleId: "st-1",
        value,
        revision: 1,
        executionId: e1.id,
        updatedAt: T0,
      });
      const e2 = await running(storage, "st-1");
      await succeed(storage, e2, commit({ count: 2 }, 1, T0 + 5));
      const second = await storage.getScheduleState("st-1");
      assert.deepEqual(second, {
        scheduleId: "st-1",
        value: { count: 2 },
        revision: 2,
        executionId: e2.id,
        updatedAt: T0 + 5,
      });
      // A null value is a committed state too (not "no state").
      const e3 = await running(storage, "st-1");
      await succeed(storage, e3, commit(null, 2, T0 + 9));
      const third = await storage.getScheduleState("st-1");
      assert.equal(third?.value, null);
      assert.equal(third?.revision, 3);
    });

    test("an outcome written without a state leaves the committed state as it was", async ({ storage }) => {
      await storage.insertSchedule(makeSchedule({ id: "st-fail" }));
      const e1 = await running(storage, "st-fail");
      await succeed(storage, e1, commit({ n: 1 }, 0));
      const e2 = await running(storage, "st-fail");
      const failed = await storage.updateExecution(e2.id, e2.instanceId, {
        status: "failed",
        endedAt: T0 + 1,
        error: { message: "boom", code: null, name: "Error" },
        leaseExpiresAt: null,
      });
      assert.equal(failed?.status, "failed");
      const state = await storage.getScheduleState("st-fail");
      assert.deepEqual(state?.value, { n: 1 });
      assert.equal(state?.revision, 1);
      assert.equal(state?.executionId, e1.id);
    });

    test("a holder that lost its claim (taken over) writes neither the outcome nor the state", async ({
      storage,
      reopen,
    }) => {
      const other = reopen ? await reopen() : storage;
      if (other !== storage) await other.open();
      try {
        await storage.insertSchedule(makeSchedule({ id: "st-lost" }));
        const e = await running(storage, "st-lost", { leaseExpiresAt: T0 - 1 });
        const taken = await other.takeOverExpired("instance-b", T0, T0 + 30_000, 10);
        assert.deepEqual(
          taken.map((t) => t.id),
          [e.id],
        );
        assert.equal(await succeed(storage, e, commit({ stale: true }, 0)), null);
        assert.equal(await storage.getScheduleState("st-lost"), null);
        const current = await storage.getExecution(e.id);
        assert.equal(current?.status, "running");
        assert.equal(current?.instanceId, "instance-b");
        // The new holder commits from the same revision the lost one read.
        const done = await succeed(other, { ...e, instanceId: "instance-b" }, commit({ fresh: true }, 0));
        assert.equal(done?.status, "succeeded");
        const state = await storage.getScheduleState("st-lost");
        assert.deepEqual(state?.value, { fresh: true });
        assert.equal(state?.revision, 1);
      } finally {
        if (other !== storage) await other.close();
      }
    });

    test("a cancelled execution writes neither the outcome nor the state", async ({ storage }) => {
      await storage.insertSchedule(makeSchedule({ id: "st-cancel" }));
      const e = await running(storage, "st-cancel");
      await storage.cancelExecution(e.id, "overlap", T0);
      assert.equal(await succeed(storage, e, commit({ late: true }, 0)), null);
      assert.equal(await storage.getScheduleState("st-cancel"), null);
      assert.equal((await storage.getExecution(e.id))?.status, "cancelled");
    });

    test("a state that moved on since the run read it writes neither and throws REVISION_CONFLICT", async ({
      storage,
    }) => {
      await storage.insertSchedule(makeSchedule({ id: "st-cas" }));
      const e1 = await running(storage, "st-cas");
      const e2 = await running(storage, "st-cas");
      await succeed(storage, e1, commit({ by: 1 }, 0));
      await rejectsStateConflict(succeed(storage, e2, commit({ by: 2 }, 0)));
      const e2now = await storage.getExecution(e2.id);
      assert.equal(e2now?.status, "running", "the outcome was not written either");
      assert.equal(e2now?.result, null);
      const state = await storage.getScheduleState("st-cas");
      assert.deepEqual(state?.value, { by: 1 });
      assert.equal(state?.revision, 1);
      // The holder still holds it and can record another outcome.
      const failed = await storage.updateExecution(e2.id, e2.instanceId, {
        status: "failed",
        endedAt: T0,
        leaseExpiresAt: null,
      });
      assert.equal(failed?.status, "failed");
    });

    test("of two holders committing on the same revision at once, exactly one wins", async ({
      storage,
      reopen,
    }) => {
      const other = reopen ? await reopen() : storage;
      if (other !== storage) await other.open();
      try {
        await storage.insertSchedule(makeSchedule({ id: "st-race" }));
        const a = await running(storage, "st-race");
        const b = await running(storage, "st-race", { instanceId: "instance-b" });
        const results = await Promise.allSettled([
          succeed(storage, a, commit({ by: "a" }, 0)),
          succeed(other, b, commit({ by: "b" }, 0)),
        ]);
        const won = results.filter((r) => r.status === "fulfilled" && r.value?.status === "succeeded");
        const lost = results.filter((r) => r.status === "rejected");
        assert.equal(won.length, 1, `one commit wins (got ${JSON.stringify(results)})`);
        assert.equal(lost.length, 1);
        assert.ok((lost[0] as PromiseRejectedResult).reason instanceof ConflictError);
        const state = await storage.getScheduleState("st-race");
        assert.equal(state?.revision, 1);
        const winner = results[0]?.status === "fulfilled" ? a : b;
        assert.equal(state?.executionId, winner.id);
        assert.deepEqual(state?.value, { by: winner === a ? "a" : "b" });
      } finally {
        if (other !== storage) await other.close();
      }
    });

    test("a schedule that no longer exists gets the outcome and no state", async ({ storage }) => {
      const e = await running(storage, "st-gone");
      const done = await succeed(storage, e, commit({ orphan: true }, 0));
      assert.equal(done?.status, "succeeded");
      assert.equal(await storage.getScheduleState("st-gone"), null);
    });

    test("deleting a schedule deletes its state; a new schedule of that id starts without one", async ({
      storage,
    }) => {
      await storage.insertSchedule(makeSchedule({ id: "st-del" }));
      await storage.insertSchedule(makeSchedule({ id: "st-keep" }));
      await succeed(storage, await running(storage, "st-del"), commit({ n: 1 }, 0));
      await succeed(storage, await running(storage, "st-keep"), commit({ n: 2 }, 0));
      assert.equal(await storage.deleteSchedule("st-del"), true);
      assert.equal(await storage.getScheduleState("st-del"), null);
      assert.deepEqual((await storage.getScheduleState("st-keep"))?.value, { n: 2 });
      await storage.insertSchedule(makeSchedule({ id: "st-del" }));
      assert.equal(await storage.getScheduleState("st-del"), null);
      await succeed(storage, await running(storage, "st-del"), commit({ again: true }, 0));
      assert.equal((await storage.getScheduleState("st-del"))?.revision, 1);
    });

    test("hands out copies: changing a returned state does not change the stored one", async ({
      storage,
    }) => {
      await storage.insertSchedule(makeSchedule({ id: "st-copy" }));
      const value = { list: [1, 2] };
      await succeed(storage, await running(storage, "st-copy"), commit(value, 0));
      value.list.push(3);
      const read = await storage.getScheduleState("st-copy");
      try {
        (read as unknown as { value: { list: number[] } }).value.list.push(4);
      } catch {
        // frozen records throw in strict mode; either way the store must be unaffected
      }
      assert.deepEqual((await storage.getScheduleState("st-copy"))?.value, { list: [1, 2] });
    });

    test("keeps the committed state across a reopen", async ({ storage, reopen }) => {
      if (!reopen) return; // the store cannot be reopened on the same data (in-memory): nothing to check
      await storage.insertSchedule(makeSchedule({ id: "st-durable" }));
      const e1 = await running(storage, "st-durable");
      await succeed(storage, e1, commit({ total: "100.50" }, 0));
      const e2 = await running(storage, "st-durable");
      await succeed(storage, e2, commit({ total: "201.00" }, 1, T0 + 7));
      await storage.close();
      const again = await reopen();
      await again.open();
      try {
        assert.deepEqual(await again.getScheduleState("st-durable"), {
          scheduleId: "st-durable",
          value: { total: "201.00" },
          revision: 2,
          executionId: e2.id,
          updatedAt: T0 + 7,
        });
        // Deletion is durable too.
        await again.deleteSchedule("st-durable");
      } finally {
        await again.close();
      }
      const third = await reopen();
      await third.open();
      try {
        assert.equal(await third.getScheduleState("st-durable"), null);
      } finally {
        await third.close();
      }
    });

    test("a stored state failing its checks throws STORAGE_CORRUPT naming it, and issues() lists it", async (h) => {
      if (!h.corruptState) return; // no way to damage this store's data
      await h.storage.insertSchedule(makeSchedule({ id: "st-bad" }));
      await succeed(h.storage, await running(h.storage, "st-bad"), commit({ ok: true }, 0));
      const storage = await h.corruptState(h.storage, "st-bad");
      try {
        await assert.rejects(storage.getScheduleState("st-bad"), (error: unknown) => {
          assert.ok(error instanceof StorageError, `expected a StorageError, got ${String(error)}`);
          assert.equal(error.code, "STORAGE_CORRUPT");
          assert.match(error.message, /st-bad/);
          return true;
        });
        if (storage.issues) {
          assert.ok(
            storage.issues().some((i) => i.subject === "state" && i.id === "st-bad"),
            `issues() names the state (got ${JSON.stringify(storage.issues())})`,
          );
        }
      } finally {
        if (storage !== h.storage) await storage.close();
      }
    });
  });
}
