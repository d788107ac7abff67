import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileStorage } from "../src/index.js";
import { type Child, spawnFixture } from "./child.js";
import { tempDir } from "./helpers.js";

const KILLS = 100;
/** Children loading the package while the current one writes: module loading is the slow part. */
const WARM = 2;
const OPTIONS = { segmentLines: 64, mergeFanIn: 4 };

/** Every file under `dir`, except the quarantine (which keeps torn bytes on purpose). */
async function storeFiles(dir: string, base = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (rel !== "quarantine") out.push(...(await storeFiles(dir, rel)));
    } else out.push(rel);
  }
  return out;
}

/**
 * Checks that every file changed since `since` (ms) parses: JSON files whole (they are only ever
 * replaced by rename), JSON Lines files line by line, where only an append log may end in an
 * unterminated line (a write the kill cut short). Leftover temp files are allowed before
 * recovery: they are never read, and deleted at open. (Files older than `since` were checked in
 * an earlier cycle; skipping them keeps each cycle's cost flat as the store grows.)
 */
async function checkFilesParse(dir: string, afterRecovery: boolean, since: number): Promise<void> {
  for (const rel of await storeFiles(dir)) {
    const name = rel.split("/").pop() as string;
    const st = await stat(join(dir, rel)).catch(() => null);
    if (!st || st.mtimeMs < since) continue;
    if (name.startsWith(".") && name.endsWith(".tmp")) {
      expect(afterRecovery, `${rel} left after recovery`).toBe(false);
      continue;
    }
    const text = await readFile(join(dir, rel), "utf8");
    if (name.endsWith(".json") || name === "LOCK") {
      expect(() => JSON.parse(text), `${rel} parses`).not.toThrow();
    } else if (name.endsWith(".jsonl") || name.endsWith(".jsonl.pending")) {
      const lines = text.split("\n");
      const last = lines.pop() as string;
      for (const [i, line] of lines.entries()) {
        if (line) expect(() => JSON.parse(line), `${rel} line ${i + 1} parses`).not.toThrow();
      }
      const appendLog = /^(executions\/log-\d+\.jsonl|approvals\.jsonl|orders\.jsonl|audit\.jsonl)$/.test(
        rel,
      );
      if (afterRecovery || !appendLog) expect(last, `${rel} ends with a complete line`).toBe("");
    }
  }
}

async function verifyAcks(storage: FileStorage, acks: Array<Record<string, unknown>>): Promise<number> {
  const execStatus = new Map<string, string>();
  const schedules = new Map<string, number>();
  const approvals = new Map<string, string>();
  let control = 0;
  for (const a of acks) {
    if (a.t === "claim") execStatus.set(a.id as string, a.toBeReleased ? "claimed-then-released" : "claimed");
    else if (a.t === "done") execStatus.set(a.id as string, "succeeded");
    else if (a.t === "released") execStatus.set(a.id as string, "released");
    else if (a.t === "schedule") schedules.set(a.id as string, a.revision as number);
    else if (a.t === "approval") approvals.set(a.id as string, a.status as string);
    else if (a.t === "control") control = Math.max(control, a.revision as number);
  }
  for (const [id, status] of execStatus) {
    const e = await storage.getExecution(id);
    if (status === "released") expect(e, `released claim ${id} stays released`).toBeNull();
    else if (status === "succeeded") expect(e?.status, `execution ${id}`).toBe("succeeded");
    else if (status === "claimed-then-released") expect([null, "claimed"]).toContain(e?.status ?? null);
    else expect(e, `claimed execution ${id}`).not.toBeNull();
  }
  for (const [id, revision] of schedules) {
    expect((await storage.getSchedule(id))?.revision ?? 0, `schedule ${id}`).toBeGreaterThanOrEqual(revision);
  }
  for (const [id, status] of approvals) {
    const a = await storage.getApproval(id);
    if (status === "approved") expect(a?.status, `approval ${id}`).toBe("approved");
    else expect(a, `approval ${id}`).not.toBeNull();
  }
  expect((await storage.getControl()).revision).toBeGreaterThanOrEqual(control);
  const audits = acks.filter((a) => a.t === "audit");
  if (audits.length > 0) {
    const page = await storage.listAudit({ actor: audits[0]?.actor as string, limit: 1000 });
    const bySeq = new Map(page.items.map((e) => [e.seq, e]));
    for (const a of audits) {
      expect(bySeq.get(a.seq as number)?.subjectId, `audit entry ${a.seq}`).toBe(a.subjectId);
    }
  }
  for (const a of acks.filter((x) => x.t === "order")) {
    expect(await storage.getOrder(a.id as string), `order ${a.id}`).not.toBeNull();
  }
  return execStatus.size + schedules.size + approvals.size + audits.length;
}

describe("crash safety", () => {
  it(`keeps every acknowledged write through ${KILLS} kill -9s at random moments, and every file parses`, async () => {
    const { dir, remove } = await tempDir("tc-crash-");
    const pool: Child[] = [];
    const warm = () => {
      const child = spawnFixture("crash-writer.mjs", []);
      pool.push(child);
    };
    try {
      for (let i = 0; i < WARM; i++) warm();
      let acknowledged = 0;
      let killedMidWrite = 0;
      for (let cycle = 1; cycle <= KILLS; cycle++) {
        // 1 s of slack for coarse file-system timestamps.
        const since = Date.now() - 1000;
        const child = pool.shift() as Child;
        warm();
        await child.next((m) => m.t === "warm");
        child.send(JSON.stringify({ dir, cycle, ...OPTIONS }));
        if (cycle % 5 === 0) {
          // Every fifth child dies while opening: in the middle of its own crash recovery.
          await new Promise((r) => setTimeout(r, Math.random() * 20));
        } else {
          // The others die 5-50 ms into writing (a timer is the event here: the moment is the point).
          await child.next((m) => m.t !== "warm" && m.t !== "ready");
          await new Promise((r) => setTimeout(r, 5 + Math.random() * 45));
        }
        child.proc.kill("SIGKILL");
        expect((await child.exited).signal).toBe("SIGKILL");
        const acks = child.messages.filter((m) => m.t !== "warm" && m.t !== "ready");
        if (acks.length > 0) killedMidWrite++;

        await checkFilesParse(dir, false, since);
        const storage = new FileStorage({ dir, ...OPTIONS });
        try {
          acknowledged += await verifyAcks(storage, acks);
          const unexpected = (await storage.quarantined()).filter((r) => r.kind !== "torn-tail");
          expect(unexpected, "a crash only ever leaves torn tails").toEqual([]);
        } finally {
          await storage.close();
        }
        await checkFilesParse(dir, true, since);
      }
      expect(killedMidWrite).toBeGreaterThanOrEqual(KILLS * 0.8);
      expect(acknowledged).toBeGreaterThan(KILLS * 10);
    } finally {
      for (const child of pool) {
        child.proc.kill("SIGKILL");
        await child.exited;
      }
      await remove();
    }
  }, 120_000);
});
