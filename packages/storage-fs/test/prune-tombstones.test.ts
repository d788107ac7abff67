/**
 * Retention with tombstones: a prune batch marks records deleted and appends one batch of `del`
 * lines; compaction rewrites the segments later. These tests hold the three halves of that to
 * account: what was pruned stays gone (reopen, a crash image taken between the tombstones and the
 * compaction), compaction gets the disk space back, and a batch costs its own size, not the size
 * of the segment it prunes from (counted in bytes written, not in time).
 */

import { cp, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { type ExecutionRecord, MemoryStorage, type Storage } from "@tradecron/core";
import { makeExecution } from "@tradecron/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { FileStorage } from "../src/index.js";
import { tempDir } from "./helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function folder(): Promise<string> {
  const { dir, remove } = await tempDir("tc-tomb-");
  cleanups.push(remove);
  return dir;
}

function opened(
  dir: string,
  options: { segmentLines?: number; mergeFanIn?: number; rewriteQuietMs?: number } = {},
): FileStorage {
  const storage = new FileStorage({ dir, ...options });
  cleanups.push(() => storage.close());
  return storage;
}

/** `n` succeeded executions of `scheduleId`, one a minute from `from`. */
async function addHistory(
  storage: Storage,
  scheduleId: string,
  n: number,
  from = 0,
): Promise<ExecutionRecord[]> {
  const out: ExecutionRecord[] = [];
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const at = from + i * 60_000;
    const e = makeExecution({
      id: `${scheduleId}-${from + i}`,
      scheduleId,
      scheduledAt: at,
      status: "succeeded",
      startedAt: at,
      endedAt: at + 5,
      leaseExpiresAt: null,
    });
    out.push(e);
    writes.push(storage.claimFire({ execution: e }));
    // In groups, so the log rotates (and seals) as it would under a steady load.
    if (writes.length === 50) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  return out;
}

async function ids(storage: Storage, scheduleId: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await storage.listExecutions({ scheduleId, limit: 500, cursor });
    out.push(...page.items.map((e) => e.id));
    cursor = page.nextCursor;
  } while (cursor);
  return out.sort();
}

/** Bytes of the segment data files in the store's executions folder. */
async function segmentBytesOnDisk(dir: string): Promise<number> {
  let n = 0;
  for (const name of await readdir(join(dir, "executions")))
    if (/^seg-\d+\.jsonl$/.test(name)) n += (await stat(join(dir, "executions", name))).size;
  return n;
}

/**
 * What a kill -9 right now would leave: every acknowledged write is on disk (the logs are
 * written O_DSYNC), so a copy of the folder is the disk after the crash. The copy's LOCK names
 * this process, which is alive: it is removed, as a takeover would.
 */
async function crashImage(dir: string): Promise<string> {
  const image = await folder();
  await cp(dir, image, { recursive: true });
  await rm(join(image, "LOCK"), { force: true });
  return image;
}

describe("FileStorage prune batches", () => {
  it("write only their del lines: no segment byte is rewritten by a batch", async () => {
    const dir = await folder();
    const storage = opened(dir, { segmentLines: 400, mergeFanIn: 0 });
    await storage.open();
    // Two segments of 400 and 200 lines in the log: the 100 del lines below seal nothing.
    await addHistory(storage, "s", 1000);
    await storage.whenIdle();
    const before = (await storage.stats()).executions;
    expect(before.segments).toBe(2);
    const files = await readdir(join(dir, "executions"));
    const bytes = await segmentBytesOnDisk(dir);

    // 100 of the oldest: in the first segment, well below the share that triggers compaction.
    expect(await storage.pruneExecutions({ scheduleId: "s", keepLast: 100, limit: 100 })).toBe(100);
    await storage.whenIdle();
    const after = (await storage.stats()).executions;
    expect(after.compactedBytes).toBe(0);
    expect(after.prunedSealed).toBe(100);
    expect(after.sealed).toBe(before.sealed - 100);
    expect(await segmentBytesOnDisk(dir)).toBe(bytes);
    expect((await readdir(join(dir, "executions"))).sort()).toEqual(files.sort());
    // The batch is 100 lines of the live log, one per pruned execution.
    const log = files.find((f) => f.startsWith("log-")) as string;
    const lines = (await readFile(join(dir, "executions", log), "utf8")).trim().split("\n");
    expect(lines.filter((l) => l.includes('"op":"del"'))).toHaveLength(100);
    expect(await ids(storage, "s")).toHaveLength(900);
  });

  it("count an eighth of a line each towards sealing the log, so a pass does not rotate it every segmentLines", async () => {
    const dir = await folder();
    const storage = opened(dir, { segmentLines: 100, mergeFanIn: 0 });
    await storage.open();
    // Seeded in steps that each wait for the rotation they cause: a log that keeps taking lines
    // while the previous one is sealed rotates later than its 100th line, and what the seeding
    // left in the live log (up to 99 lines) plus the 50 the dels weigh would rotate it then.
    for (let step = 0; step < 20; step++) {
      await addHistory(storage, "s", 50, step * 50 * 60_000);
      await storage.whenIdle();
    }
    const before = (await readdir(join(dir, "executions"))).filter((f) => f.startsWith("log-"));
    expect(before).toHaveLength(1);
    expect((await readFile(join(dir, "executions", before[0] as string), "utf8")).trim()).toBe("");
    for (let i = 0; i < 4; i++)
      expect(await storage.pruneExecutions({ scheduleId: "s", keepLast: 100, limit: 100 })).toBe(100);
    await storage.whenIdle();
    // 400 del lines weigh 50 lines: the live log that took them is still the same one.
    const logs = (await readdir(join(dir, "executions"))).filter((f) => f.startsWith("log-"));
    expect(logs).toHaveLength(1);
    const lines = (await readFile(join(dir, "executions", logs[0] as string), "utf8")).trim().split("\n");
    expect(lines.filter((l) => l.includes('"op":"del"'))).toHaveLength(400);
    expect(await ids(storage, "s")).toHaveLength(600);
    // And they are replayed: a reopen sees the same history.
    await storage.close();
    const again = opened(dir, { segmentLines: 100, mergeFanIn: 0 });
    await again.open();
    expect(await ids(again, "s")).toHaveLength(600);
  });

  it("leave the rewriting to compaction, which copies less than the segments held over a whole pass", async () => {
    const dir = await folder();
    // Rewrites at once (no quiet period): compaction meets each segment at half dead.
    const storage = opened(dir, { segmentLines: 2000, mergeFanIn: 0, rewriteQuietMs: 0 });
    await storage.open();
    await addHistory(storage, "s", 4100);
    await storage.whenIdle();
    const start = (await storage.stats()).executions;
    let batches = 0;
    for (;;) {
      const n = await storage.pruneExecutions({ scheduleId: "s", keepLast: 100, limit: 200 });
      batches++;
      if (n < 200) break;
    }
    await storage.whenIdle();
    const end = (await storage.stats()).executions;
    expect(batches).toBe(21);
    // Compaction at half dead rewrites a segment at most about log2(rows) times, each at most
    // half of what was there: in all less than the segments' original size.
    expect(end.compactedBytes).toBeGreaterThan(0);
    expect(end.compactedBytes).toBeLessThan(start.segmentBytes);
  });

  it("that empty whole segments in one pass leave them to be dropped, not rewritten (the default quiet period)", async () => {
    const dir = await folder();
    const storage = opened(dir, { segmentLines: 2000 });
    await storage.open();
    await addHistory(storage, "s", 4100);
    await storage.whenIdle();
    const start = (await storage.stats()).executions;
    expect(start.segmentBytes).toBeGreaterThan(0);
    for (;;) if ((await storage.pruneExecutions({ scheduleId: "s", keepLast: 100, limit: 200 })) < 200) break;
    await storage.whenIdle();
    const end = (await storage.stats()).executions;
    // Each segment was half dead halfway through the pass, and all dead at its end: dropped
    // without a byte copied. Where the 100 kept rows begin in a segment (where the seals fell
    // depends on timing), compaction copies those survivors, and nothing else.
    const rowBytes = start.segmentBytes / start.sealed;
    expect(end.compactedBytes).toBeLessThanOrEqual(100 * rowBytes * 1.1);
    expect(await segmentBytesOnDisk(dir)).toBeLessThan(start.segmentBytes / 10);
    expect(await ids(storage, "s")).toHaveLength(100);
  });

  it("wait for the quiet period to rewrite, then rewrite on their own (no whenIdle)", async () => {
    const dir = await folder();
    // Long enough that a slow batch on a loaded machine is not mistaken for the pass pausing.
    const quietMs = 1000;
    const storage = opened(dir, { segmentLines: 2000, mergeFanIn: 0, rewriteQuietMs: quietMs });
    await storage.open();
    await addHistory(storage, "s", 4100);
    await storage.whenIdle();
    // 1,500 of the oldest segment's 2,000 rows: three quarters dead, due for compaction.
    let last = 0;
    for (let i = 0; i < 5; i++) {
      await storage.pruneExecutions({ scheduleId: "s", keepLast: 100, limit: 300 });
      last = performance.now();
    }
    expect((await storage.stats()).executions.compactedBytes).toBe(0);
    let compactedAt: number | null = null;
    for (let waited = 0; waited < 10_000 && compactedAt === null; waited += 20) {
      await new Promise((r) => setTimeout(r, 20));
      if ((await storage.stats()).executions.compactedBytes > 0) compactedAt = performance.now();
    }
    expect(compactedAt).not.toBeNull();
    expect((compactedAt as number) - last).toBeGreaterThanOrEqual(quietMs - 5);
    expect(await ids(storage, "s")).toHaveLength(4100 - 1500);
  });
});

describe("FileStorage prune order", () => {
  it("takes the oldest first across segments and the live log, a history claimed out of order included", async () => {
    const dir = await folder();
    const storage = opened(dir, { segmentLines: 10, mergeFanIn: 8 });
    await storage.open();
    const MIN = 60_000;
    const claim = (minute: number, over: Partial<ExecutionRecord> = {}) =>
      storage.claimFire({
        execution: makeExecution({
          id: `m${String(minute).padStart(3, "0")}`,
          scheduleId: "s",
          scheduledAt: minute * MIN,
          status: "succeeded",
          startedAt: minute * MIN,
          endedAt: minute * MIN + 5,
          leaseExpiresAt: null,
          ...over,
        }),
      });
    // Even minutes, then the odd ones as a backfill: each segment holds a spread of times.
    for (let m = 0; m < 60; m += 2) await claim(m);
    await storage.whenIdle();
    for (let m = 1; m < 60; m += 2) await claim(m);
    await storage.whenIdle();
    // A manual run cancelled after it started: the latest ended run, which only its record
    // (not the segment index) tells; then skipped fires, which never started.
    await claim(60, { status: "cancelled", reason: "shutdown", kind: "manual" });
    for (let m = 61; m <= 80; m++) await claim(m, { status: "skipped", reason: "overlap", startedAt: null });
    await storage.whenIdle();
    expect(await segmentBytesOnDisk(dir)).toBeGreaterThan(0);
    const taken: string[] = [];
    for (;;) {
      const before = await ids(storage, "s");
      const n = await storage.pruneExecutions({ scheduleId: "s", before: 100 * MIN, limit: 7 });
      const after = new Set(await ids(storage, "s"));
      taken.push(...before.filter((id) => !after.has(id)).sort());
      if (n < 7) break;
    }
    const name = (m: number) => `m${String(m).padStart(3, "0")}`;
    const kept = [59, 60, 80]; // the latest success, the latest ended run, the latest own fire
    const expected = Array.from({ length: 81 }, (_, m) => m).filter((m) => !kept.includes(m));
    expect(taken).toEqual(expected.map(name));
    expect(await ids(storage, "s")).toEqual(kept.map(name));
  });
});

describe("FileStorage pruned executions", () => {
  it("stay gone after a reopen, before and after a seal moved their tombstones to the checkpoint", async () => {
    const dir = await folder();
    let storage = opened(dir, { segmentLines: 300, mergeFanIn: 0 });
    await storage.open();
    const history = await addHistory(storage, "s", 1000);
    await addHistory(storage, "other", 50, 10_000_000_000);
    await storage.whenIdle();
    // 140 of the oldest, in a segment of 300: tombstones only (no segment is half dead).
    expect(await storage.pruneExecutions({ scheduleId: "s", keepLast: 860, limit: 500 })).toBe(140);
    const kept = history
      .slice(140)
      .map((e) => e.id)
      .sort();
    expect(await ids(storage, "s")).toEqual(kept);
    await storage.close();

    storage = opened(dir, { segmentLines: 300, mergeFanIn: 0 });
    await storage.open();
    expect(await ids(storage, "s")).toEqual(kept);
    expect(await storage.getExecution(history[0]?.id as string)).toBeNull();
    expect((await storage.stats()).executions.prunedSealed).toBe(140);
    // Enough new lines to seal the log holding the del lines: the marks are now in the checkpoint.
    await addHistory(storage, "other", 400, 20_000_000_000);
    await storage.whenIdle();
    const checkpoint = JSON.parse(await readFile(join(dir, "executions", "checkpoint.json"), "utf8"));
    expect(Object.keys(checkpoint.dead ?? {}).length).toBeGreaterThan(0);
    await storage.close();

    storage = opened(dir, { segmentLines: 300, mergeFanIn: 0 });
    await storage.open();
    expect(await ids(storage, "s")).toEqual(kept);
    expect((await ids(storage, "other")).length).toBe(450);
    expect((await storage.stats()).executions.prunedSealed).toBe(140);
  });

  it("stay gone after a crash between the tombstones and the compaction, and nothing else is lost", async () => {
    const dir = await folder();
    const storage = opened(dir, { segmentLines: 300, mergeFanIn: 0 });
    await storage.open();
    const history = await addHistory(storage, "s", 1000);
    await storage.whenIdle();
    // 140 of each of two segments of 300 (the oldest and the next): less than half of each.
    expect(await storage.pruneExecutions({ scheduleId: "s", keepLast: 860, limit: 300 })).toBe(140);
    expect(await storage.pruneExecutions({ scheduleId: "s", keepLast: 860, limit: 300 })).toBe(0);
    // Acknowledged, never compacted (no segment is half dead): the crash comes now. (Idle first,
    // so the copy does not race a seal's temp files; the marks are in the log or the checkpoint.)
    await storage.whenIdle();
    expect((await storage.stats()).executions.compactedBytes).toBe(0);
    expect((await storage.stats()).executions.prunedSealed).toBe(140);
    const image = await crashImage(dir);
    const recovered = opened(image, { segmentLines: 300, mergeFanIn: 0 });
    await recovered.open();
    expect(await ids(recovered, "s")).toEqual(
      history
        .slice(140)
        .map((e) => e.id)
        .sort(),
    );
    expect(await recovered.findExecution("s", history[10]?.scheduledAt as number)).toBeNull();
    expect(await recovered.lastFireAt("s")).toBe(history[999]?.scheduledAt);
    expect((await recovered.quarantined()).filter((r) => r.kind !== "torn-tail")).toEqual([]);
  });

  it("are reclaimed from disk by compaction, which a reopen and a crash image agree with", async () => {
    const dir = await folder();
    const storage = opened(dir, { segmentLines: 300, mergeFanIn: 0 });
    await storage.open();
    const history = await addHistory(storage, "s", 1200);
    await storage.whenIdle();
    const full = await segmentBytesOnDisk(dir);
    // Two segments of 300 wholly pruned (retired), the third 250 of 300 (rewritten).
    while ((await storage.pruneExecutions({ scheduleId: "s", keepLast: 350, limit: 100 })) === 100);
    await storage.whenIdle();
    const stats = (await storage.stats()).executions;
    // Every segment that pruning left at least half dead was rewritten (the first one crosses
    // half with rows left) or retired: what is left on disk is at most twice what is kept.
    expect(stats.compactedBytes).toBeGreaterThan(0);
    expect(stats.prunedSealed).toBeLessThan(stats.sealed);
    const left = await segmentBytesOnDisk(dir);
    expect(left).toBe(stats.segmentBytes);
    expect(left).toBeLessThan(full * (350 / 1200) * 2);
    const kept = history
      .slice(850)
      .map((e) => e.id)
      .sort();
    expect(await ids(storage, "s")).toEqual(kept);
    const image = await crashImage(dir);
    const recovered = opened(image, { segmentLines: 300, mergeFanIn: 0 });
    await recovered.open();
    expect(await ids(recovered, "s")).toEqual(kept);
    await storage.close();
    const reopened = opened(dir, { segmentLines: 300, mergeFanIn: 0 });
    await reopened.open();
    expect(await ids(reopened, "s")).toEqual(kept);
  });

  it("match MemoryStorage through random writes, prunes, seals, merges, compactions and reopens", async () => {
    const dir = await folder();
    const options = { segmentLines: 24, mergeFanIn: 2 };
    const memory = new MemoryStorage({ maxExecutions: 1_000_000 });
    let file = opened(dir, options);
    await file.open();
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    let n = 0;
    for (let step = 0; step < 400; step++) {
      const r = random();
      if (r < 0.7) {
        const scheduleId = `s${Math.floor(random() * 3)}`;
        const at = 1_000 * Math.floor(random() * 2000);
        const status = random() < 0.3 ? ("skipped" as const) : ("succeeded" as const);
        const e = makeExecution({
          id: `e-${n++}`,
          scheduleId,
          scheduledAt: at,
          status,
          startedAt: status === "succeeded" ? at : null,
          endedAt: at + 1,
          leaseExpiresAt: null,
        });
        const [m, f] = [await memory.claimFire({ execution: e }), await file.claimFire({ execution: e })];
        expect(f.claimed).toBe(m.claimed);
      } else if (r < 0.95) {
        // Pruned to the end, so both delete the same set whatever order they pick it in.
        const prune = {
          scheduleId: `s${Math.floor(random() * 3)}`,
          keepLast: 5,
          before: 1_000 * Math.floor(random() * 2000),
        };
        const drain = async (storage: MemoryStorage | FileStorage) => {
          let total = 0;
          for (;;) {
            const k = await storage.pruneExecutions({ ...prune, limit: 7 });
            total += k;
            if (k === 0) return total;
          }
        };
        const dm = await drain(memory);
        const df = await drain(file);
        expect(df).toBe(dm);
      } else {
        await file.close();
        file = opened(dir, options);
        await file.open();
      }
    }
    await file.whenIdle();
    for (let s = 0; s < 3; s++) {
      const scheduleId = `s${s}`;
      expect(await ids(file, scheduleId)).toEqual(await ids(memory, scheduleId));
      expect(await file.lastFireAt(scheduleId)).toBe(await memory.lastFireAt(scheduleId));
      expect(await file.scheduleSummaries([scheduleId])).toEqual(
        await memory.scheduleSummaries([scheduleId]),
      );
    }
    expect(await file.executionScheduleIds(null, 10)).toEqual(await memory.executionScheduleIds(null, 10));
    await file.close();
    const reopened = opened(dir, options);
    await reopened.open();
    for (let s = 0; s < 3; s++) expect(await ids(reopened, `s${s}`)).toEqual(await ids(memory, `s${s}`));
  }, 30_000);
});
