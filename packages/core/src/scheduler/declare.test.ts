import { describe, expect, it } from "vitest";
import { ConflictError, ValidationError } from "../errors.js";
import type { ScheduleInput } from "../schedule/schedule-input.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { Storage } from "../storage/storage.js";
import { TestClock } from "../testing/test-clock.js";
import { DECLARED_TAG, declareSchedules, planDeclaration } from "./declare.js";
import { Scheduler } from "./scheduler.js";
import { setup } from "./test-helpers.js";

const DECLARED: ScheduleInput[] = [
  { id: "snapshot", job: "snapshot", trigger: { cron: "35 16 * * *", timezone: "UTC" } },
  { id: "exit-check", job: "exit-check", trigger: { every: "30s" }, overlap: "skip" },
  {
    id: "rebalance",
    job: "rebalance",
    trigger: { cron: "0 20 * * 0", timezone: "UTC" },
    retry: { attempts: 3, backoff: { baseMs: "60s", factor: 2 } },
    data: { universe: ["SPY", "QQQ"] },
  },
];

function registered(scheduler: Scheduler): Scheduler {
  for (const job of ["snapshot", "exit-check", "rebalance", "report"]) scheduler.register(job, () => {});
  return scheduler;
}

async function auditActions(scheduler: Scheduler): Promise<string[]> {
  const page = await scheduler.listAudit({ limit: 1000 });
  // A batch entry lists the ids it created (`Scheduler.createSchedules`).
  return page.items
    .map((a) => `${a.action} ${a.subjectId ?? (a.details as { ids?: string[] } | null)?.ids?.join(",")}`)
    .reverse();
}

/** MemoryStorage that counts the conflicts its schedule writes answered (to see races happen). */
function countingConflicts(storage: Storage): { storage: Storage; conflicts: string[] } {
  const conflicts: string[] = [];
  const wrap =
    <A extends unknown[]>(fn: (...args: A) => Promise<void>) =>
    async (...args: A) => {
      try {
        await fn(...args);
      } catch (error) {
        if (error instanceof ConflictError) conflicts.push(error.code);
        throw error;
      }
    };
  const view = Object.create(storage) as Storage;
  view.insertSchedule = wrap(storage.insertSchedule.bind(storage));
  view.updateSchedule = wrap(storage.updateSchedule.bind(storage));
  return { storage: view, conflicts };
}

describe("declareSchedules", () => {
  it("creates what is missing, then leaves an equal declaration untouched: no revision, no audit, no event", async () => {
    const { scheduler, events, clock } = setup();
    registered(scheduler);
    const first = await declareSchedules(scheduler, DECLARED, { actor: "config" });
    expect(first).toEqual({
      created: ["snapshot", "exit-check", "rebalance"],
      updated: [],
      unchanged: [],
      removed: [],
    });
    const auditBefore = await auditActions(scheduler);
    // Created together: one storage write, one audit entry listing them.
    expect(auditBefore).toEqual(["schedule.create_batch snapshot,exit-check,rebalance"]);
    await clock.advance(3_600_000); // an interval declared without an anchor keeps its creation anchor
    const second = await declareSchedules(scheduler, DECLARED, { actor: "config" });
    expect(second).toEqual({
      created: [],
      updated: [],
      unchanged: ["snapshot", "exit-check", "rebalance"],
      removed: [],
    });
    const stored = await scheduler.listSchedules();
    expect(stored.map((s) => [s.id, s.revision])).toEqual([
      ["exit-check", 1],
      ["rebalance", 1],
      ["snapshot", 1],
    ]);
    expect(stored.every((s) => s.tags.includes(DECLARED_TAG))).toBe(true);
    expect(await auditActions(scheduler)).toEqual(auditBefore);
    expect(events.of("schedule:updated")).toHaveLength(0);
  });

  it("updates what changed with one revision and keeps an operator's pause", async () => {
    const { scheduler } = setup();
    registered(scheduler);
    await declareSchedules(scheduler, DECLARED);
    await scheduler.pauseSchedule("snapshot", { actor: "alice" }); // revision 2
    const changed = DECLARED.map((s) =>
      s.id === "snapshot" ? { ...s, trigger: { cron: "40 16 * * *", timezone: "UTC" } } : s,
    );
    const report = await declareSchedules(scheduler, changed, { actor: "deploy" });
    expect(report.updated).toEqual(["snapshot"]);
    expect(report.unchanged).toEqual(["exit-check", "rebalance"]);
    const snapshot = await scheduler.getSchedule("snapshot");
    expect(snapshot).toMatchObject({
      revision: 3,
      paused: true,
      trigger: { type: "cron", expression: "40 16 * * *", timezone: "UTC" },
    });
    const audit = await scheduler.listAudit({ action: "schedule.update" });
    expect(audit.items.map((a) => [a.actor, a.subjectId])).toEqual([["deploy", "snapshot"]]);
  });

  it("treats the declaration as the truth for its fields: a field set through the API is set back", async () => {
    const { scheduler } = setup();
    registered(scheduler);
    await declareSchedules(scheduler, DECLARED);
    await scheduler.updateSchedule("rebalance", { description: "edited by hand", timeout: "5m" });
    const report = await declareSchedules(scheduler, DECLARED);
    expect(report.updated).toEqual(["rebalance"]);
    expect(await scheduler.getSchedule("rebalance")).toMatchObject({ description: null, timeoutMs: null });
  });

  it("adopts a schedule created through the API under a declared id and tags it", async () => {
    const { scheduler } = setup();
    registered(scheduler);
    await scheduler.createSchedule({ id: "snapshot", job: "snapshot", trigger: { cron: "0 9 * * *" } });
    const report = await declareSchedules(scheduler, DECLARED.slice(0, 1));
    expect(report.updated).toEqual(["snapshot"]);
    expect((await scheduler.getSchedule("snapshot")).tags).toEqual([DECLARED_TAG]);
  });

  it("removes only the schedules it declared earlier, and only with removeMissing", async () => {
    const { scheduler } = setup();
    registered(scheduler);
    await declareSchedules(scheduler, DECLARED);
    await scheduler.createSchedule({ id: "adhoc", job: "report", trigger: { every: "1h" } });
    const without = DECLARED.filter((s) => s.id !== "rebalance");
    const kept = await declareSchedules(scheduler, without);
    expect(kept.removed).toEqual([]);
    expect((await scheduler.listSchedules()).map((s) => s.id)).toContain("rebalance");
    const pruned = await declareSchedules(scheduler, without, { removeMissing: true, actor: "deploy" });
    expect(pruned).toEqual({
      created: [],
      updated: [],
      unchanged: ["snapshot", "exit-check"],
      removed: ["rebalance"],
    });
    expect((await scheduler.listSchedules()).map((s) => s.id)).toEqual(["adhoc", "exit-check", "snapshot"]);
  });

  it("keeps independent declarations apart by tag", async () => {
    const { scheduler } = setup();
    registered(scheduler);
    await declareSchedules(scheduler, DECLARED.slice(0, 1), { tag: "team:data" });
    const report = await declareSchedules(scheduler, DECLARED.slice(1), {
      tag: "team:trading",
      removeMissing: true,
    });
    expect(report.removed).toEqual([]);
    expect((await scheduler.getSchedule("snapshot")).tags).toEqual(["team:data"]);
  });

  it("validates the whole declaration before writing anything, naming each field", async () => {
    const { scheduler } = setup();
    registered(scheduler);
    const bad = [
      DECLARED[0] as ScheduleInput,
      { job: "snapshot", trigger: { every: "1m" } } as ScheduleInput,
      { id: "snapshot", job: "snapshot", trigger: { every: "1m" } },
      { id: "broken", job: "snapshot", trigger: { cron: "61 * * * *" } },
      { id: "past", job: "snapshot", trigger: { at: "2020-01-01T00:00:00Z" } },
    ];
    const error = await declareSchedules(scheduler, bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => [i.field, i.code])).toEqual([
      ["[1].id", "VALIDATION"],
      ["[2].id", "VALIDATION"],
      ["[3].trigger.expression", "INVALID_CRON"],
      ["[4].trigger.at", "INVALID_INSTANT"],
    ]);
    expect(await scheduler.listSchedules()).toEqual([]);
    await expect(
      declareSchedules(scheduler, DECLARED, { removeMissing: "yes" } as never),
    ).rejects.toMatchObject({
      field: "options.removeMissing",
    });
  });

  it("lets two instances declare the same set at the same moment: one set, one revision, no error", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const shared = new MemoryStorage();
    const a = countingConflicts(shared);
    const b = countingConflicts(shared);
    const one = registered(new Scheduler({ storage: a.storage, clock, instanceId: "a" }));
    const two = registered(new Scheduler({ storage: b.storage, clock, instanceId: "b" }));
    const [ra, rb] = await Promise.all([declareSchedules(one, DECLARED), declareSchedules(two, DECLARED)]);
    expect([...ra.created, ...rb.created].sort()).toEqual(["exit-check", "rebalance", "snapshot"]);
    expect([...ra.unchanged, ...rb.unchanged].sort()).toEqual(["exit-check", "rebalance", "snapshot"]);
    expect([...a.conflicts, ...b.conflicts]).toContain("SCHEDULE_EXISTS"); // the race did happen
    expect((await shared.listSchedules()).map((s) => s.revision)).toEqual([1, 1, 1]);
    // One instance's batch won and wrote all three; the other's wrote none of them.
    const creates = (await one.listAudit({ action: "schedule.create_batch" })).items;
    expect(creates.flatMap((a) => (a.details as { ids: string[] }).ids).sort()).toEqual([
      "exit-check",
      "rebalance",
      "snapshot",
    ]);
    expect((await one.listAudit({ action: "schedule.create" })).items).toEqual([]);

    // Both roll out the same change at once: it is written once.
    const changed = DECLARED.map((s) => ({ ...s, description: "v2" }));
    const [ua, ub] = await Promise.all([declareSchedules(one, changed), declareSchedules(two, changed)]);
    expect([...ua.updated, ...ub.updated].sort()).toEqual(["exit-check", "rebalance", "snapshot"]);
    expect([...a.conflicts, ...b.conflicts]).toContain("REVISION_CONFLICT");
    expect((await shared.listSchedules()).map((s) => [s.revision, s.description])).toEqual([
      [2, "v2"],
      [2, "v2"],
      [2, "v2"],
    ]);
  });
});

describe("planDeclaration", () => {
  it("is a pure plan: create, update with the changed fields, unchanged, remove", () => {
    const now = Date.parse("2026-01-05T14:30:00Z");
    const tagged = DECLARED.map((s) => ({ ...s, tags: [DECLARED_TAG] }));
    const first = planDeclaration([], tagged, { tag: DECLARED_TAG, removeMissing: true }, now);
    const stored = first.map((s) => (s.action === "create" ? s.record : null)).filter((r) => r !== null);
    const edited = tagged.map((s) => (s.id === "exit-check" ? { ...s, overlap: "allow" as const } : s));
    const plan = planDeclaration(
      stored,
      edited.slice(1),
      { tag: DECLARED_TAG, removeMissing: true },
      now + 1000,
    );
    expect(plan.map((s) => [s.action, s.id, s.action === "update" ? s.changed : null])).toEqual([
      ["update", "exit-check", ["overlap"]],
      ["unchanged", "rebalance", null],
      ["remove", "snapshot", null],
    ]);
  });
});
