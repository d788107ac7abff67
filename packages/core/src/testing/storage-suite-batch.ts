/**
 * The storage conformance tests of the batch paths (part of `storageConformance`): the batch
 * claim (`claimFires`, the same outcome per fire as `claimFire`, exactly-once against single
 * claims and other batches racing it), the committed state handed back with a won claim
 * (`withState`), the overlap answer with a won claim (`withOverlap`), who holds fires (`fireHolders`), the bulk insert of schedules (`insertSchedules`, all or none) and cluster
 * membership (`heartbeat`). The methods are optional in the contract, but every tradecron storage
 * has them: the suite fails (rather than skips) a storage without them.
 */

import assert from "node:assert/strict";
import { ConflictError, ValidationError } from "../errors.js";
import type { ExecutionRecord, ScheduleRecord } from "../storage/records.js";
import type { ClaimResult, Storage } from "../storage/storage.js";
import { makeExecution, makeSchedule } from "./fixtures.js";
import type { StoreHandle } from "./storage-suite.js";

type Register = (name: string, fn: (h: StoreHandle) => Promise<void>) => void;

type BatchStorage = Storage &
  Required<Pick<Storage, "claimFires" | "fireHolders" | "insertSchedules" | "heartbeat">>;

/** The storage with its batch methods; fails a storage that lacks one. */
function batched(storage: Storage): BatchStorage {
  for (const m of ["claimFires", "fireHolders", "insertSchedules", "heartbeat"]) {
    assert.equal(
      typeof (storage as unknown as Record<string, unknown>)[m],
      "function",
      `${storage.name} implements ${m}`,
    );
  }
  return storage as BatchStorage;
}

const T0 = 1_767_900_000_000;

/** A second handle on the same data (opened), or the storage itself; and how to let go of it. */
async function otherHandle(h: StoreHandle): Promise<{ other: BatchStorage; done: () => Promise<void> }> {
  const other = h.reopen ? await h.reopen() : h.storage;
  if (other === h.storage) return { other: batched(other), done: async () => {} };
  await other.open();
  return { other: batched(other), done: () => other.close() };
}

function won(r: ClaimResult | undefined): ExecutionRecord {
  assert.ok(r?.claimed, `expected a won claim, got ${JSON.stringify(r)}`);
  return r.execution;
}

function lost(r: ClaimResult | undefined): ExecutionRecord {
  assert.ok(r && !r.claimed, `expected a lost claim, got ${JSON.stringify(r)}`);
  return r.existing;
}

function tryMutate(obj: object, key: string, value: unknown): void {
  try {
    (obj as Record<string, unknown>)[key] = value;
  } catch {
    // frozen records throw in strict mode; either way the store must be unaffected
  }
}

async function rejectsExists(promise: Promise<unknown>, id: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ConflictError, `expected a ConflictError, got ${String(error)}`);
    assert.equal(error.code, "SCHEDULE_EXISTS");
    assert.equal(
      (error.details as { id?: unknown } | undefined)?.id,
      id,
      "details.id names the first conflict",
    );
    return true;
  });
}

/** Runs `e` to `succeeded` committing `value` as its schedule's state at `expectedRevision`. */
async function commitState(
  storage: Storage,
  e: ExecutionRecord,
  value: { n: number },
  expectedRevision: number,
) {
  const done = await storage.updateExecution(
    e.id,
    e.instanceId,
    { status: "succeeded", endedAt: e.scheduledAt + 10, leaseExpiresAt: null },
    { value, expectedRevision, at: e.scheduledAt + 10 },
  );
  assert.equal(done?.status, "succeeded");
}

/** Registers the batch tests. */
export function batchTests(describe: (name: string, fn: () => void) => void, test: Register): void {
  describe("storage conformance: batch claims", () => {
    test("claims a batch with claimFire's outcome per fire, in the order given", async ({ storage }) => {
      const s = batched(storage);
      const taken = makeExecution({ scheduledAt: T0 + 5000 });
      assert.equal((await s.claimFire({ execution: taken })).claimed, true);
      const late = makeExecution({ scheduledAt: T0 + 9000 });
      const rival = makeExecution({ scheduledAt: T0 + 5000, instanceId: "instance-b" });
      const early = makeExecution({ scheduledAt: T0 + 1000, scheduleId: "other" });
      const skipped = makeExecution({
        scheduledAt: T0 + 3000,
        status: "skipped",
        reason: "market_closed",
        leaseExpiresAt: null,
        startedAt: null,
        details: { why: "holiday" },
      });
      const results = await s.claimFires([late, rival, early, skipped].map((execution) => ({ execution })));
      assert.equal(results.length, 4);
      assert.deepEqual(won(results[0]), late);
      assert.deepEqual(lost(results[1]), taken, "a fire taken before the batch is lost to its holder");
      assert.deepEqual(won(results[2]), early);
      assert.deepEqual(won(results[3]), skipped);
      assert.equal(results[0]?.claimed && results[0].state, undefined, "no state unless asked for");
      assert.deepEqual(await s.findExecution("sched-1", T0 + 9000), late);
      assert.deepEqual(await s.getExecution(early.id), early);
      assert.equal(await s.getExecution(rival.id), null, "the loser's record is not stored");
      assert.equal(await s.lastFireAt("sched-1"), T0 + 9000);
      assert.deepEqual(
        (await s.activeExecutions("sched-1")).map((e) => e.id),
        [taken.id, late.id],
        "the skipped fire is final, the claimed ones active",
      );
      // A later single claim sees what the batch claimed.
      const again = await s.claimFire({
        execution: makeExecution({ scheduledAt: T0 + 1000, scheduleId: "other" }),
      });
      assert.equal(lost(again).id, early.id);
    });

    test("resolves an empty batch to no results", async ({ storage }) => {
      assert.deepEqual(await batched(storage).claimFires([]), []);
    });

    test("gives a fire claimed twice in one batch to the first claim", async ({ storage }) => {
      const s = batched(storage);
      const first = makeExecution({ scheduledAt: T0 });
      const second = makeExecution({ scheduledAt: T0, instanceId: "instance-b" });
      const third = makeExecution({ scheduledAt: T0, instanceId: "instance-c" });
      const other = makeExecution({ scheduledAt: T0 + 1 });
      const results = await s.claimFires([first, second, other, third].map((execution) => ({ execution })));
      assert.deepEqual(won(results[0]), first);
      assert.deepEqual(lost(results[1]), first);
      assert.deepEqual(won(results[2]), other);
      assert.deepEqual(lost(results[3]), first);
      assert.equal(await s.getExecution(second.id), null);
      assert.equal(await s.getExecution(third.id), null);
    });

    test("gives every fire exactly one winner when batches and single claims race", async (h) => {
      const s = batched(h.storage);
      const { other, done } = await otherHandle(h);
      try {
        const fires = Array.from({ length: 40 }, (_, i) => ({
          scheduleId: `race-${i % 4}`,
          scheduledAt: T0 + Math.floor(i / 4) * 1000,
        }));
        const mk = (f: (typeof fires)[number], instanceId: string) => ({
          execution: makeExecution({ ...f, instanceId }),
        });
        const forward = fires.map((f) => mk(f, "instance-a"));
        // Another instance claims the same fires in the opposite order, in two batches.
        const backward = [...fires].reverse().map((f) => mk(f, "instance-b"));
        const singles = fires.filter((_, i) => i % 3 === 0).map((f) => mk(f, "instance-c"));
        const [a, b1, b2, c] = await Promise.all([
          s.claimFires(forward),
          other.claimFires(backward.slice(0, 20)),
          other.claimFires(backward.slice(20)),
          Promise.all(singles.map((claim, i) => (i % 2 === 0 ? s : other).claimFire(claim))),
        ]);
        const results = [...a, ...b1, ...b2, ...c];
        const all = [...forward, ...backward, ...singles].map((claim, i) => ({
          claim,
          result: results[i] as ClaimResult,
        }));
        assert.equal(results.length, all.length);
        for (const f of fires) {
          const mine = all.filter(
            (x) =>
              x.claim.execution.scheduleId === f.scheduleId &&
              x.claim.execution.scheduledAt === f.scheduledAt,
          );
          const winners = mine.filter((x) => x.result.claimed);
          assert.equal(winners.length, 1, `exactly one winner for ${f.scheduleId}@${f.scheduledAt}`);
          const winner = winners[0]?.claim.execution as ExecutionRecord;
          for (const x of mine) if (!x.result.claimed) assert.equal(x.result.existing.id, winner.id);
          assert.equal((await s.findExecution(f.scheduleId, f.scheduledAt))?.id, winner.id);
        }
      } finally {
        await done();
      }
    });

    test("hands out won and lost records that cannot change what is stored", async ({ storage }) => {
      const s = batched(storage);
      const held = makeExecution({ scheduledAt: T0 });
      await s.claimFire({ execution: held });
      const fresh = makeExecution({ scheduledAt: T0 + 1 });
      const input = { ...fresh };
      const [w, l] = await s.claimFires([
        { execution: input },
        { execution: makeExecution({ scheduledAt: T0, instanceId: "instance-b" }) },
      ]);
      tryMutate(input, "status", "failed");
      const mine = won(w);
      tryMutate(mine, "status", "failed");
      tryMutate(mine, "leaseExpiresAt", 1);
      const theirs = lost(l);
      tryMutate(theirs, "instanceId", "thief");
      assert.deepEqual(await s.getExecution(fresh.id), fresh);
      assert.deepEqual(await s.getExecution(held.id), held);
    });
  });

  describe("storage conformance: fire holders", () => {
    test("names each fire's holder in the order asked, null for a free fire", async (h) => {
      const s = batched(h.storage);
      const { other, done } = await otherHandle(h);
      try {
        const mine = makeExecution({ scheduleId: "held-a", scheduledAt: T0 + 1000 });
        const theirs = makeExecution({
          scheduleId: "held-b",
          scheduledAt: T0 + 1000,
          instanceId: "instance-b",
        });
        const skip = makeExecution({
          scheduleId: "held-a",
          scheduledAt: T0 + 2000,
          instanceId: "instance-c",
          status: "skipped",
          reason: "market_closed",
          startedAt: null,
          leaseExpiresAt: null,
        });
        await s.claimFires([mine, skip].map((execution) => ({ execution })));
        await other.claimFire({ execution: theirs });
        const fires = [
          { scheduleId: "held-b", scheduledAt: T0 + 1000 },
          { scheduleId: "held-a", scheduledAt: T0 + 3000 },
          { scheduleId: "held-a", scheduledAt: T0 + 2000 },
          { scheduleId: "nobody", scheduledAt: T0 + 1000 },
          { scheduleId: "held-a", scheduledAt: T0 + 1000 },
          { scheduleId: "held-b", scheduledAt: T0 + 1000 },
        ];
        assert.deepEqual(
          await s.fireHolders(fires),
          ["instance-b", null, "instance-c", null, "instance-a", "instance-b"],
          "a claim by another handle, a free instant, a skip, an unknown schedule, a repeat",
        );
        assert.deepEqual(
          await other.fireHolders(fires.slice(0, 2)),
          ["instance-b", null],
          "from either handle",
        );
        assert.deepEqual(
          await s.fireHolders(fires, [
            "instance-b",
            "instance-a",
            "instance-a",
            "instance-b",
            "instance-a",
            "instance-c",
          ]),
          ["instance-b", null, "instance-c", null, "instance-a", "instance-b"],
          "the same answer with expected holders (a hint): as expected, free, held by another, unknown, as expected, held by another",
        );
        assert.deepEqual(await s.fireHolders([]), []);
        // Asking claims nothing: the free fire is still free to claim.
        assert.equal(
          (await s.claimFire({ execution: makeExecution({ scheduleId: "held-a", scheduledAt: T0 + 3000 }) }))
            .claimed,
          true,
        );
        const many = Array.from({ length: 1500 }, (_, i) => ({
          scheduleId: `many-${i}`,
          scheduledAt: T0 + i,
        }));
        await s.claimFires(many.filter((_, i) => i % 3 === 0).map((f) => ({ execution: makeExecution(f) })));
        const holders = await s.fireHolders(many);
        assert.equal(holders.length, 1500);
        assert.deepEqual(
          holders.map((x, i) => (x === null) === (i % 3 !== 0)),
          many.map(() => true),
          "a large batch: every third fire held, the rest free",
        );
        const holder = holders[0] as string;
        assert.deepEqual(
          await s.fireHolders(
            many,
            many.map((_, i) => (i % 2 === 0 ? holder : "instance-z")),
          ),
          holders,
          "a large batch with expected holders, half of them wrong: the same answer",
        );
      } finally {
        await done();
      }
    });
  });

  describe("storage conformance: claims with overlap", () => {
    test("withOverlap says whether another execution of the schedule was active as the claim was decided", async (h) => {
      const s = batched(h.storage);
      const { other, done } = await otherHandle(h);
      try {
        const alone = await s.claimFire({
          execution: makeExecution({ scheduleId: "ov-1", scheduledAt: T0 }),
          withOverlap: true,
        });
        assert.equal(alone.claimed && alone.othersActive, false, "nothing else active");
        // Another instance's run of the schedule is active: the next claim, from either handle, sees it.
        const second = await other.claimFires([
          {
            execution: makeExecution({
              scheduleId: "ov-1",
              scheduledAt: T0 + 1000,
              instanceId: "instance-b",
            }),
            withOverlap: true,
          },
          {
            execution: makeExecution({ scheduleId: "ov-2", scheduledAt: T0 + 1000 }),
            withOverlap: true,
            withState: true,
          },
          { execution: makeExecution({ scheduleId: "ov-2", scheduledAt: T0 + 2000 }), withOverlap: true },
          { execution: makeExecution({ scheduleId: "ov-3", scheduledAt: T0 + 1000 }) },
        ]);
        assert.equal(second[0]?.claimed && second[0].othersActive, true, "the first run is still active");
        assert.equal(second[1]?.claimed && second[1].othersActive, false, "ov-2 had nothing active");
        assert.equal(second[1]?.claimed && second[1].state, null, "with state as well");
        assert.equal(
          second[2]?.claimed && second[2].othersActive,
          true,
          "an earlier claim of the same batch counts",
        );
        assert.equal(second[3]?.claimed && second[3].othersActive, undefined, "not asked: not answered");
        // Final executions do not count: once both ov-1 runs ended, a claim is alone again.
        for (const r of [alone, second[0]]) {
          const e = won(r);
          await s.updateExecution(e.id, e.instanceId, {
            status: "succeeded",
            endedAt: T0 + 5000,
            leaseExpiresAt: null,
          });
        }
        await s.claimFire({
          execution: makeExecution({
            scheduleId: "ov-1",
            scheduledAt: T0 + 3000,
            status: "skipped",
            reason: "market_closed",
            startedAt: null,
            leaseExpiresAt: null,
          }),
        });
        const later = await s.claimFire({
          execution: makeExecution({ scheduleId: "ov-1", scheduledAt: T0 + 4000 }),
          withOverlap: true,
        });
        assert.equal(later.claimed && later.othersActive, false, "ended runs and skips are not active");
        const lostOne = await s.claimFire({
          execution: makeExecution({ scheduleId: "ov-1", scheduledAt: T0 + 4000 }),
          withOverlap: true,
        });
        assert.equal(lostOne.claimed, false);
      } finally {
        await done();
      }
    });
  });

  describe("storage conformance: claims with state", () => {
    test("claimFire withState hands back null before the first commit, then the committed state", async ({
      storage,
    }) => {
      const s = batched(storage);
      await s.insertSchedule(makeSchedule({ id: "ws-1" }));
      const first = await s.claimFire({
        execution: makeExecution({ scheduleId: "ws-1", scheduledAt: T0 }),
        withState: true,
      });
      assert.equal(first.claimed && first.state, null, "no state committed yet");
      await commitState(s, won(first), { n: 1 }, 0);
      const committed = await s.getScheduleState("ws-1");
      assert.ok(committed);
      const second = await s.claimFire({
        execution: makeExecution({ scheduleId: "ws-1", scheduledAt: T0 + 1000 }),
        withState: true,
      });
      assert.deepEqual(second.claimed && second.state, committed);
      const plain = await s.claimFire({
        execution: makeExecution({ scheduleId: "ws-1", scheduledAt: T0 + 2000 }),
      });
      assert.equal(plain.claimed && plain.state, undefined, "no state unless asked for");
      const lostOne = await s.claimFire({
        execution: makeExecution({ scheduleId: "ws-1", scheduledAt: T0 + 2000, instanceId: "instance-b" }),
        withState: true,
      });
      assert.equal(lostOne.claimed, false);
      assert.equal("state" in lostOne, false, "a lost claim carries no state");
    });

    test("claimFires withState hands back each won schedule's state, per claim", async ({ storage }) => {
      const s = batched(storage);
      for (const id of ["ws-a", "ws-b", "ws-c"]) await s.insertSchedule(makeSchedule({ id }));
      const seed = makeExecution({ scheduleId: "ws-a", scheduledAt: T0 });
      await s.claimFire({ execution: seed });
      await commitState(s, seed, { n: 7 }, 0);
      const stateA = await s.getScheduleState("ws-a");
      const [a, b, c, again] = await s.claimFires([
        { execution: makeExecution({ scheduleId: "ws-a", scheduledAt: T0 + 1000 }), withState: true },
        { execution: makeExecution({ scheduleId: "ws-b", scheduledAt: T0 + 1000 }), withState: true },
        { execution: makeExecution({ scheduleId: "ws-c", scheduledAt: T0 + 1000 }) },
        { execution: makeExecution({ scheduleId: "ws-a", scheduledAt: T0 + 1000 }), withState: true },
      ]);
      assert.deepEqual(a?.claimed && a.state, stateA);
      assert.deepEqual(a?.claimed && a.state?.value, { n: 7 });
      assert.equal(b?.claimed && b.state, null);
      assert.equal(c?.claimed && c.state, undefined);
      assert.equal(again?.claimed, false);
      // The state handed out is a copy or frozen.
      const handed = a?.claimed ? a.state : null;
      assert.ok(handed);
      tryMutate(handed, "revision", 99);
      tryMutate(handed.value as object, "n", 99);
      assert.deepEqual(await s.getScheduleState("ws-a"), stateA);
    });

    test("a won claim whose stored state fails its checks stands, without a state", async (h) => {
      const s = batched(h.storage);
      if (!h.corruptState) return; // the handle cannot damage a state: nothing to check
      await s.insertSchedule(makeSchedule({ id: "ws-bad" }));
      const seed = makeExecution({ scheduleId: "ws-bad", scheduledAt: T0 });
      await s.claimFire({ execution: seed });
      await commitState(s, seed, { n: 1 }, 0);
      const damaged = batched(await h.corruptState(s, "ws-bad"));
      try {
        const fresh = makeExecution({ scheduleId: "ws-bad", scheduledAt: T0 + 1000 });
        const [result] = await damaged.claimFires([{ execution: fresh, withState: true }]);
        assert.deepEqual(won(result), fresh);
        assert.equal(result?.claimed && result.state, undefined);
        const single = await damaged.claimFire({
          execution: makeExecution({ scheduleId: "ws-bad", scheduledAt: T0 + 2000 }),
          withState: true,
        });
        assert.equal(single.claimed && single.state, undefined);
        assert.equal((await damaged.findExecution("ws-bad", T0 + 1000))?.id, fresh.id);
      } finally {
        if (damaged !== s) await damaged.close();
      }
    });
  });

  describe("storage conformance: bulk schedule insert", () => {
    test("inserts every schedule of a batch", async ({ storage }) => {
      const s = batched(storage);
      const batch = ["bulk-c", "bulk-a", "bulk-b"].map((id) => makeSchedule({ id, name: id }));
      await s.insertSchedules(batch);
      for (const schedule of batch) assert.deepEqual(await s.getSchedule(schedule.id), schedule);
      assert.deepEqual(
        (await s.listSchedules()).map((x) => x.id),
        ["bulk-a", "bulk-b", "bulk-c"],
      );
      await s.insertSchedules([]);
      assert.equal((await s.listSchedules()).length, 3);
      await assert.rejects(s.insertSchedule(makeSchedule({ id: "bulk-a" })), ConflictError);
    });

    test("inserts none when an id is taken, naming the first conflict", async ({ storage }) => {
      const s = batched(storage);
      const taken = makeSchedule({ id: "bulk-taken", name: "original" });
      await s.insertSchedule(taken);
      const batch: ScheduleRecord[] = [
        makeSchedule({ id: "bulk-1" }),
        makeSchedule({ id: "bulk-taken", name: "usurper" }),
        makeSchedule({ id: "bulk-2" }),
        makeSchedule({ id: "bulk-2" }),
      ];
      await rejectsExists(s.insertSchedules(batch), "bulk-taken");
      assert.equal(await s.getSchedule("bulk-1"), null);
      assert.equal(await s.getSchedule("bulk-2"), null);
      assert.deepEqual(await s.getSchedule("bulk-taken"), taken);
      assert.deepEqual(
        (await s.listSchedules()).map((x) => x.id),
        ["bulk-taken"],
      );
    });

    test("inserts none when the batch repeats an id, naming it", async ({ storage }) => {
      const s = batched(storage);
      await s.insertSchedule(makeSchedule({ id: "bulk-late" }));
      const batch = ["bulk-x", "bulk-y", "bulk-y", "bulk-late"].map((id) => makeSchedule({ id }));
      await rejectsExists(s.insertSchedules(batch), "bulk-y");
      assert.equal(await s.getSchedule("bulk-x"), null);
      assert.equal(await s.getSchedule("bulk-y"), null);
      // Nothing was half-done: the same batch without the conflicts goes in whole.
      await s.insertSchedules(batch.slice(0, 2));
      assert.deepEqual(
        (await s.listSchedules()).map((x) => x.id),
        ["bulk-late", "bulk-x", "bulk-y"],
      );
    });

    test("keeps what it was given, not the caller's later changes", async ({ storage }) => {
      const s = batched(storage);
      const schedule = makeSchedule({ id: "bulk-copy" });
      const input = { ...schedule, tags: ["a"], data: { n: 1 } };
      await s.insertSchedules([input]);
      tryMutate(input, "name", "changed");
      tryMutate(input.tags, "0", "changed");
      tryMutate(input.data as object, "n", 2);
      assert.deepEqual(await s.getSchedule("bulk-copy"), { ...schedule, tags: ["a"], data: { n: 1 } });
    });
  });

  describe("storage conformance: cluster membership", () => {
    test("lists the live instances sorted, drops expired ones and removes a leaver", async (h) => {
      const s = batched(h.storage);
      const { other, done } = await otherHandle(h);
      try {
        assert.deepEqual(await s.heartbeat("inst-b", T0, T0 + 10_000), ["inst-b"], "its own id");
        assert.deepEqual(await other.heartbeat("inst-a", T0 + 1, T0 + 20_000), ["inst-a", "inst-b"]);
        // Code-unit order: upper case before lower case, as COLLATE "C" sorts.
        assert.deepEqual(await s.heartbeat("Inst-c", T0 + 2, T0 + 30_000), ["Inst-c", "inst-a", "inst-b"]);
        // inst-b's membership ran out at T0 + 10,000 (expiresAt > now is alive, = is not).
        assert.deepEqual(await other.heartbeat("inst-a", T0 + 10_000, T0 + 40_000), ["Inst-c", "inst-a"]);
        // A beat renews: inst-b is back.
        assert.deepEqual(await s.heartbeat("inst-b", T0 + 10_001, T0 + 50_000), [
          "Inst-c",
          "inst-a",
          "inst-b",
        ]);
        // expiresAt <= now: a graceful stop removes the instance at once.
        assert.deepEqual(await s.heartbeat("inst-b", T0 + 10_002, T0 + 10_002), ["Inst-c", "inst-a"]);
        assert.deepEqual(await other.heartbeat("Inst-c", T0 + 10_003, T0), ["inst-a"]);
        // After every membership ran out the list is empty, and a leaver is not listed.
        assert.deepEqual(await s.heartbeat("inst-z", T0 + 60_000, T0 + 60_000), []);
      } finally {
        await done();
      }
    });

    test("rejects a heartbeat without an instance id or with a non-instant", async ({ storage }) => {
      const s = batched(storage);
      const field = (name: string) => (error: unknown) => {
        assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
        assert.equal(error.field, name);
        return true;
      };
      await assert.rejects(s.heartbeat("", T0, T0 + 1), field("instanceId"));
      await assert.rejects(s.heartbeat("inst", Number.NaN, T0 + 1), field("now"));
      await assert.rejects(s.heartbeat("inst", T0, Number.POSITIVE_INFINITY), field("expiresAt"));
    });
  });
}
