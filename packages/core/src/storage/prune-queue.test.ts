import { describe, expect, it } from "vitest";
import type { ProtectionInput } from "./prune.js";
import { PruneQueue } from "./prune-queue.js";

const MIN = 60_000;

/** A succeeded own fire at minute `i`. */
function run(i: number, over: Partial<ProtectionInput> = {}): ProtectionInput {
  return {
    id: `e${i}`,
    scheduledAt: i * MIN,
    kind: "scheduled",
    status: "succeeded",
    startedAt: i * MIN,
    ...over,
  };
}

/** A live history as MemoryStorage keeps it (a Map in claim order), with a count of records read. */
function liveHistory(records: ProtectionInput[]) {
  const byId = new Map(records.map((r) => [r.id, r]));
  const stats = { read: 0, passes: 0 };
  const source = function* (): Generator<ProtectionInput> {
    stats.passes++;
    for (const r of byId.values()) {
      stats.read++;
      yield r;
    }
  };
  return { byId, stats, source };
}

/** Takes batches of `limit` until the queue has nothing left, deleting each batch from `byId`. */
function drain(
  queue: PruneQueue,
  prune: { scheduleId: string; before?: number; keepLast?: number },
  byId?: Map<string, unknown>,
) {
  const out: string[] = [];
  for (;;) {
    const ids = queue.next({ ...prune, limit: 3 });
    for (const id of ids) byId?.delete(id);
    out.push(...ids);
    if (ids.length < 3) return out;
  }
}

describe("PruneQueue over a live history", () => {
  it("walks a history in time order one batch at a time, never listing it", async () => {
    const n = 100_000;
    const { stats, source } = liveHistory(Array.from({ length: n }, (_, i) => run(i)));
    const queue = new PruneQueue();
    const prune = { scheduleId: "s", keepLast: 10, limit: 500 };
    await queue.fillInSlices(prune, source);
    expect(stats.read).toBe(n);
    const first = queue.next(prune);
    expect(first).toEqual(Array.from({ length: 500 }, (_, i) => `e${i}`));
    // The second pass has read one batch, not the history.
    expect(stats.read).toBeLessThan(n + 600);
    expect(stats.passes).toBe(2);
  });

  it("deletes what a listed queue deletes: oldest first, keepLast, before and the protected runs", async () => {
    const records = [
      ...Array.from({ length: 30 }, (_, i) => run(i)),
      run(30, { id: "latest-success" }),
      ...Array.from({ length: 5 }, (_, i) => run(31 + i, { status: "failed" })),
      run(36, { status: "running", startedAt: 36 * MIN }),
    ];
    for (const rule of [{ keepLast: 8 }, { before: 20 * MIN }, { before: 40 * MIN, keepLast: 3 }, {}]) {
      const prune = { scheduleId: "s", ...rule };
      const listed = new PruneQueue();
      listed.fill({ ...prune, limit: 3 }, records);
      const scanned = new PruneQueue();
      await scanned.fillInSlices({ ...prune, limit: 3 }, liveHistory(records).source);
      const expected = drain(listed, prune);
      expect(expected.length).toBeGreaterThan(0);
      expect(drain(scanned, prune)).toEqual(expected);
    }
  });

  it("leaves alone what was claimed after the first pass and skips what was deleted meanwhile", async () => {
    const { byId, source } = liveHistory(Array.from({ length: 20 }, (_, i) => run(i)));
    const queue = new PruneQueue();
    const prune = { scheduleId: "s", before: 1_000 * MIN };
    await queue.fillInSlices({ ...prune, limit: 3 }, source);
    byId.delete("e1");
    byId.set("new", run(500, { id: "new" }));
    const deleted = drain(queue, prune, byId);
    // e19 is the latest own fire and success: protected. "new" came after the first pass.
    expect(deleted).toEqual(Array.from({ length: 19 }, (_, i) => `e${i}`).filter((id) => id !== "e1"));
    expect([...byId.keys()]).toEqual(["e19", "new"]);
  });

  it("sorts a history stored out of time order, oldest first", async () => {
    const records = [run(5), run(1), run(9), run(3), run(7), run(2), run(10)];
    const queue = new PruneQueue();
    const prune = { scheduleId: "s", keepLast: 2 };
    await queue.fillInSlices({ ...prune, limit: 3 }, liveHistory(records).source);
    expect(drain(queue, prune)).toEqual(["e1", "e2", "e3", "e5", "e7"]);
  });

  it("is rebuilt for another keepLast and reused for a later before", async () => {
    const { source } = liveHistory(Array.from({ length: 10 }, (_, i) => run(i)));
    const queue = new PruneQueue();
    await queue.fillInSlices({ scheduleId: "s", before: 5 * MIN, limit: 2 }, source);
    expect(queue.needsLoad({ scheduleId: "s", before: 6 * MIN, limit: 2 })).toBe(false);
    expect(queue.needsLoad({ scheduleId: "s", before: 4 * MIN, limit: 2 })).toBe(true);
    expect(queue.needsLoad({ scheduleId: "s", before: 5 * MIN, keepLast: 1, limit: 2 })).toBe(true);
    expect(queue.next({ scheduleId: "s", before: 6 * MIN, limit: 2 })).toEqual(["e0", "e1"]);
  });
});
