/**
 * The parts of remote mode that need no server: the problem answers mapped to exit codes, the
 * API's JSON mapped back to core's records (against @tradecron/http's own mapping, so they cannot
 * drift), and the HTTP tokens read from the environment.
 */

import type { ApprovalRecord, ExecutionRecord, ScheduleRecord } from "@tradecron/core";
import { buildScheduleRecord } from "@tradecron/core";
import { MIN_TOKEN_LENGTH as ROUTER_MIN } from "@tradecron/http";
import { describe, expect, it } from "vitest";
// The router's own record-to-JSON mapping (not exported by the package): the inverse must match it.
import { approvalDto, executionDto, IDLE_STATE, scheduleDto } from "../../http/src/dto.js";
import { resolveConfig } from "../src/config/validate.js";
import { EXIT, exitCodeOf } from "../src/errors.js";
import { errorFromProblem } from "../src/ops/api-client.js";
import { approvalRecord, executionRecord, scheduleRecord } from "../src/ops/remote-records.js";
import { httpTokens, MIN_TOKEN_LENGTH, tokenFromConfig } from "../src/service/http-auth.js";
import { configIssues } from "./helpers.js";

const problem = (status: number, code: string, extra: Record<string, unknown> = {}) =>
  exitCodeOf(errorFromProblem(status, { status, code, detail: `${code} happened`, ...extra }, "http://x"));

describe("problem answers become the CLI's exit codes", () => {
  it("maps each status and code as direct mode would end", () => {
    expect(
      problem(400, "INVALID_CRON", { errors: [{ field: "count", message: "too big", code: "VALIDATION" }] }),
    ).toBe(EXIT.USAGE);
    expect(problem(401, "UNAUTHORIZED")).toBe(EXIT.DENIED);
    expect(problem(403, "FORBIDDEN")).toBe(EXIT.DENIED);
    expect(problem(404, "SCHEDULE_NOT_FOUND")).toBe(EXIT.NOT_FOUND);
    expect(problem(404, "ROUTE_NOT_FOUND")).toBe(EXIT.UNREACHABLE);
    expect(problem(409, "PAUSED")).toBe(EXIT.REFUSED);
    expect(problem(409, "APPROVAL_NOT_PENDING")).toBe(EXIT.REFUSED);
    expect(problem(409, "REVISION_CONFLICT")).toBe(EXIT.FAILED);
    expect(problem(422, "RISK_REJECTED")).toBe(EXIT.FAILED);
    expect(problem(429, "RATE_LIMITED")).toBe(EXIT.REFUSED);
    expect(problem(503, "STORAGE")).toBe(EXIT.UNREACHABLE);
    expect(problem(504, "RUN_TIMEOUT")).toBe(EXIT.FAILED);
    expect(problem(500, "INTERNAL")).toBe(EXIT.INTERNAL);
    expect(exitCodeOf(errorFromProblem(502, "<html>bad gateway</html>", "http://x"))).toBe(EXIT.UNREACHABLE);
  });

  it("keeps the field and every issue of a validation problem, and the wait of a rate limit", () => {
    const e = errorFromProblem(
      400,
      {
        status: 400,
        code: "VALIDATION",
        detail: "d",
        errors: [{ field: "count", message: "too big", code: "VALIDATION" }],
      },
      "http://x",
    );
    expect(e.message).toContain("count: too big");
    expect(
      errorFromProblem(429, { code: "RATE_LIMITED", detail: "slow down" }, "http://x", "12").message,
    ).toContain("retry in 12 s");
  });
});

describe("the API's JSON back to core's records", () => {
  const schedule = (): ScheduleRecord => ({
    ...buildScheduleRecord(
      {
        id: "s",
        job: "j",
        trigger: { every: "15m" },
        data: { createdAt: "not an instant", n: 1 },
        tags: ["a"],
      },
      Date.parse("2026-01-05T14:30:00.123Z"),
    ),
    revision: 3,
  });

  it("is the inverse of the router's mapping for schedules, executions and approvals", () => {
    const s = schedule();
    expect(scheduleRecord(JSON.parse(JSON.stringify(scheduleDto(s, { ...IDLE_STATE } as never))))).toEqual(s);
    const once = { ...s, trigger: { type: "once" as const, at: Date.parse("2026-02-01T00:00:00Z") } };
    expect(scheduleRecord(JSON.parse(JSON.stringify(scheduleDto(once, { ...IDLE_STATE } as never))))).toEqual(
      once,
    );
    const e: ExecutionRecord = {
      id: "e1",
      scheduleId: "s",
      job: "j",
      scheduledAt: 1_767_623_400_000,
      kind: "manual",
      status: "failed",
      reason: null,
      attempts: 2,
      claimedAt: 1_767_623_400_001,
      startedAt: 1_767_623_400_002,
      endedAt: 1_767_623_400_900,
      instanceId: "i",
      leaseExpiresAt: null,
      actor: "ops",
      error: { message: "no", code: "X", name: "Error" },
      result: { at: "2026-01-01", nested: { endedAt: 5 } },
      details: null,
      idempotencyKey: "s:1767623400000",
    };
    expect(executionRecord(JSON.parse(JSON.stringify(executionDto(e))))).toEqual(e);
    const a: ApprovalRecord = {
      id: "ap",
      scheduleId: "s",
      executionId: "e1",
      fireKey: "k",
      intentIndex: 0,
      clientOrderId: "c",
      intent: { symbol: "SPY", side: "buy", qty: "1" },
      status: "submitted",
      riskLevel: "low",
      rationale: "r",
      confidence: 0.7,
      supportingData: { expiresAt: "user data" },
      createdAt: 1,
      expiresAt: 2,
      decidedAt: 3,
      decidedBy: "ops",
      decisionReason: null,
      brokerOrderId: "b",
      error: null,
    };
    expect(approvalRecord(JSON.parse(JSON.stringify(approvalDto(a))))).toEqual(a);
  });
});

describe("the HTTP tokens, from the environment", () => {
  const http = (tokens: unknown[]) =>
    resolveConfig({ jobs: {}, http: { tokens } }, "/x/tradecron.config.ts", {}).http as NonNullable<
      ReturnType<typeof resolveConfig>["http"]
    >;
  const issues = configIssues;

  it("uses the router's minimum length", () => {
    expect(MIN_TOKEN_LENGTH).toBe(ROUTER_MIN);
  });

  it("reads each token or its SHA-256 from its variable, and names the field and the variable of a bad one, never the value", () => {
    const h = http([
      { name: "alice", role: "admin", env: "A_TOKEN" },
      { name: "desk", role: "operator", sha256Env: "D_SHA" },
      { name: "grafana", role: "viewer", env: "G_TOKEN" },
    ]);
    const digest = "ab".repeat(32);
    expect(httpTokens(h, { A_TOKEN: "a".repeat(20), D_SHA: digest, G_TOKEN: "g".repeat(16) }, "/f")).toEqual([
      { name: "alice", role: "admin", token: "a".repeat(20) },
      { name: "desk", role: "operator", sha256: digest },
      { name: "grafana", role: "viewer", token: "g".repeat(16) },
    ]);
    const bad = issues(() => httpTokens(h, { A_TOKEN: "short-secret", D_SHA: "nothex", G_TOKEN: "" }, "/f"));
    expect(bad).toEqual([
      "http.tokens[0].env: A_TOKEN must hold at least 16 characters (openssl rand -base64 32)",
      expect.stringMatching(/^http\.tokens\[1\]\.sha256Env: D_SHA must hold a SHA-256 digest in hex/),
      "http.tokens[2].env: G_TOKEN is not set (the token of 'grafana')",
    ]);
    expect(bad.join(" ")).not.toContain("short-secret");
    const twice = http([
      { name: "a", role: "admin", env: "A" },
      { name: "b", role: "viewer", env: "B" },
    ]);
    expect(issues(() => httpTokens(twice, { A: "x".repeat(16), B: "x".repeat(16) }, "/f"))).toEqual([
      "http.tokens[1].env: B holds the same token as another entry",
    ]);
  });

  it("refuses a token in the config itself, a bad base path, and both or neither variable", () => {
    const problems = issues(() =>
      resolveConfig(
        {
          jobs: {},
          http: {
            basePath: "scheduler",
            tokens: [
              { name: "a", role: "admin", token: "in-the-file-0123456789" },
              { name: "b", role: "root", env: "B" },
              { name: "c", role: "viewer" },
            ],
          },
        },
        "/x/c.ts",
        {},
      ),
    );
    expect(problems.join("\n")).toMatch(/http\.basePath: must be a path/);
    expect(problems.join("\n")).toMatch(/http\.tokens\[0\]: unknown key\(s\): token/);
    expect(problems.join("\n")).toMatch(/http\.tokens\[1\]\.role: /);
    expect(problems.join("\n")).toMatch(/http\.tokens\[2\]\.env: give exactly one of env/);
    expect(problems.join("\n")).not.toContain("in-the-file");
  });

  it("gives commands the least role that can do what they do", () => {
    const h = http([
      { name: "root", role: "admin", env: "A" },
      { name: "ops", role: "operator", env: "O" },
      { name: "look", role: "viewer", env: "V" },
    ]);
    const env = { A: "a".repeat(16), O: "o".repeat(16), V: "v".repeat(16) };
    expect(tokenFromConfig(h, env, "read")).toBe(env.V);
    expect(tokenFromConfig(h, env, "operate")).toBe(env.O);
    expect(tokenFromConfig(h, { A: env.A, V: env.V }, "operate")).toBe(env.A);
    expect(tokenFromConfig(h, { V: env.V }, "operate")).toBeNull();
    expect(tokenFromConfig(null, env, "read")).toBeNull();
  });
});
