/** The Express host: its own routes beside the mounted router, tokens, restarts, the real binary. */

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TestClock } from "@tradecron/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBroker } from "./broker.js";
import { ConfigError, configFromEnv } from "./config.js";
import { type ExpressHost, startExpressHost } from "./server.js";

let dir: string;
let host: ExpressHost | null = null;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tc-express-host-"));
});
afterEach(async () => {
  await host?.stop();
  host = null;
  await rm(dir, { recursive: true, force: true });
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("express host", () => {
  it("serves its own routes beside the mounted router, with a token made up for this run", async () => {
    host = await startExpressHost({ port: 0, dataDir: dir, clock: new TestClock() });
    expect(host.generatedToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const home = await fetch(`${host.url}/`);
    expect(await home.text()).toContain("My trading app");
    expect(await (await fetch(`${host.url}/api/quote/aapl`)).json()).toEqual({
      symbol: "AAPL",
      source: "the host's own API",
    });
    expect((await fetch(`${host.url}/scheduler/status`)).status).toBe(401);
    const status = await fetch(`${host.url}/scheduler/status`, {
      headers: bearer(host.generatedToken as string),
    });
    expect(status.status).toBe(200);
    const body = (await status.json()) as {
      storage: string;
      broker: { name: string };
      schedules: { id: string }[];
    };
    expect(body.storage).toBe("file");
    expect(body.broker.name).toBe("paper");
    expect(body.schedules.map((s) => s.id)).toEqual(["eod-snapshot", "exit-check", "morning-scan"]);
    const dashboard = await fetch(host.dashboardUrl);
    expect(dashboard.url).toBe(`${host.url}/scheduler/ui/`);
    expect(await dashboard.text()).toContain('<script type="module" src="app.js">');
    expect(dashboard.headers.get("content-security-policy")).toContain("script-src 'self'");
  });

  it("uses configured tokens with their roles, and keeps schedules and edits across a restart", async () => {
    const tokens = [
      { name: "ops", role: "operator" as const, token: "operator-token-for-the-host-test" },
      { name: "boss", role: "admin" as const, token: "admin-token-for-the-host-test-0" },
    ];
    host = await startExpressHost({ port: 0, dataDir: dir, tokens, clock: new TestClock() });
    expect(host.generatedToken).toBeNull();
    const create = await fetch(`${host.url}/scheduler/schedules`, {
      method: "POST",
      headers: { ...bearer(tokens[0]?.token as string), "content-type": "application/json" },
      body: JSON.stringify({ job: "exit-check", trigger: { every: "1m" } }),
    });
    expect(create.status).toBe(403);
    const edit = await fetch(`${host.url}/scheduler/schedules/eod-snapshot`, {
      method: "PATCH",
      headers: { ...bearer(tokens[1]?.token as string), "content-type": "application/json" },
      body: JSON.stringify({ tags: ["edited"] }),
    });
    expect(edit.status).toBe(200);
    await host.stop();
    host = await startExpressHost({ port: 0, dataDir: dir, tokens, clock: new TestClock() });
    const again = (await (
      await fetch(`${host.url}/scheduler/schedules/eod-snapshot`, {
        headers: bearer(tokens[0]?.token as string),
      })
    ).json()) as { tags: string[] };
    expect(again.tags).toEqual(["edited"]);
  });

  it("refuses to start without tokens unless asked for a one-run token, naming the variables", () => {
    expect(() => configFromEnv({})).toThrow(ConfigError);
    expect(() => configFromEnv({})).toThrow(/TRADECRON_ADMIN_TOKEN/);
    expect(configFromEnv({ TRADECRON_DEV_TOKEN: "1" }).tokens).toBe("generate");
    expect(() => configFromEnv({ TRADECRON_ADMIN_TOKEN: "short" })).toThrow(
      /TRADECRON_ADMIN_TOKEN: must be at least 16/,
    );
    expect(configFromEnv({ TRADECRON_VIEWER_TOKEN: "v".repeat(20), PORT: "8081" })).toMatchObject({
      port: 8081,
      host: "127.0.0.1",
      tokens: [{ name: "viewer", role: "viewer" }],
      broker: { kind: "paper" },
    });
    expect(createBroker({ kind: "paper" }).name).toBe("paper");
    expect(() => configFromEnv({ TRADECRON_DEV_TOKEN: "1", TRADECRON_BROKER: "schwab" })).toThrow(
      /TRADECRON_BROKER: /,
    );
  });

  it("runs as a process: prints the dashboard and the one-run token, answers, stops on SIGTERM", async () => {
    const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));
    if (!existsSync(main))
      throw new Error(
        `${main} is missing: build the example (pnpm --filter @tradecron/example-express-host build)`,
      );
    const child = spawn(process.execPath, [main], {
      env: { ...process.env, PORT: "0", TRADECRON_DATA_DIR: dir, TRADECRON_DEV_TOKEN: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += String(chunk);
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const deadline = Date.now() + 20_000;
    while (!/sign-in token for this run \(admin\): (\S+)/.test(out) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const token = /sign-in token for this run \(admin\): (\S+)/.exec(out)?.[1];
    const url = /listening on (\S+)/.exec(out)?.[1];
    expect(token).toBeDefined();
    const res = await fetch(`${url}/scheduler/health`, { headers: bearer(token as string) });
    expect(res.status).toBe(200);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 30_000);
});

describe("errors through the host", () => {
  it("answers core's errors as problems with their code (one copy of core in the process)", async () => {
    host = await startExpressHost({ port: 0, dataDir: dir, clock: new TestClock() });
    const res = await fetch(`${host.url}/scheduler/schedules/nope`, {
      headers: bearer(host.generatedToken as string),
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe("SCHEDULE_NOT_FOUND");
  });
});
