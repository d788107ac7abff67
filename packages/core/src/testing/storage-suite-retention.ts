/**
 * The storage conformance tests of retention (part of `storageConformance`): what a prune may
 * delete (final records only, in bounded batches, never what lastFireAt and the schedule summaries
 * are made of, never an approval an open order references), and that pruning is idempotent and
 * durable. The rules are stated in `storage/prune.ts`.
 */

import assert from "node:assert/strict";
import { ValidationError } from "../errors.js";
import type { ApprovalRecord, ExecutionRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import { makeApproval, makeAudit, makeExecution, makeOrder } from "./fixtures.js";
import type { StoreHandle } from "./storage-suite.js";

type Register = (name: string, fn: (h: StoreHandle) => Promise<void>) => void;

/** The pruning methods of a storage; the suite fails (rather than skips) a storage without them. */
function pruner(
  storage: Storage,
): Required<
  Pick<Storage, "pruneExecutions" | "executionScheduleIds" | "pruneApprovals" | "pruneOrders" | "pruneAudit">
> {
  for (const m of [
    "pruneExecutions",
    "executionScheduleIds",
    "pruneApprovals",
    "pruneOrders",
    "pruneAudit",
  ]) {
    assert.equal(
      typeof (storage as unknown as Record<string, unknown>)[m],
      "function",
      `${storage.name} implements ${m}`,
    );
  }
  return storage as never;
}

const T = 1_768_000_000_000;
const at = (n: number) => T + n * 60_000;
const FAR = T + 10 * 365 * 86_400_000;

/** Stores a final execution of `scheduleId` at `at(n)` (succeeded unless told). */
async function put(
  storage: Storage,
  n: number,
  overrides: Partial<ExecutionRecord> = {},
): Promise<ExecutionRecord> {
  const e = makeExecution({
    scheduledAt: at(n),
    status: "succeeded",
    startedAt: at(n),
    endedAt: at(n) + 100,
    leaseExpiresAt: null,
    ...overrides,
  });
  const result = await storage.claimFire({ execution: e });
  assert.ok(result.claimed);
  return e;
}

/** Every execution id of a schedule, oldest first. */
async function idsOf(storage: Storage, scheduleId: string): Promise<string[]> {
  const page = await storage.listExecutions({ scheduleId, limit: 1000 });
  return page.items.map((e) => e.id).reverse();
}

/** Prunes until a batch comes back short; returns the batch sizes. */
async function pruneAll(batch: () => Promise<number>, limit: number): Promise<number[]> {
  const sizes: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const n = await batch();
    sizes.push(n);
    assert.ok(n <= limit, `a batch deleted ${n}, more than its limit ${limit}`);
    if (n < limit) return sizes;
  }
  throw new Error("pruning did not terminate");
}

/** Runs `check` on the storage, and again on a reopened one when the handle can reopen. */
async function alsoAfterReopen(h: StoreHandle, check: (s: Storage) => Promise<void>): Promise<void> {
  await check(h.storage);
  if (!h.reopen) return;
  await h.storage.close();
  const again = await h.reopen();
  await again.open();
  try {
    await check(again);
  } finally {
    await again.close();
  }
}

/** Registers the retention tests. */
export function retentionTests(describe: (name: string, fn: () => void) => void, test: Register): void {
  describe("storage conformance: retention", () => {
    test("deletes only final executions, oldest first, in batches of at most the limit", async (h) => {
      const p = pruner(h.storage);
      const old: ExecutionRecord[] = [];
      for (let i = 0; i < 8; i++) old.push(await put(h.storage, i));
      const running = await put(h.storage, -10, { status: "running", endedAt: null, leaseExpiresAt: FAR });
      const claimed = await put(h.storage, -20, {
        status: "claimed",
        startedAt: null,
        endedAt: null,
        attempts: 0,
        leaseExpiresAt: FAR,
      });
      const failed = await put(h.storage, 8, { status: "failed" });
      const skipped = await put(h.storage, 9, { status: "skipped", reason: "overlap", startedAt: null });
      // Kept whatever the policy: the latest own fire (skipped), the latest ended run (failed),
      // the latest success (old[7]). Deletable: old[0..6].
      const sizes = await pruneAll(
        () => p.pruneExecutions({ scheduleId: "sched-1", before: FAR, limit: 3 }),
        3,
      );
      assert.deepEqual(sizes, [3, 3, 1]);
      const expected = [claimed.id, running.id, old[7]?.id, failed.id, skipped.id];
      await alsoAfterReopen(h, async (s) => {
        assert.deepEqual(await idsOf(s, "sched-1"), expected);
        assert.equal(
          await pruner(s).pruneExecutions({ scheduleId: "sched-1", before: FAR, limit: 3 }),
          0,
          "idempotent",
        );
      });
    });

    test("the oldest go first: a limited batch takes the oldest deletable executions", async ({
      storage,
    }) => {
      const p = pruner(storage);
      const made: ExecutionRecord[] = [];
      // Claimed out of order (a backfill after the fact), so insertion order is not time order.
      for (const n of [5, 6, 7, 8, 1, 2, 3, 4, 9]) made.push(await put(storage, n));
      assert.equal(await p.pruneExecutions({ scheduleId: "sched-1", before: FAR, limit: 2 }), 2);
      const left = await idsOf(storage, "sched-1");
      const gone = made.filter((e) => !left.includes(e.id)).map((e) => e.scheduledAt);
      assert.deepEqual(gone.sort(), [at(1), at(2)]);
    });

    test("honours before (by scheduledAt) and keepLast per schedule", async ({ storage }) => {
      const p = pruner(storage);
      for (let i = 0; i < 6; i++) await put(storage, i);
      for (let i = 0; i < 6; i++) await put(storage, i, { scheduleId: "sched-2" });
      // Age: only what was due before at(3).
      assert.equal(await p.pruneExecutions({ scheduleId: "sched-1", before: at(3), limit: 100 }), 3);
      assert.equal((await idsOf(storage, "sched-1")).length, 3);
      assert.equal((await idsOf(storage, "sched-2")).length, 6, "another schedule is untouched");
      // Count: the newest two stay, whatever their age.
      assert.equal(await p.pruneExecutions({ scheduleId: "sched-2", keepLast: 2, limit: 100 }), 4);
      const left = await storage.listExecutions({ scheduleId: "sched-2", limit: 10 });
      assert.deepEqual(
        left.items.map((e) => e.scheduledAt),
        [at(5), at(4)],
      );
      // Both: deleted only when older than `before` AND outside the newest keepLast.
      for (let i = 0; i < 6; i++) await put(storage, i, { scheduleId: "sched-3" });
      assert.equal(
        await p.pruneExecutions({ scheduleId: "sched-3", before: at(4), keepLast: 4, limit: 100 }),
        2,
      );
      assert.equal(
        await p.pruneExecutions({ scheduleId: "sched-3", before: at(4), keepLast: 4, limit: 100 }),
        0,
      );
      assert.equal(await p.pruneExecutions({ scheduleId: "nobody", before: FAR, limit: 100 }), 0);
    });

    test("leaves lastFireAt and the schedule summaries as they were, also after a reopen", async (h) => {
      const p = pruner(h.storage);
      for (let i = 0; i < 20; i++) await put(h.storage, i);
      await put(h.storage, 20, { status: "timed_out" });
      await put(h.storage, 21, { status: "failed" });
      await put(h.storage, 22, { status: "cancelled", reason: "shutdown", startedAt: null });
      await put(h.storage, 23, { kind: "manual", status: "skipped", startedAt: null });
      await put(h.storage, 3, { scheduleId: "sched-2", status: "failed" });
      const ids = ["sched-1", "sched-2", "none"];
      const last = [await h.storage.lastFireAt("sched-1"), await h.storage.lastFireAt("sched-2")];
      const summaries = await h.storage.scheduleSummaries(ids);
      for (const scheduleId of ["sched-1", "sched-2"]) {
        await pruneAll(() => p.pruneExecutions({ scheduleId, before: FAR, limit: 4 }), 4);
      }
      assert.ok((await idsOf(h.storage, "sched-1")).length <= 4, "sched-1 was pruned");
      await alsoAfterReopen(h, async (s) => {
        assert.deepEqual([await s.lastFireAt("sched-1"), await s.lastFireAt("sched-2")], last);
        assert.deepEqual(await s.scheduleSummaries(ids), summaries);
      });
    });

    test("a claim released after a prune falls back to the latest final own fire", async ({ storage }) => {
      const p = pruner(storage);
      for (let i = 0; i < 5; i++) await put(storage, i);
      const buffered = await put(storage, 9, {
        status: "claimed",
        startedAt: null,
        endedAt: null,
        attempts: 0,
        leaseExpiresAt: FAR,
      });
      await pruneAll(() => p.pruneExecutions({ scheduleId: "sched-1", before: FAR, limit: 10 }), 10);
      assert.equal(await storage.lastFireAt("sched-1"), at(9));
      assert.equal(await storage.releaseClaim(buffered.id, buffered.instanceId), true);
      assert.equal(await storage.lastFireAt("sched-1"), at(4), "the fire before it is still on record");
    });

    test("rejects a batch limit outside 1-10,000 naming the field", async ({ storage }) => {
      const p = pruner(storage);
      for (const limit of [0, 10_001, 1.5]) {
        await assert.rejects(p.pruneExecutions({ scheduleId: "sched-1", limit }), (error: unknown) => {
          assert.ok(error instanceof ValidationError, String(error));
          assert.equal(error.field, "limit");
          return true;
        });
        await assert.rejects(p.pruneAudit({ before: FAR, limit }), ValidationError);
      }
    });

    test("lists the schedules that have executions, in pages", async ({ storage }) => {
      const p = pruner(storage);
      for (const id of ["c", "a", "b", "a", "d"])
        await put(storage, Math.floor(Math.random() * 1e6), { scheduleId: id });
      assert.deepEqual(await p.executionScheduleIds(null, 2), ["a", "b"]);
      assert.deepEqual(await p.executionScheduleIds("b", 10), ["c", "d"]);
      assert.deepEqual(await p.executionScheduleIds("d", 10), []);
    });

    test("deletes final approvals only, never one an open order references", async (h) => {
      const p = pruner(h.storage);
      const old = (o: Partial<ApprovalRecord>) => makeApproval({ createdAt: at(1), expiresAt: at(2), ...o });
      const pending = old({ status: "pending" });
      const approved = old({ status: "approved" });
      const rejected = old({ status: "rejected" });
      const expired = old({ status: "expired" });
      const failed = old({ status: "failed" });
      const open = old({ status: "submitted" });
      const done = old({ status: "submitted" });
      const recent = makeApproval({ status: "rejected", createdAt: at(100) });
      const all = [pending, approved, rejected, expired, failed, open, done, recent];
      await h.storage.insertApprovals(all);
      await h.storage.upsertOrder(makeOrder({ approvalId: open.id, status: "accepted", updatedAt: at(1) }));
      await h.storage.upsertOrder(makeOrder({ approvalId: done.id, status: "filled", updatedAt: at(1) }));
      const sizes = await pruneAll(() => p.pruneApprovals({ before: at(50), limit: 2 }), 2);
      assert.equal(
        sizes.reduce((a, b) => a + b, 0),
        4,
      );
      const kept = [pending, approved, open, recent].map((a) => a.id).sort();
      await alsoAfterReopen(h, async (s) => {
        const left = (await s.listApprovals({ limit: 100 })).items.map((a) => a.id).sort();
        assert.deepEqual(left, kept);
        assert.equal(await s.countApprovals("rejected"), 1);
        assert.equal(await s.countApprovals("pending"), 1);
        assert.equal(await s.getApproval(done.id), null);
      });
    });

    test("deletes final orders last updated before the cutoff only", async (h) => {
      const p = pruner(h.storage);
      const filled = makeOrder({ status: "filled", updatedAt: at(1) });
      const canceled = makeOrder({ status: "canceled", updatedAt: at(2) });
      const open = makeOrder({ status: "partially_filled", updatedAt: at(1) });
      const recent = makeOrder({ status: "filled", submittedAt: at(1), updatedAt: at(100) });
      for (const o of [filled, canceled, open, recent]) await h.storage.upsertOrder(o);
      assert.equal(await p.pruneOrders({ before: at(50), limit: 1 }), 1);
      assert.equal(await p.pruneOrders({ before: at(50), limit: 10 }), 1);
      assert.equal(await p.pruneOrders({ before: at(50), limit: 10 }), 0);
      await alsoAfterReopen(h, async (s) => {
        const left = (await s.listOrders({ limit: 100 })).items.map((o) => o.clientOrderId).sort();
        assert.deepEqual(left, [open.clientOrderId, recent.clientOrderId].sort());
      });
    });

    test("deletes audit entries oldest first, never the newest, and never reuses a seq", async (h) => {
      const p = pruner(h.storage);
      for (let i = 0; i < 5; i++) await h.storage.appendAudit(makeAudit({ at: at(i), subjectId: `s${i}` }));
      assert.equal(await p.pruneAudit({ before: at(3), limit: 2 }), 2);
      assert.equal(await p.pruneAudit({ before: at(3), limit: 2 }), 1);
      assert.equal(await p.pruneAudit({ before: at(3), limit: 2 }), 0);
      const seqs = async (s: Storage) =>
        (await s.listAudit({ limit: 100 })).items.map((e) => e.seq).reverse();
      const kept = await seqs(h.storage);
      assert.equal(kept.length, 2);
      assert.equal(await p.pruneAudit({ before: FAR, limit: 100 }), 1, "all but the newest");
      const newest = kept[kept.length - 1] as number;
      assert.deepEqual(await seqs(h.storage), [newest]);
      const next = await h.storage.appendAudit(makeAudit({ at: at(9) }));
      assert.ok(next.seq > newest, `seq ${next.seq} continues after ${newest}`);
      await alsoAfterReopen(h, async (s) => {
        assert.deepEqual(await seqs(s), [newest, next.seq]);
      });
    });
  });
}
