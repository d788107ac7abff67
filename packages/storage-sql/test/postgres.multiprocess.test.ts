/**
 * Promise 1 on PostgreSQL, end to end: three scheduler processes share one database for 60 s with
 * an every-second schedule and 200 one-off fires; one of them is killed with -9 a third of the way
 * in. Exactly-once is judged from the handlers' own side effects, recorded in a table without a
 * unique constraint (a double run would show as two rows).
 */

import { fireIdempotencyKey, Scheduler } from "@tradecron/core";
import { afterAll, describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { type Child, requireBuilt, spawnChild, until } from "./helpers/children.js";
import { adminPool, dropSchema, PG_URL, uniqueSchema, usePostgres } from "./helpers/pg.js";

usePostgres();

const RUN_MS = 60_000;
const KILL_AT_MS = 20_000;
const LEASE_MS = 3000;
const ONE_OFFS = 200;

/** Waits for a wall-clock instant: this scenario is defined in real time (fires every second). */
function waitUntil(instant: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, instant - Date.now())));
}

describe("PostgresStorage with three scheduler processes on one database", () => {
  const schema = uniqueSchema();
  const children: Child[] = [];
  afterAll(async () => {
    for (const c of children) if (c.process.exitCode === null) c.process.kill("SIGKILL");
    await dropSchema(schema);
  });

  it("runs every fire exactly once for 60 s and hands the fires of a killed instance to the others after its lease", async () => {
    requireBuilt();
    const db = adminPool();
    const storage = new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 3 });
    await storage.open();
    await db.query(`CREATE TABLE "${schema}".side_effects (
        idempotency_key text NOT NULL, schedule_id text NOT NULL, scheduled_at bigint NOT NULL,
        instance text NOT NULL, attempt integer NOT NULL, phase text NOT NULL, at bigint NOT NULL)`);

    // The test's own scheduler only writes schedules and the pause switch; it never starts.
    const admin = new Scheduler({ storage, instanceId: "test-admin" });
    admin.register("tick", () => {});
    admin.register("once", () => {});
    const base = Date.now() + 3000;
    const onceAt = (i: number) => base + 4000 + i * 250;
    for (let i = 0; i < ONE_OFFS / 2; i++) {
      await admin.createSchedule({ id: `once-${i}`, job: "once", trigger: { at: onceAt(i) } });
    }

    const names = ["instance-a", "instance-b", "instance-c"];
    for (const name of names) {
      children.push(
        spawnChild(name, "scheduler-child.mjs", {
          backend: "postgres",
          url: PG_URL,
          schema,
          instanceId: name,
          leaseMs: LEASE_MS,
          jobs: { tick: 50, once: 1500 },
        }),
      );
    }
    await Promise.all(children.map((c) => c.waitFor("started", 15_000)));
    // The every-second schedule and the second half of the one-offs are created while the
    // instances run: they learn of them through LISTEN/NOTIFY. (Created earlier, the seconds
    // before the instances start would be misfires, recorded as skipped: the `skip` policy.)
    await admin.createSchedule({
      id: "tick",
      job: "tick",
      trigger: { cron: "* * * * * *" },
      overlap: "allow",
    });
    for (let i = ONE_OFFS / 2; i < ONE_OFFS; i++) {
      await admin.createSchedule({ id: `once-${i}`, job: "once", trigger: { at: onceAt(i) } });
    }

    await waitUntil(base + KILL_AT_MS);
    const [a, victim, c] = children as [Child, Child, Child];
    victim.send({ type: "freeze" });
    const frozen = await victim.waitFor("frozen", 15_000);
    const killAt = Date.now();
    victim.process.kill("SIGKILL");
    await victim.exited;

    await waitUntil(base + RUN_MS);
    const pausedAt = Date.now();
    await admin.pauseAll({ actor: "test" });
    const seen = await Promise.all([a.waitFor("paused-all", 5000), c.waitFor("paused-all", 5000)]);
    await until(
      async () =>
        (await db.query(`SELECT 1 FROM "${schema}".executions WHERE status IN ('claimed', 'running')`))
          .rowCount === 0,
      20_000,
      "every claimed fire finishes",
    );
    a.process.kill("SIGTERM");
    c.process.kill("SIGTERM");
    expect(await a.exited).toBe(0);
    expect(await c.exited).toBe(0);

    // --- what ran ---------------------------------------------------------------------------
    const errors = children.flatMap((child) => child.of("error").map((m) => m.message));
    expect(errors).toEqual([]);
    const executions = (
      await db.query<{
        schedule_id: string;
        scheduled_at: string;
        status: string;
        reason: string | null;
        attempts: number;
        instance_id: string;
        idempotency_key: string;
      }>(
        `SELECT schedule_id, scheduled_at, status, reason, attempts, instance_id, idempotency_key
           FROM "${schema}".executions`,
      )
    ).rows.map((r) => ({ ...r, scheduled_at: Number(r.scheduled_at) }));
    expect(executions.filter((e) => e.status !== "succeeded")).toEqual([]);
    const effects = (
      await db.query<{
        idempotency_key: string;
        instance: string;
        attempt: number;
        phase: string;
        at: string;
      }>(`SELECT idempotency_key, instance, attempt, phase, at FROM "${schema}".side_effects`)
    ).rows.map((r) => ({ ...r, at: Number(r.at) }));
    const effectCount = new Map<string, number>();
    for (const e of effects) {
      if (e.phase === "effect")
        effectCount.set(e.idempotency_key, (effectCount.get(e.idempotency_key) ?? 0) + 1);
    }

    // None twice: no fire has two side effects.
    expect([...effectCount].filter(([, n]) => n !== 1)).toEqual([]);
    // None lost: every one-off fire has its side effect...
    const missing = Array.from({ length: ONE_OFFS }, (_, i) =>
      fireIdempotencyKey(`once-${i}`, onceAt(i)),
    ).filter((key) => effectCount.get(key) !== 1);
    expect(missing).toEqual([]);
    // ...and the every-second schedule ran each second, without a gap, from its first fire on.
    const ticks = executions
      .filter((e) => e.schedule_id === "tick")
      .map((e) => e.scheduled_at)
      .sort((x, y) => x - y);
    expect(ticks.length).toBeGreaterThanOrEqual(RUN_MS / 1000 - 5);
    const gaps = ticks.filter((t, i) => i > 0 && t - (ticks[i - 1] as number) !== 1000);
    expect(gaps).toEqual([]);
    for (const t of ticks) expect(effectCount.get(fireIdempotencyKey("tick", t)), `tick ${t}`).toBe(1);
    // Every instance took part.
    const byInstance = new Set(effects.filter((e) => e.phase === "effect").map((e) => e.instance));
    expect([...byInstance].sort()).toEqual(names);

    // --- the takeover -----------------------------------------------------------------------
    // The victim's fires in flight at the kill started (attempt 1) but never had an effect...
    const victimStarted = new Set(
      effects.filter((e) => e.instance === "instance-b" && e.phase === "start").map((e) => e.idempotency_key),
    );
    const victimDone = new Set(
      effects
        .filter((e) => e.instance === "instance-b" && e.phase === "effect")
        .map((e) => e.idempotency_key),
    );
    const orphaned = [...victimStarted].filter((key) => !victimDone.has(key));
    expect(orphaned.length).toBeGreaterThanOrEqual(Number(frozen.frozen));
    expect(orphaned.length).toBeGreaterThan(0);
    const takenOver = executions.filter((e) => e.attempts > 1);
    expect(takenOver.map((e) => e.idempotency_key).sort()).toEqual(
      expect.arrayContaining([...orphaned].sort()),
    );
    for (const e of takenOver) {
      // ...were run by a survivor as attempt 2 with the same idempotency key, once, and only
      // after the victim's lease had run out (it renewed leases until the kill).
      expect(e.instance_id).not.toBe("instance-b");
      expect(e.attempts).toBe(2);
      const rerun = effects.filter((x) => x.idempotency_key === e.idempotency_key && x.attempt === 2);
      expect(rerun.map((x) => x.phase).sort()).toEqual(["effect", "start"]);
      const start = rerun.find((x) => x.phase === "start");
      expect(start?.at).toBeGreaterThanOrEqual(killAt + LEASE_MS - LEASE_MS / 3 - 100);
    }

    // --- pause-all reached the other instances within 1 s -----------------------------------
    for (const msg of seen) expect(Number(msg.at) - pausedAt).toBeLessThan(1000);

    await storage.close();
  }, 150_000);
});
