import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type ExecutionQuery,
  type ExecutionRecord,
  type FireKind,
  MemoryStorage,
  type Storage,
  StorageError,
  ValidationError,
} from "@tradecron/core";
import { makeApproval, makeExecution, makeSchedule } from "@tradecron/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { FileStorage, FORMAT_VERSION } from "../src/index.js";
import { listFiles, tempDir } from "./helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function fresh(options: { segmentLines?: number; mergeFanIn?: number } = {}) {
  const { dir, remove } = await tempDir();
  const handles: FileStorage[] = [];
  const open = (): FileStorage => {
    const s = new FileStorage({ dir, ...options });
    handles.push(s);
    return s;
  };
  cleanups.push(async () => {
    for (const h of handles) await h.close();
    await remove();
  });
  return { dir, open };
}

/** A small deterministic PRNG (mulberry32), so a failing sequence can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function drainExecutions(storage: Storage, query: Omit<ExecutionQuery, "cursor">) {
  const out: ExecutionRecord[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page = await storage.listExecutions({ ...query, cursor });
    out.push(...page.items);
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
}

describe("FileStorage options", () => {
  it("rejects a bad option at construction with a ValidationError naming the field", () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ dir: "" }, "dir"],
      [{ dir: "x", segmentLines: 1 }, "segmentLines"],
      [{ dir: "x", mergeFanIn: 1.5 }, "mergeFanIn"],
      [{ dir: "x", mergeMaxBytes: -1 }, "mergeMaxBytes"],
      [{ dir: "x", rewriteQuietMs: -1 }, "rewriteQuietMs"],
      [{ dir: "x", rewriteQuietMs: "2s" }, "rewriteQuietMs"],
      [{ dir: "x", staleLockMs: 10 }, "staleLockMs"],
    ];
    for (const [options, field] of bad) {
      let error: unknown = null;
      try {
        new FileStorage(options as unknown as ConstructorParameters<typeof FileStorage>[0]);
      } catch (e) {
        error = e;
      }
      expect(error, field).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code).toBe("VALIDATION");
      expect((error as ValidationError).issues.map((i) => i.field)).toEqual([field]);
    }
    // The documented edges are accepted: no quiet period, no merging.
    expect(() => new FileStorage({ dir: "x", rewriteQuietMs: 0, mergeFanIn: 0 })).not.toThrow();
  });
});

describe("FileStorage layout", () => {
  it("keeps one readable JSON file per schedule, a manifest, and JSON Lines logs", async () => {
    const { dir, open } = await fresh();
    const storage = open();
    const s = makeSchedule({ id: "morning-scan" });
    await storage.insertSchedule(s);
    await storage.setControl({ pausedAll: true, pausedAt: 1, pausedBy: "ops", reason: "drill", revision: 1 });
    const e = makeExecution({ scheduleId: "morning-scan" });
    await storage.claimFire({ execution: e });
    await storage.insertApprovals([makeApproval()]);
    await storage.appendAudit({
      at: 1,
      actor: "ops",
      action: "x",
      subjectType: "y",
      subjectId: null,
      details: null,
    });

    expect(JSON.parse(await readFile(join(dir, "schedules", "morning-scan.json"), "utf8"))).toEqual(s);
    expect(JSON.parse(await readFile(join(dir, "control.json"), "utf8")).reason).toBe("drill");
    expect(JSON.parse(await readFile(join(dir, "tradecron-store.json"), "utf8"))).toMatchObject({
      format: "@tradecron/storage-fs",
      version: FORMAT_VERSION,
    });
    const logName = (await readdir(join(dir, "executions"))).find((n) => n.startsWith("log-"));
    const lines = (await readFile(join(dir, "executions", logName as string), "utf8")).trim().split("\n");
    expect(lines.map((l) => JSON.parse(l))).toEqual([{ op: "put", rec: e }]);
    const lock = JSON.parse(await readFile(join(dir, "LOCK"), "utf8"));
    expect(lock.pid).toBe(process.pid);
    expect(await listFiles(dir)).toEqual(
      expect.arrayContaining(["approvals.jsonl", "audit.jsonl", "LOCK", "executions/checkpoint.json"]),
    );

    await storage.close();
    expect(await listFiles(dir)).not.toContain("LOCK");
  });

  it("stores ids that differ only in case, or hold ':', as distinct portable file names", async () => {
    const { dir, open } = await fresh();
    const storage = open();
    for (const id of ["Report", "report", "desk:NY"]) await storage.insertSchedule(makeSchedule({ id }));
    expect((await readdir(join(dir, "schedules"))).sort()).toEqual(
      ["%52eport.json", "desk%3A%4E%59.json", "report.json"].sort(),
    );
    await storage.close();
    const again = open();
    expect((await again.listSchedules()).map((s) => s.id)).toEqual(["Report", "desk:NY", "report"]);
  });

  it("refuses a folder that is neither empty nor a store, and touches nothing in it", async () => {
    const { dir, open } = await fresh();
    await writeFile(join(dir, "notes.txt"), "mine");
    const error = await open()
      .open()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe("STORAGE");
    expect((error as Error).message).toContain(dir);
    expect(await listFiles(dir)).toEqual(["notes.txt"]);
  });

  it("refuses a store written in a newer format version, naming the manifest", async () => {
    const { dir, open } = await fresh();
    const first = open();
    await first.insertSchedule(makeSchedule());
    await first.close();
    const manifest = join(dir, "tradecron-store.json");
    const m = JSON.parse(await readFile(manifest, "utf8"));
    await writeFile(manifest, JSON.stringify({ ...m, version: FORMAT_VERSION + 1 }));
    const error = await open()
      .getSchedule("sched-1")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe("STORAGE_VERSION");
    expect((error as Error).message).toContain(manifest);
    expect((error as Error).message).toContain(`version ${FORMAT_VERSION + 1}`);
    expect(await listFiles(dir)).not.toContain("LOCK");
  });

  it("refuses an unreadable manifest with STORAGE_CORRUPT naming it, and leaves the data alone", async () => {
    const { dir, open } = await fresh();
    const first = open();
    await first.insertSchedule(makeSchedule());
    await first.close();
    const manifest = join(dir, "tradecron-store.json");
    await writeFile(manifest, "{ not json");
    const error = await open()
      .open()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe("STORAGE_CORRUPT");
    expect((error as Error).message).toContain(manifest);
    expect(await listFiles(dir)).toContain("schedules/sched-1.json");
    expect(await listFiles(dir)).not.toContain("LOCK");
  });
});

describe("FileStorage handles in one process", () => {
  it("share one state: a claim through one handle is seen and refused through the other", async () => {
    const { open } = await fresh();
    const a = open();
    const b = open();
    const e = makeExecution();
    expect((await a.claimFire({ execution: e })).claimed).toBe(true);
    const second = await b.claimFire({ execution: { ...makeExecution(), scheduledAt: e.scheduledAt } });
    expect(second.claimed).toBe(false);
    expect(await b.getExecution(e.id)).toEqual(e);
  });

  it("keep the folder locked until the last handle closes, then release it", async () => {
    const { dir, open } = await fresh();
    const a = open();
    const b = open();
    await a.open();
    await b.open();
    await a.close();
    expect(await listFiles(dir)).toContain("LOCK");
    await b.insertSchedule(makeSchedule({ id: "after-a-closed" }));
    await b.close();
    expect(await listFiles(dir)).not.toContain("LOCK");
  });

  it("stop telling a handle closed while it was still opening about the others' changes", async () => {
    const { open } = await fresh();
    const a = open();
    await a.open();
    const b = open();
    const seen: string[] = [];
    b.watch((change) => seen.push(change.type));
    const opening = b.open();
    await b.close();
    await opening;
    await a.insertSchedule(makeSchedule({ id: "after-b-closed" }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([]);
  });

  it("reject calls on a closed handle with a StorageError, and reopen on open()", async () => {
    const { open } = await fresh();
    const s = open();
    await s.insertSchedule(makeSchedule({ id: "x" }));
    await s.close();
    const error = await s.getSchedule("x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe("STORAGE");
    await s.open();
    expect((await s.getSchedule("x"))?.id).toBe("x");
  });
});

describe("FileStorage persistence of every execution change", () => {
  it("keeps releases, cancellations, takeovers, renewals and approval decisions across a reopen", async () => {
    const { open } = await fresh();
    const storage = open();
    const released = makeExecution({ status: "claimed", attempts: 0, startedAt: null });
    const cancelled = makeExecution();
    const expired = makeExecution({ leaseExpiresAt: 10 });
    const renewed = makeExecution();
    for (const execution of [released, cancelled, expired, renewed]) await storage.claimFire({ execution });
    await storage.releaseClaim(released.id, released.instanceId);
    await storage.cancelExecution(cancelled.id, "superseded", 77);
    const [taken] = await storage.takeOverExpired("instance-b", 11, 99_999, 1);
    await storage.renewLeases(renewed.instanceId, [renewed.id], 123_456);
    const approval = makeApproval();
    await storage.insertApprovals([approval]);
    await storage.transitionApproval(approval.id, "pending", { status: "rejected", decidedBy: "risk" });
    await storage.close();

    const again = open();
    expect(await again.getExecution(released.id)).toBeNull();
    expect(
      (await again.claimFire({ execution: { ...makeExecution(), scheduledAt: released.scheduledAt } }))
        .claimed,
    ).toBe(true);
    expect(await again.getExecution(cancelled.id)).toMatchObject({
      status: "cancelled",
      reason: "superseded",
    });
    expect(await again.getExecution(expired.id)).toEqual(taken);
    expect((await again.getExecution(renewed.id))?.leaseExpiresAt).toBe(123_456);
    expect(await again.getApproval(approval.id)).toMatchObject({ status: "rejected", decidedBy: "risk" });
    expect(await again.countApprovals("pending")).toBe(0);
  });
});

describe("FileStorage executions at scale", () => {
  it("group-commits concurrent writes and keeps every acknowledged one across a reopen", async () => {
    const { open } = await fresh();
    const storage = open();
    const made = Array.from({ length: 300 }, (_, i) => makeExecution({ scheduledAt: 10_000 + i }));
    const results = await Promise.all(made.map((execution) => storage.claimFire({ execution })));
    expect(results.every((r) => r.claimed)).toBe(true);
    await Promise.all(
      made.map((e) => storage.updateExecution(e.id, e.instanceId, { status: "succeeded", endedAt: 1 })),
    );
    await storage.close();
    const again = open();
    const all = await drainExecutions(again, { limit: 1000 });
    expect(all).toHaveLength(300);
    expect(all.every((e) => e.status === "succeeded")).toBe(true);
  });

  it("seals the log into sorted, indexed segments and merges them, answering the same afterwards", async () => {
    const { dir, open } = await fresh({ segmentLines: 20, mergeFanIn: 3 });
    const storage = open();
    for (let i = 0; i < 200; i++) {
      const e = makeExecution({ scheduleId: `s${i % 4}`, scheduledAt: 1_000_000 + i * 1000 });
      await storage.claimFire({ execution: e });
      await storage.updateExecution(e.id, e.instanceId, {
        status: i % 3 ? "succeeded" : "failed",
        endedAt: 1,
      });
    }
    await storage.whenIdle();
    const stats = await storage.stats();
    expect(stats.executions.sealed).toBeGreaterThan(150);
    expect(stats.executions.segments).toBeLessThan(8);
    const segFile = (await readdir(join(dir, "executions"))).find((n) => /^seg-.*\.jsonl$/.test(n));
    const recs = (await readFile(join(dir, "executions", segFile as string), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as ExecutionRecord);
    const sorted = [...recs].sort((x, y) =>
      x.scheduleId < y.scheduleId ? -1 : x.scheduleId > y.scheduleId ? 1 : x.scheduledAt - y.scheduledAt,
    );
    expect(recs).toEqual(sorted);
    const before = await drainExecutions(storage, { limit: 7 });
    const failedS1 = await drainExecutions(storage, { scheduleId: "s1", status: "failed", limit: 3 });
    await storage.close();
    const again = open();
    expect(await drainExecutions(again, { limit: 7 })).toEqual(before);
    expect(await drainExecutions(again, { scheduleId: "s1", status: "failed", limit: 3 })).toEqual(failedS1);
    expect(await again.lastFireAt("s3")).toBe(1_000_000 + 199 * 1000);
    const one = before[123] as ExecutionRecord;
    expect(await again.getExecution(one.id)).toEqual(one);
    expect(await again.findExecution(one.scheduleId, one.scheduledAt)).toEqual(one);
    expect((await again.claimFire({ execution: { ...makeExecution(), ...pick(one) } })).claimed).toBe(false);
  });

  it("answers every query like MemoryStorage through random writes, seals, merges and reopens", async () => {
    const { open } = await fresh({ segmentLines: 16, mergeFanIn: 2 });
    const random = rng(42);
    const memory = new MemoryStorage({ maxExecutions: 1_000_000 });
    let file = open();
    const active: ExecutionRecord[] = [];
    const kinds: FireKind[] = ["scheduled", "catchup", "manual", "backfill"];
    for (let step = 0; step < 600; step++) {
      const r = random();
      if (r < 0.45 || active.length === 0) {
        const e = makeExecution({
          scheduleId: `s${Math.floor(random() * 5)}`,
          // coarse instants so that ties on scheduledAt (broken by id) are common
          scheduledAt: 1_000 * Math.floor(random() * 400),
          kind: kinds[Math.floor(random() * 4)],
          status: random() < 0.2 ? "claimed" : random() < 0.2 ? "skipped" : "running",
        });
        const [m, f] = [await memory.claimFire({ execution: e }), await file.claimFire({ execution: e })];
        expect(f.claimed).toBe(m.claimed);
        if (m.claimed && (e.status === "claimed" || e.status === "running")) active.push(e);
      } else if (r < 0.8) {
        const e = active.splice(Math.floor(random() * active.length), 1)[0] as ExecutionRecord;
        const patch = {
          status: random() < 0.5 ? ("succeeded" as const) : ("failed" as const),
          endedAt: step,
        };
        expect(await file.updateExecution(e.id, e.instanceId, patch)).toEqual(
          await memory.updateExecution(e.id, e.instanceId, patch),
        );
      } else if (r < 0.88) {
        const e = active.splice(Math.floor(random() * active.length), 1)[0] as ExecutionRecord;
        expect(await file.releaseClaim(e.id, e.instanceId)).toBe(
          await memory.releaseClaim(e.id, e.instanceId),
        );
      } else if (r < 0.95) {
        const ids = active.slice(0, 5).map((e) => e.id);
        expect(await file.renewLeases("instance-a", ids, step)).toEqual(
          await memory.renewLeases("instance-a", ids, step),
        );
      } else {
        await file.close();
        file = open();
      }
    }
    await file.whenIdle();
    expect((await file.stats()).executions.segments).toBeGreaterThan(0);
    const queries: Array<Omit<ExecutionQuery, "cursor">> = [
      { limit: 1000 },
      { limit: 13 },
      { scheduleId: "s2", limit: 4 },
      { status: ["succeeded", "skipped"], limit: 9 },
      { kind: "manual", limit: 5 },
      { scheduleId: "s0", kind: ["scheduled", "catchup"], from: 50_000, to: 300_000, limit: 6 },
      { status: "running", limit: 1 },
    ];
    for (const q of queries) expect(await drainExecutions(file, q)).toEqual(await drainExecutions(memory, q));
    for (let s = 0; s < 5; s++) {
      expect(await file.lastFireAt(`s${s}`)).toBe(await memory.lastFireAt(`s${s}`));
      expect(await file.activeExecutions(`s${s}`)).toEqual(await memory.activeExecutions(`s${s}`));
    }
  }, 30_000); // about 1 s alone; several times that on a loaded 2-core CI machine
});

function pick(e: ExecutionRecord): Pick<ExecutionRecord, "scheduleId" | "scheduledAt"> {
  return { scheduleId: e.scheduleId, scheduledAt: e.scheduledAt };
}

describe("FileStorage files after close", () => {
  it("leaves no temp files and every JSON and JSON Lines file parses", async () => {
    const { dir, open } = await fresh({ segmentLines: 10, mergeFanIn: 2 });
    const storage = open();
    for (let i = 0; i < 60; i++) {
      await storage.claimFire({ execution: makeExecution({ status: "succeeded", scheduledAt: i }) });
      await storage.insertSchedule(makeSchedule({ id: `s-${i}` }));
    }
    await storage.close();
    for (const rel of await listFiles(dir)) {
      expect(rel).not.toMatch(/\.tmp$|\.pending$/);
      const path = join(dir, rel);
      if (rel.endsWith(".json")) JSON.parse(await readFile(path, "utf8"));
      if (rel.endsWith(".jsonl")) {
        const text = await readFile(path, "utf8");
        expect(text === "" || text.endsWith("\n")).toBe(true);
        for (const line of text.split("\n").filter(Boolean)) JSON.parse(line);
      }
    }
  });
});
