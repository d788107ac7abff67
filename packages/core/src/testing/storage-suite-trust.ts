/**
 * The storage conformance tests of what a storage hands back after its data was tampered with or
 * its claims released, and of the per-schedule history summaries (part of `storageConformance`).
 */

import assert from "node:assert/strict";
import { StorageError } from "../errors.js";
import type { ExecutionRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import { makeExecution, makeSchedule } from "./fixtures.js";
import type { StoreHandle } from "./storage-suite.js";

type Register = (name: string, fn: (h: StoreHandle) => Promise<void>) => void;

async function rejectsCorrupt(promise: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof StorageError, `${what}: expected a StorageError, got ${String(error)}`);
    assert.equal(error.code, "STORAGE_CORRUPT", what);
    return true;
  });
}

/** Registers the trust and history tests. */
export function trustTests(describe: (name: string, fn: () => void) => void, test: Register): void {
  describe("storage conformance: records that cannot be trusted", () => {
    test("an unreadable control record fails closed (never reads as unpaused) until replaced", async (h) => {
      // Without a way to damage its data (the handle gives none), there is nothing to check.
      if (!h.corruptControl) return;
      await h.storage.setControl({
        pausedAll: false,
        pausedAt: null,
        pausedBy: null,
        reason: null,
        revision: 4,
      });
      const storage: Storage = await h.corruptControl(h.storage);
      await rejectsCorrupt(storage.getControl(), "getControl of a damaged control record");
      if (storage.issues) {
        assert.ok(
          storage.issues().some((i) => i.subject === "control"),
          `issues() names the control record (got ${JSON.stringify(storage.issues())})`,
        );
      }
      const healed = { pausedAll: false, pausedAt: null, pausedBy: null, reason: null, revision: 5 };
      await storage.setControl(healed);
      assert.deepEqual(await storage.getControl(), healed);
      if (storage.issues) assert.ok(!storage.issues().some((i) => i.subject === "control"));
    });

    test("a stored schedule failing its checks is left out, refused by id, and named by issues()", async (h) => {
      if (!h.corruptSchedule) return; // see above: no way to damage this store's data
      const good = makeSchedule({ id: "good-1" });
      await h.storage.insertSchedule(good);
      await h.storage.insertSchedule(makeSchedule({ id: "bad-1" }));
      const storage: Storage = await h.corruptSchedule(h.storage, "bad-1");
      assert.deepEqual(
        (await storage.listSchedules()).map((s) => s.id),
        ["good-1"],
      );
      assert.deepEqual(await storage.getSchedule("good-1"), good);
      const issue = () => storage.issues?.().find((i) => i.subject === "schedule" && i.id === "bad-1");
      if (issue()?.kind === "quarantined") {
        // Moved out of the store (FileStorage's quarantine): it is gone, not hidden.
        assert.equal(await storage.getSchedule("bad-1"), null);
      } else {
        await rejectsCorrupt(storage.getSchedule("bad-1"), "getSchedule of a damaged schedule");
      }
      if (storage.issues)
        assert.ok(issue(), `issues() names bad-1 (got ${JSON.stringify(storage.issues())})`);
    });
  });

  describe("storage conformance: history", () => {
    test("does not count a released claim as the schedule's last fire", async ({ storage, reopen }) => {
      await storage.claimFire({ execution: makeExecution({ scheduledAt: 3000, status: "succeeded" }) });
      const buffered = makeExecution({ scheduledAt: 5000, status: "claimed", attempts: 0, startedAt: null });
      await storage.claimFire({ execution: buffered });
      assert.equal(await storage.lastFireAt("sched-1"), 5000);
      assert.equal(await storage.releaseClaim(buffered.id, buffered.instanceId), true);
      assert.equal(await storage.lastFireAt("sched-1"), 3000, "the released fire never ran");
      if (!reopen) return; // in-memory: nothing persists to reopen
      await storage.close();
      const again = await reopen();
      await again.open();
      try {
        assert.equal(await again.lastFireAt("sched-1"), 3000, "also after a reopen");
      } finally {
        await again.close();
      }
    });

    test("summarises each schedule's latest start, end, status and success in one call", async ({
      storage,
      reopen,
    }) => {
      const at = (n: number) => 1_768_000_000_000 + n * 60_000;
      const made: ExecutionRecord[] = [];
      const put = async (overrides: Partial<ExecutionRecord>) => {
        const e = makeExecution({ leaseExpiresAt: null, ...overrides });
        made.push(e);
        await storage.claimFire({ execution: e });
      };
      // Enough history to be sealed away by storages that do (FileStorage's segments).
      for (let i = 0; i < 24; i++) {
        await put({ scheduledAt: at(i), status: "succeeded", startedAt: at(i), endedAt: at(i) + 100 });
      }
      await put({ scheduledAt: at(30), status: "failed", startedAt: at(30), endedAt: at(30) + 700 });
      await put({
        scheduledAt: at(31),
        status: "skipped",
        reason: "overlap",
        startedAt: null,
        endedAt: at(31),
      });
      await put({
        scheduledAt: at(32),
        status: "cancelled",
        reason: "shutdown",
        startedAt: null,
        endedAt: at(32),
      });
      await put({ scheduledAt: at(33), kind: "manual", status: "running", startedAt: at(33) + 5 });
      await put({
        scheduleId: "other",
        scheduledAt: at(1),
        status: "timed_out",
        startedAt: at(1),
        endedAt: at(1) + 9,
      });
      const expected = [
        {
          scheduleId: "sched-1",
          lastFireAt: at(32),
          lastStartAt: at(33) + 5,
          lastEndAt: at(30) + 700,
          lastStatus: "failed",
          lastSuccessAt: at(23) + 100,
        },
        {
          scheduleId: "none",
          lastFireAt: null,
          lastStartAt: null,
          lastEndAt: null,
          lastStatus: null,
          lastSuccessAt: null,
        },
        {
          scheduleId: "other",
          lastFireAt: at(1),
          lastStartAt: at(1),
          lastEndAt: at(1) + 9,
          lastStatus: "timed_out",
          lastSuccessAt: null,
        },
      ];
      assert.deepEqual(await storage.scheduleSummaries(["sched-1", "none", "other"]), expected);
      assert.deepEqual(await storage.scheduleSummaries([]), []);
      if (!reopen) return; // in-memory: nothing persists to reopen
      await storage.close();
      const again = await reopen();
      await again.open();
      try {
        assert.deepEqual(await again.scheduleSummaries(["sched-1", "none", "other"]), expected);
      } finally {
        await again.close();
      }
    });
  });
}
