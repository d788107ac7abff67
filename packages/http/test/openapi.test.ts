/**
 * The OpenAPI document: valid OpenAPI 3.1, covering every route, generated from the same schemas
 * the routes validate with; and a client generated from it by openapi-typescript + openapi-fetch
 * (a generator no one here wrote) driving the API, every response checked against the document.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Validator } from "@seriousme/openapi-schema-validator";
import createClient from "openapi-fetch";
import openapiTS, { astToString } from "openapi-typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { paths } from "../generated/api.js";
import { VERSION } from "../src/index.js";
import { startHost, type TestHost, TOKENS } from "./harness.js";
import { allSpecs } from "./routes-sample.js";

const generatedFile = fileURLToPath(new URL("../generated/api.d.ts", import.meta.url));

let host: TestHost;
beforeAll(async () => {
  host = await startHost();
});
afterAll(async () => {
  await host.close();
});

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document describing every route", async () => {
    const res = await host.request<
      Record<string, unknown> & { paths: Record<string, Record<string, { operationId: string }>> }
    >("GET", "/openapi.json", { as: null });
    expect(res.status).toBe(200);
    const validator = new Validator();
    const result = await validator.validate(res.body as never);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(res.body.openapi).toBe("3.1.0");
    expect(res.body.servers).toEqual([{ url: "/scheduler" }]);
    const operations = Object.values(res.body.paths).flatMap((item) =>
      Object.values(item).map((op) => op.operationId),
    );
    expect(operations.sort()).toEqual(
      allSpecs()
        .map((s) => s.id)
        .sort(),
    );
  });

  it("is what the README's endpoint table lists, route for route", () => {
    const readme = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");
    const missing = allSpecs()
      .map((s) => `\`${s.method.toUpperCase()} ${s.path}\``)
      .filter((line) => !readme.includes(`| ${line} |`));
    expect(missing).toEqual([]);
  });

  it("carries the package version", () => {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL("../package.json", import.meta.url)), "utf8"));
    expect(VERSION).toBe(pkg.version);
    expect((host.router.openapi().info as { version: string }).version).toBe(pkg.version);
  });

  it("generates the committed client types (openapi-typescript), so they cannot drift", async () => {
    const generated = `${astToString(await openapiTS(host.router.openapi() as never, { defaultNonNullable: false }))}`;
    if (process.env.TRADECRON_UPDATE_GENERATED === "1") writeFileSync(generatedFile, generated);
    expect(readFileSync(generatedFile, "utf8")).toBe(generated);
  });
});

describe("a generated client (openapi-fetch)", () => {
  it("drives the API: create, list, run, approve, see the order, pause and resume", async () => {
    const as = (role: keyof typeof TOKENS) =>
      createClient<paths>({
        baseUrl: host.base,
        fetch: host.checkedFetch,
        headers: { Authorization: `Bearer ${TOKENS[role]}` },
      });
    const admin = as("admin");
    const operator = as("operator");
    const viewer = as("viewer");

    const created = await admin.POST("/schedules", {
      body: {
        id: "client-morning",
        job: "propose",
        requiresApproval: true,
        trigger: { type: "cron", expression: "0 9 * * 1-5", timezone: "America/New_York" },
      },
    });
    expect(created.response.status).toBe(201);
    expect(created.data?.state.nextFireAt).toBe("2026-01-06T14:00:00.000Z");

    const list = await viewer.GET("/schedules", { params: { query: { job: "propose" } } });
    expect(list.data?.items.map((s) => s.id)).toEqual(["client-morning"]);

    const bad = await admin.POST("/schedules", {
      body: { job: "propose", trigger: { type: "cron", expression: "not cron" } },
    });
    expect(bad.error?.code).toBe("INVALID_CRON");
    expect(bad.error?.field).toBe("trigger.expression");

    const run = await operator.POST("/schedules/{id}/trigger", {
      params: { path: { id: "client-morning" } },
      body: { wait: true },
    });
    expect(run.data?.status).toBe("succeeded");

    const badge = await viewer.GET("/approvals/pending-count");
    expect(badge.data?.pending).toBe(1);
    const pending = await viewer.GET("/approvals", {
      params: { query: { status: "pending", riskLevel: "high" } },
    });
    const approval = pending.data?.items[0];
    expect(approval?.rationale).toBe("breakout");

    const decided = await operator.POST("/approvals/{id}/approve", {
      params: { path: { id: approval?.id ?? "" } },
      body: { reason: "fine" },
    });
    expect(decided.data?.ok).toBe(true);

    const orders = await viewer.GET("/orders", { params: { query: { scheduleId: "client-morning" } } });
    expect(orders.data?.items[0]).toMatchObject({ symbol: "AAPL", side: "buy", approvalId: approval?.id });

    const paused = await operator.POST("/controls/pause-all", { body: { reason: "end of day" } });
    expect(paused.data?.pausedAll).toBe(true);
    const status = await viewer.GET("/status");
    expect(status.data?.pausedAllReason).toBe("end of day");
    const resumed = await operator.POST("/controls/resume-all", { body: {} });
    expect(resumed.data?.pausedAll).toBe(false);

    const forbidden = await viewer.POST("/controls/pause-all", { body: {} });
    expect(forbidden.response.status).toBe(403);
    expect(forbidden.error?.code).toBe("FORBIDDEN");
  });
});
