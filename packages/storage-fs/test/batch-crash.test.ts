/**
 * A batch insert (`insertSchedules`) is all or none, also against kill -9: a writer inserts
 * batches of schedules one after another and is killed at random moments. After every kill the
 * store opens with every acknowledged batch whole and every other batch whole or absent, never
 * in part; and a journal left by hand (a crash image) takes back exactly the files that still
 * hold the batch's version.
 */

import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildScheduleRecord } from "@tradecron/core";
import { describe, expect, it } from "vitest";
import { FileStorage } from "../src/index.js";
import { type Child, spawnFixture } from "./child.js";
import { tempDir } from "./helpers.js";

/**
 * Kills go on until this many landed with a batch begun on disk (at most MAX_KILLS kills); every
 * other writer kills itself with part of a batch in place (see fixtures/batch-writer.mjs).
 */
const BEGUN_KILLS = 5;
const MAX_KILLS = 40;
const SIZE = 300;
const NOW = 1_700_000_000_000;

const schedule = (id: string) => buildScheduleRecord({ id, job: "job-a", trigger: { every: "1m" } }, NOW);

describe("batch insert crash safety", () => {
  it("leaves every batch whole or absent through kill -9s mid-insert", async () => {
    const { dir, remove } = await tempDir("tc-batch-crash-");
    const pool: Child[] = [spawnFixture("batch-writer.mjs", []), spawnFixture("batch-writer.mjs", [])];
    let begun = 0;
    let partial = 0;
    try {
      for (let cycle = 1; cycle <= MAX_KILLS && begun < BEGUN_KILLS; cycle++) {
        const child = pool.shift() as Child;
        pool.push(spawnFixture("batch-writer.mjs", []));
        await child.next((m) => m.t === "warm");
        // Every other writer kills itself with part of a batch in place; the others die at random.
        const selfKill = cycle % 2 === 0;
        child.send(JSON.stringify({ dir, cycle, size: SIZE, selfKill }));
        await child.next((m) => m.t === "ready");
        if (!selfKill) {
          await new Promise((r) => setTimeout(r, 20 + Math.random() * 150));
          child.proc.kill("SIGKILL");
        }
        expect((await child.exited).signal).toBe("SIGKILL");
        // Every acknowledgement the child printed before it died.
        const out = child.proc.stdout;
        if (out && !out.readableEnded) await new Promise((r) => out.once("close", r));
        const acked = child.messages.filter((m) => m.t === "batch").length;
        // What the crash left on disk, before open repairs it: the batch in flight is the last one
        // with a file or a temp file of a file there (`.c1-b3-7.json.<pid>-<random>.tmp`).
        const names = await readdir(join(dir, "schedules"));
        const ofCycle = new RegExp(`^\\.?c${cycle}-b(\\d+)-`);
        const started = names.flatMap((n) => {
          const m = ofCycle.exec(n);
          return m ? [Number(m[1])] : [];
        });
        const inFlight = started.length > 0 ? Math.max(...started) : 0;
        if (inFlight >= acked && started.some((n) => n === inFlight)) begun++;
        if (child.messages.some((m) => m.t === "partial")) partial++;

        const storage = new FileStorage({ dir });
        try {
          await storage.open();
          const ids = new Set((await storage.listSchedules()).map((s) => s.id));
          for (let n = 0; n <= inFlight; n++) {
            const present = Array.from({ length: SIZE }, (_, i) => `c${cycle}-b${n}-${i}`).filter((id) =>
              ids.has(id),
            ).length;
            if (n < acked) expect(present, `acknowledged batch ${cycle}/${n}`).toBe(SIZE);
            else expect([0, SIZE], `batch ${cycle}/${n}: ${present} of ${SIZE}`).toContain(present);
          }
          expect((await readdir(dir)).filter((f) => f.startsWith("schedule-batch-"))).toEqual([]);
        } finally {
          await storage.close();
        }
      }
      // The test must have met the case it is about: kills while a batch was being written.
      expect(begun).toBe(BEGUN_KILLS);
      // And, from the self-killing writers, kills with part of a batch's files in place.
      expect(partial).toBeGreaterThan(0);
    } finally {
      for (const c of pool) c.proc.kill("SIGKILL");
      await remove();
    }
  }, 120_000);

  it("takes back at open the files of a batch whose journal is left, keeping those changed since", async () => {
    const { dir, remove } = await tempDir("tc-batch-journal-");
    try {
      const storage = new FileStorage({ dir });
      await storage.open();
      await storage.insertSchedules([schedule("a"), schedule("b"), schedule("c")]);
      expect((await readdir(dir)).filter((f) => f.startsWith("schedule-batch-"))).toEqual([]);
      const b = await storage.getSchedule("b");
      await storage.updateSchedule({ ...(b as NonNullable<typeof b>), revision: 2, updatedAt: NOW + 1 }, 1);
      await storage.close();
      // The crash image: the journal of a batch {a, b} that never resolved.
      const entries = ["a", "b"].map((id) => ({ id, revision: 1, updatedAt: NOW }));
      await writeFile(join(dir, "schedule-batch-1-1.json"), JSON.stringify({ schedules: entries }));

      const reopened = new FileStorage({ dir });
      await reopened.open();
      expect((await reopened.listSchedules()).map((s) => s.id)).toEqual(["b", "c"]);
      expect((await reopened.getSchedule("b"))?.revision).toBe(2);
      expect(await readdir(join(dir, "schedules"))).not.toContain("a.json");
      expect((await readdir(dir)).filter((f) => f.startsWith("schedule-batch-"))).toEqual([]);
      // The rolled-back id is free again: a retry of the batch goes through.
      await reopened.insertSchedules([schedule("a")]);
      await reopened.close();
    } finally {
      await remove();
    }
  });

  it.each([
    ["not JSON", "{ not json"],
    ["an entry without a revision", JSON.stringify({ schedules: [{ id: "a", updatedAt: NOW }] })],
  ])("quarantines a journal that is %s and deletes nothing", async (_, content) => {
    const { dir, remove } = await tempDir("tc-batch-journal-bad-");
    try {
      const storage = new FileStorage({ dir, onQuarantine: () => {} });
      await storage.open();
      await storage.insertSchedules([schedule("a")]);
      await storage.close();
      await writeFile(join(dir, "schedule-batch-1-1.json"), content);
      const reopened = new FileStorage({ dir, onQuarantine: () => {} });
      await reopened.open();
      expect((await reopened.listSchedules()).map((s) => s.id)).toEqual(["a"]);
      expect((await readdir(dir)).filter((f) => f.startsWith("schedule-batch-"))).toEqual([]);
      const log = await readFile(join(dir, "quarantine", "quarantine.jsonl"), "utf8");
      expect(log).toContain("batch insert journal");
      await reopened.close();
    } finally {
      await remove();
    }
  });
});
