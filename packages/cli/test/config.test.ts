import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.js";
import { resolveConfig } from "../src/config/validate.js";
import { ConfigError } from "../src/errors.js";
import { cleanWork, configIssues, workDir, write } from "./helpers.js";

const dir = workDir();
afterAll(() => cleanWork(dir));

const JOBS = `jobs: { snap: async () => ({ ok: true }), report: { handler: async () => null, description: "weekly" } }`;

async function issuesOf(text: string, name = `c${Math.random().toString(36).slice(2)}.ts`, env = {}) {
  const file = write(dir, name, text);
  const error = await loadConfig({ path: file, cwd: dir, env }).catch((e: unknown) => e);
  expect(error, `expected ${name} to be rejected`).toBeInstanceOf(ConfigError);
  const e = error as ConfigError;
  expect(e.file).toBe(file);
  expect(e.message).toContain(file);
  return e.issues.map((i) => [i.field, i.message]);
}

describe("config: what a valid file gives", () => {
  it("fills the defaults, resolves paths against the config's folder and registers jobs by name", async () => {
    const file = write(
      dir,
      "good.ts",
      `export default { ${JOBS}, schedules: [{ id: "snap", job: "snap", trigger: { cron: "35 16 * * *" } }],
        storage: { type: "sqlite", path: "data/x.db" }, statusFile: "logs/status.json" };`,
    );
    const c = await loadConfig({ path: file, cwd: "/", env: {} });
    expect(c.storage).toEqual({ type: "sqlite", path: `${dir}/data/x.db` });
    expect(c.statusFile).toEqual({ path: `${dir}/logs/status.json`, intervalMs: 5000 });
    expect(c.jobs.map((j) => [j.name, j.description])).toEqual([
      ["snap", null],
      ["report", "weekly"],
    ]);
    expect(c.schedules[0]?.trigger).toEqual({ cron: "35 16 * * *", timezone: "UTC" });
    expect(c.http).toEqual({
      port: 8080,
      host: "127.0.0.1",
      basePath: "",
      tokens: [],
      dashboard: true,
      publicHealth: true,
      publicMetrics: false,
      rateLimits: {},
    });
    expect(c.scheduler).toMatchObject({ enabled: true, stopTimeoutMs: 30_000, removeUndeclared: true });
    expect(c.notifiers).toEqual([{ type: "console" }]);
  });

  it("reads JSON configs and default-export functions", async () => {
    const json = write(dir, "tc.json", JSON.stringify({ jobs: {}, storage: { type: "memory" } }));
    expect((await loadConfig({ path: json, env: {} })).storage).toEqual({ type: "memory" });
    const fn = write(
      dir,
      "fn.mjs",
      `export default ({ env }) => ({ jobs: {}, scheduler: { instanceId: env.WHO } });`,
    );
    expect((await loadConfig({ path: fn, env: { WHO: "box-1" } })).scheduler.instanceId).toBe("box-1");
  });
});

describe("config: every problem names the file and the field", () => {
  it("an unknown key, at the top and nested", async () => {
    expect(await issuesOf(`export default { ${JOBS}, schedulers: {} };`)).toEqual([
      ["", "unknown key(s): schedulers"],
    ]);
    expect(await issuesOf(`export default { ${JOBS}, http: { prot: 80 } };`)).toEqual([
      ["http", expect.stringContaining("prot")],
    ]);
    const nested = await issuesOf(
      `export default { ${JOBS}, schedules: [{ id: "a", job: "snap", trigger: { cron: "* * * * *" }, retries: 3 }] };`,
    );
    expect(nested[0]?.[0]).toBe("schedules[0].retries");
    expect(nested[0]?.[1]).toMatch(/retries/);
  });

  it("a wrong type", async () => {
    expect(await issuesOf(`export default { ${JOBS}, scheduler: { enabled: "yes" } };`)).toEqual([
      ["scheduler.enabled", expect.stringMatching(/boolean/)],
    ]);
    expect(await issuesOf(`export default { jobs: { snap: 42 } };`)).toEqual([
      ["jobs.snap", expect.any(String)],
    ]);
  });

  it("an invalid cron, an unknown zone, an unknown job, a duplicate or missing id", async () => {
    const issues = await issuesOf(`export default { ${JOBS}, schedules: [
      { id: "a", job: "snap", trigger: { cron: "61 * * * *" } },
      { id: "b", job: "snap", trigger: { cron: "0 9 * * *", timezone: "Mars/Olympus" } },
      { id: "c", job: "nope", trigger: { every: "1m" } },
      { id: "a", job: "snap", trigger: { every: "1m" } },
      { job: "snap", trigger: { every: "1m" } },
      { id: "d", job: "snap", trigger: { every: "1m" }, retry: { attempts: 0 } },
    ] };`);
    expect(issues.map((i) => i[0])).toEqual([
      "schedules[0].trigger.cron",
      "schedules[1].trigger.timezone",
      "schedules[2].job",
      "schedules[3].id",
      "schedules[4].id",
      "schedules[5].retry.attempts",
    ]);
    expect(issues[2]?.[1]).toContain("unknown job 'nope' (jobs: snap, report)");
  });

  it("bad risk limits, durations, notifiers, storage", async () => {
    const issues =
      await issuesOf(`export default { ${JOBS}, risk: { maxOrderNotional: "lots", maxOpenOrders: 1.5 },
      scheduler: { stopTimeout: "soon" } };`);
    expect(issues.map((i) => i[0])).toEqual([
      "scheduler.stopTimeout",
      "risk.maxOrderNotional",
      "risk.maxOpenOrders",
    ]);
    expect(
      (
        await issuesOf(`export default { ${JOBS}, notifiers: [{ type: "webhook", url: "ftp://x" }] };`)
      )[0]?.[0],
    ).toBe("notifiers[0].url");
    expect(await issuesOf(`export default { ${JOBS}, storage: { type: "postgres" } };`)).toEqual([
      ["storage.url", expect.stringContaining("DATABASE_URL")],
    ]);
  });

  it("a missing module, a config that throws, a syntax error, a non-object, a missing file, bad JSON", async () => {
    expect(
      (await issuesOf(`import { x } from "./not-there"; export default { jobs: { x } };`))[0]?.[1],
    ).toMatch(/cannot be found|Cannot find/);
    expect((await issuesOf(`throw new Error("no API key"); export default {};`))[0]?.[1]).toBe(
      "loading it threw: no API key",
    );
    expect((await issuesOf(`export default { jobs: { ,, } };`))[0]?.[1]).toMatch(
      /^(syntax error|loading it threw)/,
    );
    expect(await issuesOf(`export default 42;`)).toEqual([
      ["", expect.stringContaining("must export an object")],
    ]);
    expect((await issuesOf(`{ "jobs": `, "bad.json"))[0]?.[1]).toMatch(/^not valid JSON/);
    const missing = await loadConfig({ path: `${dir}/none.ts`, env: {} }).catch((e: unknown) => e);
    expect((missing as ConfigError).issues[0]?.message).toBe("config file not found");
    const none = await loadConfig({ cwd: `${dir}/..`, env: {} }).catch((e: unknown) => e);
    expect((none as ConfigError).issues[0]?.message).toMatch(/tradecron init/);
  });
});

describe("config: the environment", () => {
  const base = {
    jobs: { snap: () => {} },
    schedules: [{ id: "s", job: "snap", trigger: { cron: "15 22 * * *" } }],
  };

  it("maps the seeds' variables: SCHEDULER_ENABLED, SCHEDULER_TIMEZONE, SCHEDULER_WEBHOOK_URL, DATABASE_URL, LOG_LEVEL", () => {
    const c = resolveConfig({ ...base, storage: { type: "postgres" } }, "/x/c.ts", {
      SCHEDULER_ENABLED: "false",
      SCHEDULER_TIMEZONE: "America/New_York",
      SCHEDULER_WEBHOOK_URL: "https://hooks.example.com/notify",
      SCHEDULER_WEBHOOK_SECRET: "s3cret",
      DATABASE_URL: "postgres://app:pw@db/prod",
      LOG_LEVEL: "INFO",
    });
    expect(c.scheduler.enabled).toBe(false);
    expect(c.schedules[0]?.trigger).toEqual({ cron: "15 22 * * *", timezone: "America/New_York" });
    expect(c.notifiers).toEqual([
      { type: "console" },
      { type: "webhook", url: "https://hooks.example.com/notify", secret: "s3cret" },
    ]);
    expect(c.storage).toEqual({ type: "postgres", url: "postgres://app:pw@db/prod" });
    expect(c.logLevel).toBe("info");
  });

  it("lets TRADECRON_* win over the aliases, and overrides storage, http and the status file", () => {
    const c = resolveConfig(
      base,
      "/x/c.ts",
      {
        TRADECRON_ENABLED: "true",
        SCHEDULER_ENABLED: "false",
        TRADECRON_STORAGE: "sqlite:./here.db",
        TRADECRON_HTTP_PORT: "0",
        TRADECRON_STATUS_FILE: "off",
      },
      { cwd: "/run" },
    );
    expect(c.scheduler.enabled).toBe(true);
    expect(c.storage).toEqual({ type: "sqlite", path: "/run/here.db" });
    expect(c.http).toMatchObject({ port: 0, host: "127.0.0.1" });
    expect(c.statusFile).toBeNull();
    expect(resolveConfig(base, "/x/c.ts", { TRADECRON_HTTP_PORT: "off" }).http).toBeNull();
  });

  it("builds notifiers with core's notifierFromConfig: a missing secret is a config error, the webhook is never doubled", () => {
    const error = (() => {
      try {
        resolveConfig({ ...base, notifiers: [{ type: "console" }, { type: "slack" }] }, "/x/c.ts", {});
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error?.issues).toEqual([
      expect.objectContaining({
        field: "notifiers[1].url",
        message: expect.stringContaining("TRADECRON_SLACK_WEBHOOK_URL"),
      }),
    ]);
    const env = {
      TRADECRON_WEBHOOK_URL: "https://hooks.example.com/a",
      TRADECRON_SLACK_WEBHOOK_URL: "https://hooks.slack.com/x",
    };
    // A webhook entry without a url reads the variable itself: no second webhook is added.
    const c = resolveConfig(
      { ...base, notifiers: [{ type: "webhook" }, { type: "slack", minSeverity: "critical" }] },
      "/x/c.ts",
      env,
    );
    expect(c.notifiers).toEqual([{ type: "webhook" }, { type: "slack", minSeverity: "critical" }]);
  });

  it("names a bad variable without echoing its value", () => {
    const error = (() => {
      try {
        resolveConfig(base, "/x/c.ts", {
          TRADECRON_HTTP_PORT: "http",
          SCHEDULER_WEBHOOK_URL: "not a url secret-token",
        });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.file).toBe("environment");
    expect(error?.issues.map((i) => i.field)).toEqual(["SCHEDULER_WEBHOOK_URL", "TRADECRON_HTTP_PORT"]);
    expect(error?.describe()).not.toContain("secret-token");
  });
});

describe("config: the broker and notifier types", () => {
  const base = { jobs: {} };
  const problems = configIssues;

  it("alpaca: paper by default, keys from APCA_API_KEY_ID / APCA_API_SECRET_KEY or the variables named, never written in the file", async () => {
    const c = resolveConfig(
      { ...base, broker: { type: "alpaca", baseUrl: "http://127.0.0.1:1" } },
      "/x/c.ts",
      {},
    );
    expect(c.broker).toEqual({ kind: "type", config: { type: "alpaca", baseUrl: "http://127.0.0.1:1" } });
    const { createBroker } = await import("../src/build/brokers.js");
    const ctx = {
      configDir: "/x",
      env: { APCA_API_KEY_ID: "PKTESTKEY0001", APCA_API_SECRET_KEY: "s".repeat(40) },
    };
    const broker = await createBroker(c.broker as never, ctx);
    expect(broker.name).toBe("alpaca");
    expect(JSON.stringify(broker)).not.toContain("s".repeat(40));
    // Missing keys name the field and the variable, and are a config error of the file at start.
    const missing = await createBroker(c.broker as never, { configDir: "/x", env: {} }).catch(
      (e: unknown) => e,
    );
    expect((missing as { issues: { field: string; message: string }[] }).issues).toEqual([
      expect.objectContaining({ field: "broker.keyId", message: "APCA_API_KEY_ID is not set" }),
      expect.objectContaining({ field: "broker.secretKey", message: "APCA_API_SECRET_KEY is not set" }),
    ]);
    const named = resolveConfig(
      { ...base, broker: { type: "alpaca", keyId: { env: "MY_KEY" }, secretKey: { env: "MY_SECRET" } } },
      "/x/c.ts",
      {},
    );
    const other = await createBroker(named.broker as never, { configDir: "/x", env: {} }).catch(
      (e: unknown) => e,
    );
    expect((other as { issues: { message: string }[] }).issues.map((i) => i.message)).toEqual([
      "MY_KEY is not set",
      "MY_SECRET is not set",
    ]);
    expect(
      problems(() =>
        resolveConfig(
          { ...base, broker: { type: "alpaca", keyId: "PK123", streamUrl: "http://x" } },
          "/x/c.ts",
          {},
        ),
      ),
    ).toEqual([
      expect.stringMatching(/^broker\.keyId: /),
      expect.stringMatching(/^broker\.streamUrl: must be a ws\(s\) URL/),
    ]);
  });

  it("ibkr: @tradecron/broker-ibkr's IbkrBroker, its options checked by it under broker., its connection the service's", async () => {
    const { createBroker, serviceOnlyBroker } = await import("../src/build/brokers.js");
    const c = resolveConfig({ ...base, broker: { type: "ibkr", port: 4002, clientId: 7 } }, "/x/c.ts", {});
    const broker = await createBroker(c.broker as never, { configDir: "/x", env: {} });
    expect(broker.name).toBe("ibkr");
    expect(broker.isConnected()).toBe(false); // built, not connected
    expect(serviceOnlyBroker(c.broker)).toMatch(
      /IBKR connection belongs to the running 'tradecron start' process/,
    );
    const bad = resolveConfig({ ...base, broker: { type: "ibkr", currency: "usd" } }, "/x/c.ts", {});
    const error = await createBroker(bad.broker as never, { configDir: "/x", env: {} }).catch(
      (e: unknown) => e,
    );
    expect((error as { issues: { field: string }[] }).issues.map((i) => i.field)).toEqual([
      "broker.currency",
    ]);
    expect(
      problems(() => resolveConfig({ ...base, broker: { type: "ibkr", password: "x" } }, "/x/c.ts", {})),
    ).toEqual([expect.stringMatching(/^broker: unknown key\(s\): password/)]);
  });

  it("email: @tradecron/notify-email's type, checked like core's (a missing secret names the entry)", () => {
    const email = { type: "email", from: "bot@example.com", to: "ops@example.com" };
    expect(
      resolveConfig({ ...base, notifiers: [email] }, "/x/c.ts", {
        TRADECRON_SMTP_URL: "smtp://127.0.0.1:2525",
      }).notifiers,
    ).toEqual([email]);
    expect(problems(() => resolveConfig({ ...base, notifiers: [email] }, "/x/c.ts", {}))).toEqual([
      expect.stringMatching(/^notifiers\[0\]\.url: .*TRADECRON_SMTP_URL/),
    ]);
    expect(
      problems(() =>
        resolveConfig({ ...base, notifiers: [{ ...email, smtp: { host: "h", prot: 1 } }] }, "/x/c.ts", {}),
      ),
    ).toEqual([expect.stringMatching(/^notifiers\[0\]\.smtp/)]);
  });
});
