import { appendFile, readdir, readFile, truncate, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { type ExecutionRecord, Scheduler, StorageError } from "@tradecron/core";
import { makeApproval, makeExecution, makeSchedule } from "@tradecron/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { FileStorage, type QuarantineReport } from "../src/index.js";
import { listFiles, tempDir } from "./helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function store(options: { segmentLines?: number; mergeFanIn?: number } = {}) {
  const { dir, remove } = await tempDir("tc-quar-");
  const reports: QuarantineReport[] = [];
  const handles: FileStorage[] = [];
  const open = () => {
    const s = new FileStorage({ dir, ...options, onQuarantine: (r) => reports.push(r) });
    handles.push(s);
    return s;
  };
  cleanups.push(async () => {
    for (const h of handles) await h.close();
    await remove();
  });
  return { dir, open, reports };
}

async function quarantineLog(dir: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(join(dir, "quarantine", "quarantine.jsonl"), "utf8");
  return text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
}

describe("quarantine", () => {
  it("moves a truncated schedule file and a foreign file aside, reports their paths, and opens with the rest", async () => {
    const { dir, open, reports } = await store();
    const first = open();
    for (const id of ["good-1", "good-2", "cut"]) await first.insertSchedule(makeSchedule({ id }));
    await first.close();
    const cut = join(dir, "schedules", "cut.json");
    await truncate(cut, 40);
    const foreign = join(dir, "schedules", "holiday-list.csv");
    await writeFile(foreign, "2026-01-01,New Year\n");

    const again = open();
    expect((await again.listSchedules()).map((s) => s.id)).toEqual(["good-1", "good-2"]);
    expect(reports.map((r) => [r.kind, r.path])).toEqual(
      expect.arrayContaining([
        ["corrupt", cut],
        ["foreign", foreign],
      ]),
    );
    for (const r of reports) {
      expect(r.movedTo).toMatch(new RegExp(`^${join(dir, "quarantine")}/`));
      expect(await readFile(r.movedTo as string, "utf8")).toBeTruthy();
    }
    expect((await quarantineLog(dir)).map((e) => e.path)).toEqual(
      expect.arrayContaining(["schedules/cut.json", "schedules/holiday-list.csv"]),
    );
    expect(await again.quarantined()).toHaveLength(2);
    expect(await listFiles(join(dir, "schedules"))).toEqual(["good-1.json", "good-2.json"]);
  });

  it("rewrites an approvals log without a damaged line, keeping the original and every good record", async () => {
    const { dir, open, reports } = await store();
    const first = open();
    const approvals = [makeApproval(), makeApproval(), makeApproval()];
    for (const a of approvals) await first.insertApprovals([a]);
    await first.close();
    const path = join(dir, "approvals.jsonl");
    const lines = (await readFile(path, "utf8")).split("\n");
    lines[1] = '{"op":"put","rec":{"id":"half';
    await writeFile(path, lines.join("\n"));

    const again = open();
    expect(await again.getApproval((approvals[0] as { id: string }).id)).toEqual(approvals[0]);
    expect(await again.getApproval((approvals[2] as { id: string }).id)).toEqual(approvals[2]);
    expect(await again.getApproval((approvals[1] as { id: string }).id)).toBeNull();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ kind: "corrupt", path });
    expect(reports[0]?.reason).toContain("line 2");
    expect(await readFile(reports[0]?.movedTo as string, "utf8")).toContain('"id":"half');
    for (const line of (await readFile(path, "utf8")).trim().split("\n")) JSON.parse(line);
  });

  it("cuts a torn tail off the execution log, keeps the bytes as evidence, and keeps every complete write", async () => {
    const { dir, open, reports } = await store();
    const first = open();
    const made = [makeExecution(), makeExecution()];
    for (const execution of made) await first.claimFire({ execution });
    await first.close();
    const logName = (await readdir(join(dir, "executions"))).find((n) => n.startsWith("log-")) as string;
    const log = join(dir, "executions", logName);
    await appendFile(log, '{"op":"put","rec":{"id":"torn-by-a-cra');

    const again = open();
    for (const e of made) expect(await again.getExecution(e.id)).toEqual(e);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ kind: "torn-tail", path: log });
    expect(await readFile(reports[0]?.movedTo as string, "utf8")).toBe(
      '{"op":"put","rec":{"id":"torn-by-a-cra',
    );
    expect((await readFile(log, "utf8")).endsWith("}\n")).toBe(true);
  });

  it("keeps a corrupt control record's pause in force: a copy goes to quarantine, reads fail until replaced", async () => {
    const { dir, open, reports } = await store();
    const first = open();
    await first.setControl({ pausedAll: true, pausedAt: 1, pausedBy: "x", reason: null, revision: 4 });
    await first.close();
    await writeFile(join(dir, "control.json"), "\u0000\u0000\u0000");
    // Before: moved aside, and the store started over unpaused, silently lifting the pause-all.
    for (let restart = 0; restart < 2; restart++) {
      const again = open();
      await expect(again.getControl()).rejects.toMatchObject({ code: "STORAGE_CORRUPT" });
      expect(again.issues()).toEqual([expect.objectContaining({ subject: "control", kind: "invalid" })]);
      const scheduler = new Scheduler({ storage: again, instanceId: `restart-${restart}` });
      await scheduler.start();
      expect(scheduler.pausedAll).toBe(true);
      await scheduler.stop();
      await again.close();
    }
    expect(reports.map((r) => [r.path, r.kind])).toEqual([
      [join(dir, "control.json"), "corrupt"],
      [join(dir, "control.json"), "corrupt"],
    ]);
    expect(await readFile(reports[0]?.movedTo as string, "utf8")).toBe("\u0000\u0000\u0000");
    const healed = open();
    const scheduler = new Scheduler({ storage: healed, instanceId: "alice-host" });
    await scheduler.start();
    await scheduler.resumeAll({ actor: "alice" });
    await scheduler.stop();
    await healed.close();
    const after = open();
    expect(await after.getControl()).toMatchObject({ pausedAll: false, pausedBy: null, revision: 1 });
    expect(after.issues()).toEqual([]);
  });

  it("quarantines a hand-edited schedule that fails the input schemas, naming the field", async () => {
    const { dir, open, reports } = await store();
    const first = open();
    for (const id of ["good", "negative", "lots", "minute-99"])
      await first.insertSchedule(makeSchedule({ id }));
    await first.close();
    const edit = async (id: string, change: (r: Record<string, unknown>) => void) => {
      const path = join(dir, "schedules", `${id}.json`);
      const record = JSON.parse(await readFile(path, "utf8"));
      change(record);
      await writeFile(path, JSON.stringify(record, null, 2));
    };
    await edit("negative", (r) => {
      r.trigger = { type: "interval", every: -5, anchor: 0, jitter: 0 };
    });
    await edit("lots", (r) => {
      r.retry = "lots";
    });
    await edit("minute-99", (r) => {
      r.trigger = { type: "cron", expression: "99 * * * *", timezone: "UTC" };
    });
    const again = open();
    expect((await again.listSchedules()).map((s) => s.id)).toEqual(["good"]);
    expect(reports.map((r) => [basename(r.path), r.kind])).toEqual(
      expect.arrayContaining([
        ["negative.json", "corrupt"],
        ["lots.json", "corrupt"],
        ["minute-99.json", "corrupt"],
      ]),
    );
    const reason = (id: string) => reports.find((r) => basename(r.path) === `${id}.json`)?.reason ?? "";
    expect(reason("negative")).toMatch(/trigger\.every/);
    expect(reason("lots")).toMatch(/retry/);
    expect(reason("minute-99")).toMatch(/trigger\.expression/);
    expect(
      again
        .issues()
        .map((i) => [i.subject, i.id, i.kind])
        .sort(),
    ).toEqual([
      ["schedule", "lots", "quarantined"],
      ["schedule", "minute-99", "quarantined"],
      ["schedule", "negative", "quarantined"],
    ]);
    const scheduler = new Scheduler({ storage: again, instanceId: "h" });
    scheduler.register("job-a", () => {});
    await scheduler.start();
    expect(scheduler.health().reasons.filter((r) => r.includes("quarantined schedule"))).toHaveLength(3);
    await scheduler.stop();
  });

  it("rebuilds a damaged segment index and reports a damaged sealed record with its file and line", async () => {
    const { dir, open, reports } = await store({ segmentLines: 10, mergeFanIn: 0 });
    const first = open();
    const made: ExecutionRecord[] = [];
    for (let i = 0; i < 30; i++) {
      const e = makeExecution({ status: "succeeded", scheduledAt: 5_000 + i });
      made.push(e);
      await first.claimFire({ execution: e });
    }
    await first.whenIdle();
    await first.close();
    const names = await readdir(join(dir, "executions"));
    const idx = join(dir, "executions", names.find((n) => n.endsWith(".idx")) as string);
    const bytes = await readFile(idx);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    await writeFile(idx, bytes);
    const again = open();
    for (const e of made) expect(await again.getExecution(e.id)).toEqual(e);
    expect(reports).toEqual([]); // the index is derived data: rebuilt, nothing lost
    await again.close();

    // Flip one byte inside a sealed record: its CRC no longer matches.
    const data = join(dir, "executions", names.find((n) => /^seg-.*\.jsonl$/.test(n)) as string);
    const text = await readFile(data, "utf8");
    const victim = JSON.parse(text.split("\n")[0] as string) as ExecutionRecord;
    await writeFile(data, text.replace(victim.idempotencyKey, victim.idempotencyKey.replace("s", "S")));
    const third = open();
    const error = await third.getExecution(victim.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe("STORAGE_CORRUPT");
    expect((error as Error).message).toContain(`${data} line 1`);
    const others = made.filter((e) => e.id !== victim.id);
    for (const e of others) expect(await third.getExecution(e.id)).toEqual(e);
  });

  it("repairs a sealed segment with an unreadable line when its index is gone, keeping the original", async () => {
    const { dir, open, reports } = await store({ segmentLines: 10, mergeFanIn: 0 });
    const first = open();
    for (let i = 0; i < 12; i++) {
      await first.claimFire({ execution: makeExecution({ status: "succeeded", scheduledAt: 9_000 + i }) });
    }
    await first.whenIdle();
    await first.close();
    const names = await readdir(join(dir, "executions"));
    const base = (names.find((n) => n.endsWith(".idx")) as string).replace(/\.idx$/, "");
    const data = join(dir, "executions", `${base}.jsonl`);
    const lines = (await readFile(data, "utf8")).split("\n");
    const lost = JSON.parse(lines[2] as string) as ExecutionRecord;
    lines[2] = "garbage";
    await writeFile(data, lines.join("\n"));
    await writeFile(join(dir, "executions", `${base}.idx`), "");

    const again = open();
    expect(await again.getExecution(lost.id)).toBeNull();
    expect((await again.listExecutions({ limit: 100 })).items).toHaveLength(11);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ kind: "corrupt", path: data });
    expect(reports[0]?.reason).toContain("line 3");
    expect(await readFile(reports[0]?.movedTo as string, "utf8")).toContain("garbage");
  });

  it("quarantines a corrupt checkpoint and rebuilds from the segment files without losing a record", async () => {
    const { dir, open, reports } = await store({ segmentLines: 8, mergeFanIn: 0 });
    const first = open();
    const made: ExecutionRecord[] = [];
    for (let i = 0; i < 40; i++) {
      const e = makeExecution({ status: "succeeded", scheduleId: `s${i % 3}`, scheduledAt: 100 + i });
      made.push(e);
      await first.claimFire({ execution: e });
    }
    await first.whenIdle();
    await first.close();
    const checkpoint = join(dir, "executions", "checkpoint.json");
    await writeFile(checkpoint, '{"format":1,"sealedThrough":');
    await writeFile(join(dir, "executions", "stray.bin"), "??");

    const again = open();
    for (const e of made) expect(await again.getExecution(e.id)).toEqual(e);
    expect(await again.lastFireAt("s0")).toBe(139);
    expect(reports.map((r) => [r.kind, r.path]).sort()).toEqual(
      [
        ["corrupt", checkpoint],
        ["foreign", join(dir, "executions", "stray.bin")],
      ].sort(),
    );
    await again.close();
    const third = open();
    expect((await third.listExecutions({ limit: 100 })).items).toHaveLength(40);
    expect(reports).toHaveLength(2);
  });
});
