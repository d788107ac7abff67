/**
 * The real binary on PostgreSQL, where several processes share one database: two services
 * starting at the same instant, run-job and pause-all from a second process while a service
 * runs, approvals from the shell, and SIGTERM with a long job running.
 */

import { PostgresStorage } from "@tradecron/storage-sql";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type TestSchedule, testEnv, writeTestConfig } from "./fixtures.js";
import {
  cleanWork,
  dropSchema,
  fired,
  killServices,
  PG_URL,
  requireBuilt,
  type ServiceProcess,
  startService,
  succeeded,
  tradecron,
  uniqueSchema,
  until,
  usePostgres,
  workDir,
} from "./helpers.js";

usePostgres();
beforeAll(() => requireBuilt());
afterEach(() => killServices());

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A project folder on a schema of its own; its services are stopped and the schema dropped after. */
function pgProject(schedules: TestSchedule[], extra: Record<string, string> = {}) {
  const dir = workDir();
  writeTestConfig(dir);
  const schema = uniqueSchema();
  const env = testEnv(schedules, { T_STORAGE: "postgres", T_PG: PG_URL, T_SCHEMA: schema, ...extra });
  const services: ServiceProcess[] = [];
  cleanups.push(async () => {
    for (const s of services) await s.stop("SIGKILL");
    await dropSchema(schema);
    cleanWork(dir);
  });
  return {
    dir,
    schema,
    env,
    start(more: Record<string, string> = {}) {
      const s = startService([], { cwd: dir, env: { ...env, ...more } });
      services.push(s);
      return s;
    },
    run: (args: string[], more: Record<string, string> = {}) =>
      tradecron(args, { cwd: dir, env: { ...env, ...more } }),
    async storage() {
      const storage = new PostgresStorage({
        connectionString: PG_URL,
        schema,
        poolSize: 2,
        warmConnections: 0,
        notify: false,
      });
      await storage.open();
      return storage;
    },
  };
}

const TICK = { id: "tick", job: "tick", trigger: { every: "1s" } };
const MANUAL = { id: "manual", job: "manual", trigger: { every: "1h" } };
const PROPOSE = { id: "propose", job: "propose", trigger: { every: "1h" } };

describe("tradecron on PostgreSQL", () => {
  it("two processes starting with the same config at the same instant: no error, one set, one revision", async () => {
    const schedules = Array.from({ length: 12 }, (_, i) => ({
      id: `s${i}`,
      job: "manual",
      trigger: { every: `${60 + i}m` },
    }));
    const p = pgProject(schedules);
    const [a, b] = [p.start({ TRADECRON_INSTANCE_ID: "a" }), p.start({ TRADECRON_INSTANCE_ID: "b" })];
    await Promise.all([a.started(20_000), b.started(20_000)]);
    const [da, db] = [a.events("schedules:declared")[0], b.events("schedules:declared")[0]];
    const created = [...((da?.created as string[]) ?? []), ...((db?.created as string[]) ?? [])].sort();
    expect(created).toEqual(schedules.map((s) => s.id).sort());
    expect(a.stderr + b.stderr).toBe("");
    const storage = await p.storage();
    try {
      expect((await storage.listSchedules()).map((s) => s.revision)).toEqual(schedules.map(() => 1));
      // Declared schedules are created together (createSchedules): one batch entry lists them.
      const creates = await storage.listAudit({ action: "schedule.create_batch", limit: 100 });
      expect(creates.items.flatMap((e) => (e.details as { ids: string[] }).ids).sort()).toEqual(
        schedules.map((s) => s.id).sort(),
      );
    } finally {
      await storage.close();
    }
    expect(await Promise.all([a.stop(), b.stop()])).toEqual([0, 0]);
  });

  it("run-job and pause-all from a second process while the service runs: the pause stops fires, resume-all restarts them", async () => {
    const p = pgProject([TICK, MANUAL]);
    const service = p.start();
    await service.started();
    const run = await p.run(["run-job", "manual", "--actor", "ops-bob", "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).execution).toMatchObject({
      kind: "manual",
      actor: "ops-bob",
      status: "succeeded",
    });
    await service.waitFor(succeeded("tick"), 10_000, "a tick");

    const pause = await p.run(["pause-all", "--reason", "broker outage", "--actor", "ops-bob"]);
    expect(pause.code).toBe(0);
    expect(pause.stdout).toMatch(/^pause-all is in force \(by ops-bob/);
    await service.waitFor(
      (l) => typeof l.msg === "string" && l.msg.startsWith("emergency pause-all by ops-bob"),
      5000,
      "the service to see pause-all",
    );
    const firesAtPause = service.fired().length;
    const refused = await p.run(["run-job", "manual"]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain("pause-all is in force");
    await new Promise((r) => setTimeout(r, 2500));
    expect(service.fired().length).toBe(firesAtPause);
    const status = await p.run(["status"]);
    expect(status.stdout).toMatch(/^pause-all: ON since .* by ops-bob \(broker outage\)/);

    expect((await p.run(["resume-all"])).code).toBe(0);
    await until(() => service.fired().length > firesAtPause, 5000, "fires to resume");
    const audit = await (async () => {
      const storage = await p.storage();
      try {
        return (await storage.listAudit({ limit: 100 })).items.map((a) => `${a.actor} ${a.action}`);
      } finally {
        await storage.close();
      }
    })();
    expect(audit).toEqual(
      expect.arrayContaining(["ops-bob scheduler.pause_all", "ops-bob schedule.trigger"]),
    );
    expect(await service.stop()).toBe(0);
  });

  it("approvals from the shell: list, reject, approve (the paper broker's through the service's API, a shared broker's directly)", async () => {
    const p = pgProject([PROPOSE]);
    const service = p.start();
    await service.started();
    for (let i = 0; i < 3; i++) expect((await p.run(["run-job", "propose"])).code).toBe(0);
    const list = JSON.parse((await p.run(["approvals", "--json"])).stdout) as {
      id: string;
      status: string;
    }[];
    expect(list.map((a) => a.status)).toEqual(["pending", "pending", "pending"]);
    const [first, second, third] = list.map((a) => a.id) as [string, string, string];

    // The paper account lives in the service: without a token for its API, approving is refused.
    const refused = await p.run(["approvals", "approve", first], { T_TOKEN: "" });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      "the paper broker's account lives inside the running 'tradecron start' process",
    );
    expect(refused.stderr).toContain("needs a token: pass --token or set TRADECRON_TOKEN");

    const reject = await p.run(["approvals", "reject", first, "--reason", "too late in the day"]);
    expect(reject.code).toBe(0);
    expect((await p.run(["approvals", "reject", first])).code).toBe(5);
    expect((await p.run(["approvals", "reject", "ap-unknown"])).code).toBe(4);

    // With the config's token at hand, approve goes through the service (url from its status file).
    const viaApi = await p.run(["approvals", "approve", second, "--json"]);
    expect(viaApi.code, viaApi.stderr).toBe(0);
    expect(JSON.parse(viaApi.stdout)).toEqual([
      expect.objectContaining({ id: second, ok: true, status: "submitted" }),
    ]);
    // A broker the shell reaches (a factory) is approved from the shell itself.
    const direct = await p.run(["approvals", "approve", third, "--json"], { T_BROKER: "factory" });
    expect(direct.code, direct.stderr).toBe(0);
    expect(JSON.parse(direct.stdout)).toEqual([
      expect.objectContaining({ id: third, ok: true, status: "submitted" }),
    ]);
    const after = JSON.parse((await p.run(["approvals", "--status", "rejected,submitted", "--json"])).stdout);
    const decided = new Map(
      after.map((a: { id: string; status: string; decidedBy: string }) => [a.id, [a.status, a.decidedBy]]),
    );
    expect(decided.get(first)).toEqual(["rejected", expect.stringMatching(/^cli:/)]);
    expect(decided.get(second)).toEqual(["submitted", "ops"]); // the token's name
    expect(decided.get(third)).toEqual(["submitted", expect.stringMatching(/^cli:/)]);
    // The order of the API's approval was placed by the service's own paper account.
    const orders = await fetch(
      `${JSON.parse((await p.run(["status", "--json"])).stdout).service.snapshot.url}/orders`,
      {
        headers: { authorization: `Bearer ${p.env.T_TOKEN}` },
      },
    ).then((r) => r.json() as Promise<{ items: { approvalId: string }[] }>);
    expect(orders.items.map((o) => o.approvalId)).toContain(second);
    await service.stop();
  });

  it("SIGTERM with a long job running: the job finishes within the deadline and is recorded", async () => {
    const p = pgProject([{ id: "slow", job: "slow", trigger: { every: "2s" }, data: { ms: 2500 } }], {
      T_STOP: "15s",
    });
    const service = p.start();
    await service.started();
    const started = await service.waitFor(fired("slow"), 10_000, "the slow job to start");
    const stopAt = Date.now();
    expect(await service.stop("SIGTERM")).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(15_000);
    const storage = await p.storage();
    try {
      const e = await storage.getExecution(started.executionId as string);
      expect(e).toMatchObject({ status: "succeeded", result: { slept: 2500 } });
    } finally {
      await storage.close();
    }
  });

  it("SIGTERM with a job longer than the deadline, a second instance running: the fire is handed over, never lost", async () => {
    const p = pgProject([{ id: "slow", job: "slow", trigger: { every: "2s" }, data: { ms: 5000 } }], {
      T_STOP: "500ms",
      T_LEASE: "2s",
    });
    const a = p.start({ TRADECRON_INSTANCE_ID: "a" });
    await a.started();
    const started = await a.waitFor(fired("slow"), 10_000, "the slow job to start on a");
    const b = p.start({ TRADECRON_INSTANCE_ID: "b" });
    await b.started();
    const stopAt = Date.now();
    expect(await a.stop("SIGTERM")).toBe(0);
    // a exits at its deadline without cancelling the run (nothing recorded cancelled), giving the
    // attempt back ...
    expect(Date.now() - stopAt).toBeLessThan(5000);
    expect(a.events("service:handed-over")[0]).toMatchObject({ scheduleIds: ["slow"] });
    const storage = await p.storage();
    try {
      let final: Awaited<ReturnType<typeof storage.getExecution>> = null;
      await until(
        async () => {
          const e = await storage.getExecution(started.executionId as string);
          final = e && e.status !== "running" && e.status !== "claimed" ? e : null;
          return final !== null;
        },
        20_000,
        "the fire to end",
      );
      // ... and b takes it over: the same fire, as the same attempt (a deploy consumes no retry).
      expect(final).toMatchObject({
        status: "succeeded",
        instanceId: "b",
        attempts: 1,
        result: { attempt: 1 },
      });
    } finally {
      await storage.close();
    }
  });
});
