/**
 * PostgreSQL's fire path beyond the conformance suite: the outcome writes of one turn share one
 * statement (each caller still gets its own record, or null when it lost the execution; a failed
 * statement rejects every caller in it, a data error only its own caller; a write with state goes
 * alone), batches travel as column arrays (values that need escaping arrive intact), and schedule
 * notifications carry the revision (so a scheduler skips the echoes of its own writes).
 */

import type { ExecutionRecord, StorageChange } from "@tradecron/core";
import { makeExecution, makeSchedule } from "@tradecron/core/testing";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { diffSnapshots, parsePayload } from "../src/postgres/notify.js";
import { until } from "./helpers/children.js";
import { adminPool, dropSchema, PG_URL, uniqueSchema, usePostgres } from "./helpers/pg.js";

usePostgres();

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const T0 = 1_768_200_000_000;

/** A storage on a pool of our own whose statements are recorded in `statements` (their text). */
async function recorded(): Promise<{ s: PostgresStorage; statements: string[]; schema: string }> {
  const schema = uniqueSchema();
  const pool = new pg.Pool({ connectionString: PG_URL, max: 4 });
  const statements: string[] = [];
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (config: unknown, ...rest) => {
    statements.push(typeof config === "string" ? config : (config as { text: string }).text);
    return query(config, ...rest);
  };
  const s = new PostgresStorage({ pool, schema });
  await s.open();
  cleanups.push(async () => {
    await s.close();
    await pool.end();
    await dropSchema(schema);
  });
  return { s, statements, schema };
}

/** Statements of the fenced outcome write: coalesced ones and the one with state. */
const isBatchUpdate = (text: string) => /^UPDATE\s.*executions/s.test(text.trim());
const isStateUpdate = (text: string) => text.includes("schedule_state") && text.includes("held AS");

/** `n` fires claimed by instance `a`, one per schedule. */
async function held(s: PostgresStorage, n: number): Promise<ExecutionRecord[]> {
  const claims = Array.from({ length: n }, (_, i) => ({
    execution: makeExecution({ scheduleId: `fp-${i}`, scheduledAt: T0, instanceId: "a" }),
  }));
  const results = await s.claimFires(claims);
  expect(results.every((r) => r.claimed)).toBe(true);
  return claims.map((c) => c.execution);
}

describe("PostgreSQL outcome writes: updateExecution calls of one turn share one statement", () => {
  it("applies 200 concurrent outcomes in one UPDATE, each caller getting its own record", async () => {
    const { s, statements } = await recorded();
    const executions = await held(s, 200);
    statements.length = 0;
    const updated = await Promise.all(
      executions.map((e, i) =>
        s.updateExecution(e.id, "a", {
          status: "succeeded",
          endedAt: T0 + i,
          attempts: 1,
          result: { n: i },
          leaseExpiresAt: null,
        }),
      ),
    );
    expect(statements.filter(isBatchUpdate)).toHaveLength(1);
    updated.forEach((record, i) => {
      expect(record).toEqual({
        ...executions[i],
        status: "succeeded",
        endedAt: T0 + i,
        result: { n: i },
        leaseExpiresAt: null,
      });
    });
    // No two callers share a record object.
    expect(new Set(updated).size).toBe(200);
    const stored = await s.getExecution((executions[7] as ExecutionRecord).id);
    expect(stored).toMatchObject({ status: "succeeded", endedAt: T0 + 7, result: { n: 7 } });
  });

  it("gives null to the one caller among them that no longer holds its execution, and writes nothing for it", async () => {
    const { s, statements } = await recorded();
    const executions = await held(s, 50);
    const lost = executions[20] as ExecutionRecord;
    // Another instance took it over (its lease had run out).
    await adminPool().query(`UPDATE "${s.schema}".executions SET instance_id = 'b' WHERE id = $1`, [lost.id]);
    statements.length = 0;
    const updated = await Promise.all(
      executions.map((e) => s.updateExecution(e.id, "a", { status: "failed", endedAt: T0 + 1 })),
    );
    expect(statements.filter(isBatchUpdate)).toHaveLength(1);
    expect(updated[20]).toBeNull();
    expect(updated.filter((r) => r === null)).toHaveLength(1);
    expect(updated.filter((r) => r?.status === "failed")).toHaveLength(49);
    expect(await s.getExecution(lost.id)).toMatchObject({ status: "running", instanceId: "b" });
  });

  it("rejects every caller of a statement that fails, and writes none of them", async () => {
    const { s, schema } = await recorded();
    const executions = await held(s, 10);
    // A failure that is not about one row's data (a trigger refusing the statement).
    await adminPool().query(`CREATE FUNCTION "${schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
    await adminPool().query(`CREATE TRIGGER refuse BEFORE UPDATE ON "${schema}".executions
      FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse()`);
    const outcomes = await Promise.allSettled(
      executions.map((e) => s.updateExecution(e.id, "a", { status: "succeeded", endedAt: T0 + 1 })),
    );
    expect(outcomes.map((o) => o.status)).toEqual(Array(10).fill("rejected"));
    for (const o of outcomes) {
      expect((o as PromiseRejectedResult).reason).toMatchObject({ name: "StorageError", code: "STORAGE" });
      expect(String((o as PromiseRejectedResult).reason.message)).toContain("updateExecution");
    }
    for (const e of executions) expect((await s.getExecution(e.id))?.status).toBe("running");
  });

  it("fails only the caller whose patch PostgreSQL cannot store (a NUL in its result); the others are written", async () => {
    const { s } = await recorded();
    const executions = await held(s, 8);
    const outcomes = await Promise.allSettled(
      executions.map((e, i) =>
        s.updateExecution(e.id, "a", { status: "succeeded", endedAt: T0, result: i === 3 ? "a\u0000b" : i }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual([
      ...Array(3).fill("fulfilled"),
      "rejected",
      ...Array(4).fill("fulfilled"),
    ]);
    expect(await s.getExecution((executions[3] as ExecutionRecord).id)).toMatchObject({ status: "running" });
    expect(await s.getExecution((executions[4] as ExecutionRecord).id)).toMatchObject({
      status: "succeeded",
      result: 4,
    });
  });

  it("sends an outcome with a state commit in a statement of its own, not in the coalesced one", async () => {
    const { s, statements } = await recorded();
    for (let i = 0; i < 6; i++) await s.insertSchedule(makeSchedule({ id: `fp-${i}` }));
    const executions = await held(s, 6);
    statements.length = 0;
    const [withState, ...plain] = await Promise.all(
      executions.map((e, i) =>
        i === 0
          ? s.updateExecution(
              e.id,
              "a",
              { status: "succeeded", endedAt: T0 + 1 },
              {
                value: { count: 1 },
                expectedRevision: 0,
                at: T0 + 1,
              },
            )
          : s.updateExecution(e.id, "a", { status: "succeeded", endedAt: T0 + 1 }),
      ),
    );
    expect(statements.filter(isStateUpdate)).toHaveLength(1);
    expect(statements.filter(isBatchUpdate)).toHaveLength(1);
    expect(withState?.status).toBe("succeeded");
    expect(plain.every((r) => r?.status === "succeeded")).toBe(true);
    expect(await s.getScheduleState("fp-0")).toMatchObject({ value: { count: 1 }, revision: 1 });
  });
});

describe("PostgreSQL batches as column arrays", () => {
  it("claims and updates values that need escaping in an array literal unchanged", async () => {
    const { s } = await recorded();
    const awkward = ['quote " and \\ backslash', "NULL", "", "{braces}, commas", "ünïcödé ✓", " padded "];
    const claims = awkward.map((text, i) => ({
      execution: makeExecution({
        scheduleId: `odd ${text}`,
        scheduledAt: T0 + i,
        instanceId: "a",
        actor: text,
        details: { text, nested: [text, null, 1.5] },
        idempotencyKey: text,
      }),
    }));
    const results = await s.claimFires(claims);
    expect(results.every((r) => r.claimed)).toBe(true);
    for (const [i, { execution }] of claims.entries()) {
      expect(await s.getExecution(execution.id)).toEqual(execution);
      const updated = await s.updateExecution(execution.id, "a", {
        reason: awkward[i] as string,
        result: { text: awkward[i] as string },
        error: null,
      });
      expect(updated).toEqual({ ...execution, reason: awkward[i], result: { text: awkward[i] } });
    }
    // Lost claims bring back the holder's record as stored.
    const again = await s.claimFires(
      claims.map((c) => ({ execution: { ...c.execution, id: `${c.execution.id}-2` } })),
    );
    again.forEach((r, i) => {
      expect(r).toEqual({
        claimed: false,
        existing: { ...claims[i]?.execution, reason: awkward[i], result: { text: awkward[i] } },
      });
    });
  });

  it("keeps record fields it has no column for through a batch claim", async () => {
    const { s } = await recorded();
    const execution = { ...makeExecution({ instanceId: "a" }), futureField: { x: 1 } } as ExecutionRecord;
    const [won] = await s.claimFires([{ execution }]);
    expect(won).toMatchObject({ claimed: true });
    expect(await s.getExecution(execution.id)).toEqual(execution);
  });
});

describe("PostgreSQL schedule notifications carry the revision", () => {
  it("tells the revision after an insert and an update, and none after a delete", async () => {
    const { s: watcher, schema } = await recorded();
    const writer = new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 2 });
    await writer.open();
    cleanups.push(() => writer.close());
    const seen: StorageChange[] = [];
    const stop = watcher.watch?.((c) => seen.push(c));
    cleanups.push(async () => stop?.());
    await until(() => watcher.listening, 5000, "the watcher is listening");
    const schedule = makeSchedule({ id: "rev" });
    await writer.insertSchedule(schedule);
    await writer.updateSchedule({ ...schedule, revision: schedule.revision + 1 }, schedule.revision);
    await writer.deleteSchedule("rev");
    await until(() => seen.length >= 3, 5000, `three notifications (saw ${JSON.stringify(seen)})`);
    expect(seen).toEqual([
      { type: "schedule", id: "rev", revision: schedule.revision },
      { type: "schedule", id: "rev", revision: schedule.revision + 1 },
      { type: "schedule", id: "rev" },
    ]);
  });

  it("reads the revision from a payload, and still a change from one without it (an older trigger)", () => {
    expect(parsePayload('{"type":"schedule","id":"x","revision":4}')).toEqual({
      type: "schedule",
      id: "x",
      revision: 4,
    });
    expect(parsePayload('{"type":"schedule","id":"x"}')).toEqual({ type: "schedule", id: "x" });
    expect(parsePayload('{"type":"schedule","id":"x","revision":"4"}')).toEqual({
      type: "schedule",
      id: "x",
    });
    expect(parsePayload('{"type":"approval","id":"a","revision":1}')).toEqual({ type: "approval", id: "a" });
  });

  it("tells the revision of a schedule changed while the listener was away (snapshot diff)", () => {
    const before = {
      control: 0,
      schedules: new Map([
        ["a", 1],
        ["b", 1],
      ]),
      pendingApprovals: new Set<string>(),
    };
    const after = {
      control: 0,
      schedules: new Map([
        ["a", 3],
        ["c", 1],
      ]),
      pendingApprovals: new Set<string>(),
    };
    expect(diffSnapshots(before, after)).toEqual([
      { type: "schedule", id: "a", revision: 3 },
      { type: "schedule", id: "c", revision: 1 },
      { type: "schedule", id: "b" },
    ]);
  });
});
