/**
 * Retention under kill -9: a writer adds history and prunes it in small batches (log `del` lines,
 * segment rewrites committed by the checkpoint, audit log rewrites) and is killed at random
 * moments. After every kill the store opens cleanly and keeps every acknowledged record that
 * retention may not delete: the newest of the pruned schedule, all of the other schedule, and
 * the audit entries of the current cycle.
 */

import { describe, expect, it } from "vitest";
import { FileStorage } from "../src/index.js";
import { type Child, spawnFixture } from "./child.js";
import { tempDir } from "./helpers.js";

const KILLS = 30;
/**
 * Merges and compactions at once (no quiet period after prunes, FileStorage's default), so the
 * kills also land in the rewrites that a prune leaves due.
 */
const OPTIONS = { segmentLines: 32, mergeFanIn: 3, rewriteQuietMs: 0 };
/** The writer prunes with keepLast 40; one put may be in flight unacknowledged when it dies. */
const KEPT = 39;

describe("retention crash safety", () => {
  it(`keeps every record retention may not delete through ${KILLS} kill -9s mid-prune`, async () => {
    const { dir, remove } = await tempDir("tc-prune-crash-");
    const pool: Child[] = [spawnFixture("prune-writer.mjs", []), spawnFixture("prune-writer.mjs", [])];
    const pruneAcks: { id: string; at: number }[] = [];
    const keepAcks: string[] = [];
    let prunedTotal = 0;
    let killedMidPrune = 0;
    try {
      for (let cycle = 1; cycle <= KILLS; cycle++) {
        const child = pool.shift() as Child;
        pool.push(spawnFixture("prune-writer.mjs", []));
        await child.next((m) => m.t === "warm");
        child.send(JSON.stringify({ dir, cycle, ...OPTIONS }));
        await child.next((m) => m.t === "pruning");
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 120));
        child.proc.kill("SIGKILL");
        expect((await child.exited).signal).toBe("SIGKILL");
        const audits: { seq: number }[] = [];
        let pruning = false;
        for (const m of child.messages) {
          if (m.t === "put" && m.scheduleId === "s-prune")
            pruneAcks.push({ id: m.id as string, at: m.at as number });
          if (m.t === "put" && m.scheduleId === "s-keep") keepAcks.push(m.id as string);
          if (m.t === "audit") audits.push({ seq: m.seq as number });
          if (m.t === "pruned") prunedTotal += m.n as number;
          if (m.t === "pruning") pruning = true;
        }
        // Killed inside the prune loop, after at least one batch went through.
        if (pruning && child.messages.some((m) => m.t === "pruned")) killedMidPrune++;

        const storage = new FileStorage({ dir, ...OPTIONS });
        try {
          await storage.open();
          const newest = [...pruneAcks].sort((a, b) => b.at - a.at).slice(0, KEPT);
          for (const e of newest) expect(await storage.getExecution(e.id), `kept ${e.id}`).not.toBeNull();
          for (const id of keepAcks)
            expect(await storage.getExecution(id), `other schedule ${id}`).not.toBeNull();
          const latest = newest[0];
          if (latest) expect(await storage.lastFireAt("s-prune")).toBeGreaterThanOrEqual(latest.at);
          const seqs = new Set((await storage.listAudit({ limit: 1000 })).items.map((e) => e.seq));
          for (const a of audits) expect(seqs.has(a.seq), `audit ${a.seq} of this cycle`).toBe(true);
          const unexpected = (await storage.quarantined()).filter((r) => r.kind !== "torn-tail");
          expect(unexpected, "a crash only ever leaves torn tails").toEqual([]);
        } finally {
          await storage.close();
        }
      }
      expect(prunedTotal, "the writers pruned").toBeGreaterThan(KILLS * 5);
      expect(killedMidPrune, "most kills hit a prune loop").toBeGreaterThanOrEqual(KILLS * 0.3);
      // Pruned to the end after all the kills, the schedule keeps exactly its newest 40.
      const storage = new FileStorage({ dir, ...OPTIONS });
      await storage.open();
      try {
        while ((await storage.pruneExecutions({ scheduleId: "s-prune", keepLast: 40, limit: 500 })) === 500);
        const left = (await storage.listExecutions({ scheduleId: "s-prune", limit: 1000 })).items.length;
        expect(left).toBe(40);
      } finally {
        await storage.close();
      }
    } finally {
      for (const child of pool) {
        child.proc.kill("SIGKILL");
        await child.exited;
      }
      await remove();
    }
  }, 180_000);
});
