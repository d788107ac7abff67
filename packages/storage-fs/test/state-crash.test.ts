/**
 * Schedule state through kill -9: a writer process commits state increments with succeeded
 * outcomes (and deletes and re-creates schedules) until it is killed at a random moment; the
 * folder is then opened again and checked. Small segments make seals, and so compactions of the
 * states into executions/schedule-state.json, happen all the time, kills during them included.
 */

import type { ExecutionRecord } from "@tradecron/core";
import { describe, expect, it } from "vitest";
import { FileStorage } from "../src/index.js";
import { type Child, spawnFixture } from "./child.js";
import { tempDir } from "./helpers.js";

const KILLS = 40;
const OPTIONS = { segmentLines: 16, mergeFanIn: 4 };

async function succeeded(storage: FileStorage, scheduleId: string): Promise<ExecutionRecord[]> {
  const out: ExecutionRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await storage.listExecutions({ scheduleId, status: "succeeded", limit: 1000, cursor });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** Checks the invariants after a kill; returns how many acknowledged commits it checked. */
async function verify(storage: FileStorage, acks: Array<Record<string, unknown>>): Promise<number> {
  const acked = new Map<string, number>();
  const lastChurn = new Map<string, string>();
  for (const a of acks) {
    if (a.t === "commit" && typeof a.revision === "number") acked.set(a.sid as string, a.revision);
    if (a.t === "created" || a.t === "committed" || a.t === "deleted") lastChurn.set(a.sid as string, a.t);
  }
  for (const k of [0, 1, 2, 3]) {
    const sid = `c-${k}`;
    const state = await storage.getScheduleState(sid);
    const revision = state?.revision ?? 0;
    // Nothing acknowledged is lost.
    expect(revision, `${sid}: revision`).toBeGreaterThanOrEqual(acked.get(sid) ?? 0);
    if (!state) continue;
    // Every increment applied exactly once: the value counts the commits.
    expect((state.value as { n: number }).n, `${sid}: value`).toBe(revision);
    // Outcome and state together: one succeeded execution per commit, the last one the committer.
    const runs = await succeeded(storage, sid);
    expect(runs.length, `${sid}: succeeded executions`).toBe(revision);
    expect(runs.find((r) => r.id === state.executionId)?.result, `${sid}: committing run`).toEqual({
      n: revision,
    });
  }
  for (const k of [0, 1]) {
    const sid = `d-${k}`;
    const state = await storage.getScheduleState(sid);
    const exists = (await storage.getSchedule(sid)) !== null;
    // A deleted schedule's state never comes back: a state is that of the schedule's one commit.
    if (state) {
      expect(exists, `${sid}: a state only with its schedule`).toBe(true);
      expect(state.revision, `${sid}: revision`).toBe(1);
    }
    if (lastChurn.get(sid) === "committed") expect(exists ? state?.revision : null).toBe(exists ? 1 : null);
  }
  return [...acked.values()].reduce((a, b) => a + b, 0);
}

describe("schedule state crash safety", () => {
  it(`keeps outcome and state together through ${KILLS} kill -9s, compactions included`, async () => {
    const { dir, remove } = await tempDir("tc-state-crash-");
    const pool: Child[] = [spawnFixture("state-writer.mjs", [])];
    try {
      let killedMidWrite = 0;
      let checked = 0;
      for (let cycle = 1; cycle <= KILLS; cycle++) {
        const child = pool.shift() as Child;
        pool.push(spawnFixture("state-writer.mjs", []));
        await child.next((m) => m.t === "warm");
        child.send(JSON.stringify({ dir, cycle, ...OPTIONS }));
        if (cycle % 5 === 0) {
          // Some die while opening: in the middle of their own recovery and orphan clean-up.
          await new Promise((r) => setTimeout(r, Math.random() * 20));
        } else {
          await child.next((m) => m.t === "commit");
          await new Promise((r) => setTimeout(r, 5 + Math.random() * 45));
        }
        child.proc.kill("SIGKILL");
        expect((await child.exited).signal).toBe("SIGKILL");
        const acks = child.messages.filter((m) => m.t !== "warm" && m.t !== "ready");
        if (acks.length > 0) killedMidWrite++;
        const storage = new FileStorage({ dir, ...OPTIONS });
        try {
          checked += await verify(storage, acks);
          const unexpected = (await storage.quarantined()).filter((r) => r.kind !== "torn-tail");
          expect(unexpected, "a crash only ever leaves torn tails").toEqual([]);
          expect(storage.issues(), "no state fails its checks").toEqual([]);
        } finally {
          await storage.close();
        }
      }
      expect(killedMidWrite).toBeGreaterThanOrEqual(KILLS * 0.7);
      expect(checked).toBeGreaterThan(KILLS);
      // The compaction ran: states outlived the logs they were committed in.
      const storage = new FileStorage({ dir, ...OPTIONS });
      try {
        expect((await storage.stats()).executions.segments).toBeGreaterThan(0);
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
