/**
 * The real `tradecron` binary (dist/bin.js) in child processes, on SQLite: start, /health,
 * /status and the dashboard from @tradecron/http, the status file, restart, commands from a
 * second process, bad configs, init, a taken port, standby. (File storage, where commands go
 * through the service's API: remote.binary.test.ts.)
 */

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { FakeTws } from "@tradecron/broker-ibkr/testing";
import { SqliteStorage } from "@tradecron/storage-sql";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TOKENS, testEnv, writeTestConfig } from "./fixtures.js";
import {
  BIN,
  cleanWork,
  fired,
  killServices,
  requireBuilt,
  startService,
  succeeded,
  tradecron,
  until,
  workDir,
  write,
} from "./helpers.js";

beforeAll(() => requireBuilt());
afterEach(() => killServices());
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) cleanWork(d);
});
function project(): string {
  const dir = workDir();
  dirs.push(dir);
  writeTestConfig(dir);
  return dir;
}

const TICK = { id: "tick", job: "tick", trigger: { every: "1s" } };
const MANUAL = { id: "manual", job: "manual", trigger: { every: "1h" } };

async function get(port: number, path: string, token?: string) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

function readStatusFile(dir: string) {
  return JSON.parse(readFileSync(join(dir, "status.json"), "utf8")) as {
    state: string;
    url: string | null;
    scheduler_started: string;
    last_heartbeat: string;
    jobs: Record<
      string,
      {
        last_start: string | null;
        last_end: string | null;
        status: string | null;
        last_success: string | null;
      }
    >;
  };
}

describe("tradecron start (SQLite)", () => {
  it("serves /health and /status, keeps the status file, and stops on SIGTERM with exit 0; a restart keeps the last runs", async () => {
    const dir = project();
    const env = testEnv([TICK, MANUAL]);
    const service = startService([], { cwd: dir, env });
    const port = (await service.started()) as number;
    expect(service.events("schedules:declared")[0]).toMatchObject({ created: ["tick", "manual"] });
    // Core logs each schedule's next fire at start, once (the CLI does not repeat it).
    const next = service.logs.filter((l) => typeof l.msg === "string" && / next fire /.test(l.msg));
    expect(next.map((l) => l.scheduleId).sort()).toEqual(["manual", "tick"]);
    const health = await get(port, "/health");
    expect(health.status).toBe(200);
    expect(health.json()).toMatchObject({ status: "healthy" });
    await service.waitFor(succeeded("tick"), 10_000, "a tick");
    expect(service.fired("tick")[0]).toMatchObject({ scheduleId: "tick", kind: "scheduled", attempt: 1 });
    expect(service.logs.filter(fired("tick")).length).toBe(service.fired("tick").length);
    // /status is the router's: it needs a token, and answers the per-schedule last and next fire.
    expect((await get(port, "/status")).status).toBe(401);
    const status = (await get(port, "/status", TOKENS.viewer)).json();
    expect(status).toMatchObject({ state: "running", storage: "sqlite" });
    const tick = status.schedules.find((x: { id: string }) => x.id === "tick");
    expect(tick).toMatchObject({ job: "tick", lastStatus: "succeeded", lastSuccessAt: expect.any(String) });
    expect((await get(port, "/metrics", TOKENS.viewer)).text).toMatch(
      /^tradecron_fires_total\{kind="scheduled"\} [1-9]/m,
    );
    expect((await get(port, "/")).status).toBe(200); // the dashboard (after the redirect to /ui/)
    await until(
      () => readStatusFile(dir).jobs.tick?.status === "succeeded",
      8000,
      "the status file to show a success",
    );
    const file = readStatusFile(dir);
    expect(file.scheduler_started).toEqual(expect.any(String));
    expect(file.last_heartbeat).toEqual(expect.any(String));
    expect(file.url).toBe(`http://127.0.0.1:${port}`);
    expect(await service.stop("SIGTERM")).toBe(0);
    expect(service.events("service:stopped")).toHaveLength(1);
    const stopped = readStatusFile(dir);
    expect(stopped.state).toBe("stopped");
    const lastSuccess = stopped.jobs.tick?.last_success;

    // A restart with the same config changes nothing stored and reports the last runs at once.
    const again = startService([], {
      cwd: dir,
      env: testEnv([{ ...TICK, trigger: { every: "1h" } }, MANUAL]),
    });
    const port2 = (await again.started()) as number;
    expect(again.events("schedules:declared")[0]).toMatchObject({
      updated: ["tick"],
      unchanged: ["manual"],
      created: [],
    });
    // Core rebuilt the last runs from storage: the status file says so at once.
    await until(() => readStatusFile(dir).state === "running", 5000, "the new status file");
    expect(readStatusFile(dir).jobs.tick?.last_success).toBe(lastSuccess);
    const rebuilt = (await get(port2, "/status", TOKENS.viewer)).json();
    expect(Date.parse(rebuilt.schedules.find((x: { id: string }) => x.id === "tick").lastSuccessAt)).toBe(
      Date.parse(lastSuccess as string),
    );
    expect(await again.stop("SIGINT")).toBe(0);
  });

  it("answers 503 from /health while stopping, and a second SIGTERM forces the exit (143)", async () => {
    const dir = project();
    const service = startService([], {
      cwd: dir,
      env: testEnv([{ id: "slow", job: "slow", trigger: { every: "1s" }, data: { ms: 20_000 } }], {
        T_STOP: "20s",
      }),
    });
    const port = (await service.started()) as number;
    await service.waitFor(fired("slow"), 10_000, "the slow job to start");
    service.child.kill("SIGTERM");
    await service.waitFor((l) => l.event === "service:stopping", 5000, "stopping");
    const health = await get(port, "/health", TOKENS.viewer);
    expect(health.status).toBe(503);
    expect(health.json()).toMatchObject({
      status: "unhealthy",
      reasons: [expect.stringMatching(/stopping/)],
    });
    service.child.kill("SIGTERM");
    expect(await service.exited).toBe(143);
    expect(service.events("service:forced")).toHaveLength(1);
  });

  it("runs a job from a second process while the service runs, recorded with the actor", async () => {
    const dir = project();
    const service = startService([], {
      cwd: dir,
      env: testEnv([
        MANUAL,
        { id: "broken", job: "failing", trigger: { every: "1h" }, retry: 1 },
        { id: "buy", job: "buy", trigger: { every: "1h" } },
      ]),
    });
    await service.started();
    const ok = await tradecron(["run-job", "manual", "--actor", "alice"], { cwd: dir, env: testEnv([]) });
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toMatch(/^manual: succeeded after 1 attempt/);
    const failed = await tradecron(["run-job", "failing", "--json"], { cwd: dir });
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({
      scheduleId: "broken",
      execution: { status: "failed", error: { message: "broker said no" } },
    });
    const buy = await tradecron(["run-job", "buy"], { cwd: dir });
    expect(buy.code, buy.stderr).toBe(0);
    expect(buy.stderr).toContain("the orders of this run went to this command's own paper account");
    const missing = await tradecron(["run-job", "nope"], { cwd: dir });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain("no schedule or job named 'nope'");
    const history = await tradecron(["history", "--schedule", "manual", "--json"], { cwd: dir });
    expect(JSON.parse(history.stdout).items[0]).toMatchObject({
      kind: "manual",
      actor: "alice",
      status: "succeeded",
      result: { by: "alice" },
    });
    const table = await tradecron(["schedules"], { cwd: dir, env: testEnv([MANUAL]) });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+JOB\s+TRIGGER/);
    expect(table.stdout).toMatch(/broken\s+failing\s+every 3600s\s+active.*undeclared/);
    const preview = await tradecron(["preview", "manual", "-n", "3", "--json"], { cwd: dir });
    expect(JSON.parse(preview.stdout).fires).toHaveLength(3);
    await service.stop();
  });

  it("refuses every bad config with exit 2, naming the file and field, and changes nothing stored", async () => {
    const dir = project();
    const good = startService([], { cwd: dir, env: testEnv([MANUAL]) });
    await good.started();
    await good.stop();
    const before = await stored(dir);
    const cases: [string, string, RegExp][] = [
      [
        "unknown-key.ts",
        `export default { jobs: {}, storage: { type: "sqlite", path: "./tc.db" }, sheduler: {} };`,
        /\(config\): unknown key\(s\): sheduler/,
      ],
      [
        "wrong-type.ts",
        `export default { jobs: {}, storage: { type: "sqlite", path: "./tc.db" }, http: { port: "80" } };`,
        /http\.port: /,
      ],
      [
        "bad-cron.ts",
        `export default { jobs: { t: () => {} }, storage: { type: "sqlite", path: "./tc.db" }, schedules: [{ id: "manual", job: "t", trigger: { cron: "99 * * * *" } }] };`,
        /schedules\[0\]\.trigger\.cron: /,
      ],
      [
        "missing-module.ts",
        `import { jobs } from "./jobs-that-are-not-here"; export default { jobs };`,
        /a module it imports cannot be found/,
      ],
      [
        "throws.ts",
        `throw new Error("API key missing"); export default {};`,
        /loading it threw: API key missing/,
      ],
    ];
    for (const [name, text, message] of cases) {
      const file = write(dir, name, text);
      const result = await tradecron(["start", "--config", name], { cwd: dir });
      expect(result.code, name).toBe(2);
      expect(result.stderr, name).toContain(`invalid config ${file}`);
      expect(result.stderr, name).toMatch(message);
    }
    const json = await tradecron(["validate", "--config", "bad-cron.ts", "--json"], { cwd: dir });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toMatchObject({
      exitCode: 2,
      error: {
        file: join(dir, "bad-cron.ts"),
        issues: [{ field: "schedules[0].trigger.cron", code: "INVALID_CRON" }],
      },
    });
    expect(await stored(dir)).toEqual(before);
  });

  it("exits 3 without touching storage when the health port is taken", async () => {
    const dir = project();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    const result = await tradecron(["start"], {
      cwd: dir,
      env: testEnv([MANUAL], { TRADECRON_HTTP_PORT: String(port) }),
    });
    blocker.close();
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/cannot serve HTTP on 127\.0\.0\.1:\d+/);
    expect(existsSync(join(dir, "tc.db"))).toBe(false);
  });

  it("exits 2 without touching storage when a token's variable is missing or too short, naming it", async () => {
    const dir = project();
    const env = testEnv([MANUAL], { T_VIEWER: "short" });
    delete (env as Record<string, string | undefined>).T_TOKEN;
    const result = await tradecron(["start"], { cwd: dir, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("http.tokens[0].env: T_TOKEN is not set (the token of 'ops')");
    expect(result.stderr).toContain("http.tokens[1].env: T_VIEWER must hold at least 16 characters");
    expect(result.stderr).not.toContain("short");
    expect(existsSync(join(dir, "tc.db"))).toBe(false);
    expect((await tradecron(["validate"], { cwd: dir, env })).code).toBe(2);
  });

  it("stands by with SCHEDULER_ENABLED=false: declares nothing, fires nothing, reports degraded", async () => {
    const dir = project();
    const service = startService([], { cwd: dir, env: testEnv([TICK], { SCHEDULER_ENABLED: "false" }) });
    const port = (await service.started()) as number;
    expect(service.events("scheduler:standby")).toHaveLength(1);
    const health = await get(port, "/health", TOKENS.viewer);
    expect(health.status).toBe(200);
    expect(health.json()).toMatchObject({ status: "degraded", reasons: ["scheduler is paused"] });
    await service.stop();
    expect((await stored(dir)).schedules).toEqual([]);
    expect(service.fired()).toEqual([]);
  });
});

describe("tradecron start with an IBKR broker (a fake TWS speaking the socket protocol)", () => {
  it("connects once, as the service; run-job of a trading job from a shell runs in the service, over its connection", async () => {
    const tws = await FakeTws.start();
    tws.setPrice("SPY", "500");
    try {
      const dir = project();
      const env = testEnv([{ id: "buy", job: "buy", trigger: { every: "1h" } }], {
        T_BROKER: "ibkr",
        T_IBKR_PORT: String(tws.port),
      });
      const service = startService([], { cwd: dir, env });
      await service.started();
      const run = await tradecron(["run-job", "buy", "--json"], { cwd: dir, env });
      expect(run.code, run.stderr).toBe(0);
      const e = JSON.parse(run.stdout).execution;
      expect(e).toMatchObject({ status: "succeeded", actor: "ops" }); // the token's name: it ran in the service
      const orders = tws.orders();
      expect(orders).toHaveLength(1);
      expect(tws.clientIds()).toEqual([7]); // the shell opened no second connection
      // Without the service's API at hand, the shell runs it without a broker (never a second client id 7).
      const alone = await tradecron(["run-job", "buy", "--json"], { cwd: dir, env: { ...env, T_TOKEN: "" } });
      expect(alone.stderr).toContain("the IBKR connection belongs to the running 'tradecron start' process");
      expect(JSON.parse(alone.stdout).execution.result).toMatchObject({
        status: "rejected",
        reason: expect.stringContaining("no broker is configured"),
      });
      expect(tws.orders()).toHaveLength(1);
      expect(tws.clientIds()).toEqual([7]);
      expect(await service.stop()).toBe(0);
    } finally {
      await tws.close();
    }
  });
});

describe("tradecron init", () => {
  it("writes a config, jobs and a systemd unit that validate and start as written", async () => {
    const dir = workDir();
    dirs.push(dir);
    const init = await tradecron(["init", "app", "--storage", "sqlite"], { cwd: dir });
    expect(init.code).toBe(0);
    const app = join(dir, "app");
    const unit = readFileSync(join(app, "tradecron.service"), "utf8");
    expect(unit).toContain("Type=simple");
    expect(unit).toContain("Restart=on-failure");
    expect(unit).toContain(`ExecStart=${process.execPath} ${BIN} start --config ${app}/tradecron.config.ts`);
    expect((await tradecron(["init", "app"], { cwd: dir })).code).toBe(2); // never over existing files
    // A token of its own in the private env file (read by the unit, and by the config in a shell).
    const envFile = readFileSync(join(app, "tradecron.env"), "utf8");
    const token = /^TRADECRON_ADMIN_TOKEN=([A-Za-z0-9_-]{40,})$/m.exec(envFile)?.[1] as string;
    expect(token).toEqual(expect.any(String));
    expect(statSync(join(app, "tradecron.env")).mode & 0o077).toBe(0);
    const other = await tradecron(["init", "other"], { cwd: dir });
    expect(other.code).toBe(0);
    expect(readFileSync(join(dir, "other", "tradecron.env"), "utf8")).not.toContain(token);
    const valid = await tradecron(["validate"], { cwd: app });
    expect(valid.stdout).toMatch(
      /ok \(3 job\(s\), 3 schedule\(s\), storage sqlite \S+tradecron\.db, broker paper, http 127\.0\.0\.1:8080\/ with 1 token\(s\)\)/,
    );
    const service = startService([], { cwd: app, env: { TRADECRON_HTTP_PORT: "0" } });
    const port = (await service.started()) as number;
    expect((await get(port, "/health")).status).toBe(200);
    const signIn = await fetch(`http://127.0.0.1:${port}/auth/session`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: `http://127.0.0.1:${port}` },
      body: JSON.stringify({ token }),
    });
    expect(signIn.status).toBe(201);
    expect(await signIn.json()).toMatchObject({ name: "admin", role: "admin" });
    expect(service.events("schedules:declared")[0]).toMatchObject({
      created: ["daily-snapshot", "exit-check", "weekly-report"],
    });
    expect(await service.stop()).toBe(0);
    expect(existsSync(join(app, "logs", "scheduler_status.json"))).toBe(true);
    let analyze: string | null = null;
    try {
      analyze = execFileSync("systemd-analyze", ["verify", join(app, "tradecron.service")], {
        encoding: "utf8",
        stdio: "pipe",
      });
    } catch (error) {
      const e = error as { code?: string; stderr?: string };
      // Without systemd-analyze on the machine there is nothing to ask; a verify failure is a finding.
      if (e.code !== "ENOENT") analyze = `FAILED: ${e.stderr}`;
    }
    if (analyze !== null) expect(analyze).not.toMatch(/FAILED/);
  });
});

/** What the SQLite file of `dir` holds: schedules with revisions, and the audit log's length. */
async function stored(dir: string) {
  const storage = new SqliteStorage({ path: join(dir, "tc.db") });
  await storage.open();
  try {
    const schedules = (await storage.listSchedules()).map((s) => [s.id, s.revision]);
    const audit = await storage.listAudit({ limit: 1000 });
    return { schedules, audit: audit.items.length };
  } finally {
    await storage.close();
  }
}
