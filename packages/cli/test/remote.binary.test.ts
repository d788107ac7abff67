/**
 * Every command through a running instance's REST API (RemoteOperations), against one real
 * `tradecron start` on FileStorage, whose single-writer lock is why: the issue's `run-job` that
 * failed with STORAGE_LOCKED while the service ran. One service serves the whole file (started
 * once: the tests only add executions and decisions, and each looks at its own).
 */

import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/cli.js";
import { TOKENS, testEnv, writeTestConfig } from "./fixtures.js";
import {
  cleanWork,
  requireBuilt,
  type ServiceProcess,
  startService,
  tradecron,
  until,
  workDir,
} from "./helpers.js";

/** A port nothing listens on (taken from the kernel, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

const SCHEDULES = [
  { id: "manual", job: "manual", trigger: { every: "1h" } },
  { id: "broken", job: "failing", trigger: { every: "1h" }, retry: 1 },
  { id: "slow", job: "slow", trigger: { every: "1h" }, data: { ms: 1500 } },
  { id: "propose", job: "propose", trigger: { every: "1h" } },
  { id: "propose-2", job: "propose", trigger: { every: "1h" } },
];

let dir: string;
let service: ServiceProcess;
let url: string;
const env = testEnv(SCHEDULES, { T_STORAGE: "file" });
/** `tradecron <args>` in the project, with the service's environment (its tokens) unless told otherwise. */
const run = (args: string[], more: Record<string, string> = {}) =>
  tradecron(args, { cwd: dir, env: { ...env, ...more } });
const json = async (args: string[], more: Record<string, string> = {}) => {
  const r = await run([...args, "--json"], more);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

beforeAll(async () => {
  requireBuilt();
  dir = workDir();
  writeTestConfig(dir);
  service = startService([], { cwd: dir, env });
  await service.started(20_000);
  url = (service.events("service:started")[0]?.url as string) ?? "";
});
afterAll(async () => {
  await service?.stop("SIGKILL");
  cleanWork(dir);
});

describe("commands through the service's API (file storage held by the service)", () => {
  it("run-job runs in the service: its url from the status file, the token from the config's variables, the actor the token's name", async () => {
    const ok = await run(["run-job", "manual"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^manual: succeeded after 1 attempt/);
    expect(ok.stdout).toContain('result: {"by":"ops","kind":"manual"}');
    // A job name with one schedule, a failure (1), an unknown name (4), and a run that outlasts the first answer.
    const failing = await run(["run-job", "failing", "--json"]);
    expect(failing.code).toBe(1);
    expect(JSON.parse(failing.stdout)).toMatchObject({
      scheduleId: "broken",
      execution: { status: "failed", error: { message: "broker said no" }, actor: "ops" },
    });
    expect((await run(["run-job", "nope"])).code).toBe(4);
    const slow = await run(["run-job", "slow", "--json"]);
    expect(slow.code).toBe(0);
    expect(JSON.parse(slow.stdout).execution).toMatchObject({ status: "succeeded", result: { slept: 1500 } });
    // It ran in the service's process: the service logged it.
    expect(service.fired("slow")).toHaveLength(1);
  });

  it("history, schedules, preview and status read through the API, with the same shapes as direct mode", async () => {
    const history = await json(["history", "--schedule", "manual"]);
    expect(history.items[0]).toMatchObject({
      kind: "manual",
      actor: "ops",
      status: "succeeded",
      result: { by: "ops" },
    });
    expect(history.items[0].scheduledAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    const failedOnly = await json(["history", "--status", "failed", "-n", "5"]);
    expect(failedOnly.items.map((e: { scheduleId: string }) => e.scheduleId)).toEqual(["broken"]);

    const table = await run(["schedules"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+JOB\s+TRIGGER/);
    expect(table.stdout).toMatch(/manual\s+manual\s+every 3600s\s+active\s+\S+ \S+\s+succeeded .*in sync/);
    const views = await json(["schedules"]);
    expect(views.map((v: { id: string; declared: string }) => [v.id, v.declared]).sort()).toEqual(
      SCHEDULES.map((s) => [s.id, "in_sync"]).sort(),
    );

    const preview = await json(["preview", "manual", "-n", "3"]);
    expect(preview).toMatchObject({ scheduleId: "manual", declaredOnly: false });
    expect(preview.fires).toHaveLength(3);
    expect(preview.fires[0]).toEqual({
      at: expect.stringMatching(/Z$/),
      iso: expect.any(String),
      local: expect.any(String),
      skip: null,
      marketSkip: null,
    });

    const status = await run(["status"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /^pause-all: off\napprovals pending: \d+\nservice: running, (healthy|degraded), heartbeat/,
    );
    expect(status.stdout).toContain(url);
    expect(status.stdout).toMatch(/manual\s+manual\s+active/);
    expect((await json(["status"])).source).toBe("api");
  });

  it("approvals: list, approve with the paper broker (the order is placed by the service), reject, and their exit codes", async () => {
    expect((await run(["run-job", "propose"])).code).toBe(0);
    expect((await run(["run-job", "propose-2"])).code).toBe(0);
    const pending = await json(["approvals", "--risk", "low"]);
    const mine = pending.filter((a: { scheduleId: string }) => a.scheduleId.startsWith("propose"));
    expect(mine.map((a: { status: string }) => a.status)).toEqual(["pending", "pending"]);
    const [a, b] = mine.map((x: { id: string }) => x.id) as [string, string];

    const approved = await run(["approvals", "approve", a, "--reason", "checked"]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(new RegExp(`${a}\\s+yes\\s+submitted\\s+order `));
    const orders = (await fetch(`${url}/orders`, {
      headers: { authorization: `Bearer ${TOKENS.viewer}` },
    }).then((r) => r.json())) as { items: { approvalId: string; status: string }[] };
    expect(orders.items.find((o) => o.approvalId === a)).toMatchObject({ status: "filled" });
    expect((await run(["approvals", "approve", a])).code).toBe(5); // not pending any more

    expect((await run(["approvals", "reject", b, "--reason", "too late"])).code).toBe(0);
    expect((await run(["approvals", "reject", "ap-unknown"])).code).toBe(4);
    const decided = await json(["approvals", "--status", "submitted,rejected"]);
    const by = new Map(
      decided.map((x: { id: string; status: string; decidedBy: string }) => [x.id, [x.status, x.decidedBy]]),
    );
    expect(by.get(a)).toEqual(["submitted", "ops"]);
    expect(by.get(b)).toEqual(["rejected", "ops"]);
  });

  it("pause-all and resume-all: the service stops firing, run-job is refused (5), the audit says who", async () => {
    const pause = await run(["pause-all", "--reason", "broker outage"]);
    expect(pause.code, pause.stderr).toBe(0);
    expect(pause.stdout).toMatch(/^pause-all is in force \(by ops at /);
    const refused = await run(["run-job", "manual"]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain("pause-all is in force");
    const status = await run(["status"]);
    expect(status.stdout).toMatch(/^pause-all: ON since .* by ops \(broker outage\)/);
    await until(
      () =>
        service.logs.some((l) => typeof l.msg === "string" && l.msg.startsWith("emergency pause-all by ops")),
      5000,
      "the service to log the pause",
    );
    expect((await run(["resume-all"])).code).toBe(0);
    expect((await json(["status"])).control.pausedAll).toBe(false);
    expect((await run(["run-job", "manual"])).code).toBe(0);
  });

  // In-process (runCli) against the spawned service: the same code as the binary, without a spawn per case.
  it("--url and --token from anywhere; wrong, weak or missing credentials and wrong addresses have their own exit codes", async () => {
    const away = workDir(); // no config here: --url needs none
    try {
      const remote = async (args: string[], more: Record<string, string> = {}) => {
        let stdout = "";
        let stderr = "";
        const code = await runCli(args, {
          out: (t) => {
            stdout += t;
          },
          err: (t) => {
            stderr += t;
          },
          env: { TRADECRON_URL: url, ...more },
          cwd: away,
        });
        return { code, stdout, stderr };
      };
      const viewer = await remote(["history", "-n", "1", "--json"], { TRADECRON_TOKEN: TOKENS.viewer });
      expect(viewer.code, viewer.stderr).toBe(0);
      expect(JSON.parse(viewer.stdout).items).toHaveLength(1);
      // Without a config, schedules cannot say how they compare to one.
      const views = JSON.parse(
        (await remote(["schedules", "--json"], { TRADECRON_TOKEN: TOKENS.viewer })).stdout,
      );
      expect(new Set(views.map((v: { declared: string }) => v.declared))).toEqual(new Set(["unknown"]));
      const denied = await remote(["run-job", "manual"], { TRADECRON_TOKEN: TOKENS.viewer });
      expect(denied.code).toBe(6); // a viewer may not run jobs
      expect(denied.stderr).toMatch(/refused: .*operator/);
      const wrong = await remote(["status", "--url", url, "--token", "not-the-token-at-all"], {
        TRADECRON_URL: "",
      });
      expect(wrong.code).toBe(6);
      expect(wrong.stderr).toContain("refused the credentials");
      expect(wrong.stderr).not.toContain("not-the-token-at-all");
      expect((await remote(["status"])).code).toBe(6); // no token at all
      const actorNote = await remote(["run-job", "manual", "--actor", "alice"], {
        TRADECRON_TOKEN: TOKENS.operator,
      });
      expect(actorNote.code).toBe(0);
      expect(actorNote.stderr).toContain("the audit actor is the token's name");
      expect(
        (await remote(["status"], { TRADECRON_URL: `${url}/nowhere`, TRADECRON_TOKEN: TOKENS.viewer })).code,
      ).toBe(3);
      const closed = await freePort();
      const down = await remote(["status"], {
        TRADECRON_URL: `http://127.0.0.1:${closed}`,
        TRADECRON_TOKEN: TOKENS.viewer,
      });
      expect(down.code).toBe(3);
      expect(down.stderr).toContain(`cannot reach http://127.0.0.1:${closed}: ECONNREFUSED`);
      expect((await remote(["status"], { TRADECRON_URL: "ftp://x" })).code).toBe(2);
      const tooMany = await remote(["preview", "manual", "-n", "500"], { TRADECRON_TOKEN: TOKENS.viewer });
      expect(tooMany.code).toBe(2); // the API's own validation, named
      expect(tooMany.stderr).toContain("count");
    } finally {
      cleanWork(away);
    }
  });

  it("without a token for its API, commands say so (exit 3) and status reads the service's status file", async () => {
    const noToken = { T_TOKEN: "", T_VIEWER: "" };
    const runJob = await run(["run-job", "manual"], noToken);
    expect(runJob.code).toBe(3);
    expect(runJob.stderr).toMatch(
      /held by a running instance .* needs a token: pass --token or set TRADECRON_TOKEN/,
    );
    const status = await run(["status"], noToken);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/service: running, (healthy|degraded), heartbeat/);
    expect(status.stdout).toContain("this is its status file");
  });

  it("once the service has stopped, the same commands work on the storage itself and print the same JSON", async () => {
    const remote = await json(["history", "--schedule", "broken"]);
    expect(await service.stop("SIGTERM")).toBe(0);
    const direct = await json(["history", "--schedule", "broken"]);
    expect(direct).toEqual(remote);
    const run1 = await run(["run-job", "manual", "--actor", "bob"]);
    expect(run1.code).toBe(0);
    expect(run1.stderr).toBe(""); // direct: the actor is used, no note
    expect((await json(["history", "-n", "1"])).items[0]).toMatchObject({ actor: "bob", kind: "manual" });
  });
});
