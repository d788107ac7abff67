/** Approvals, orders, executions, audit and the broker endpoints, driven through a real host. */

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startHost, type TestHost } from "./harness.js";

type Page<T> = { items: T[]; nextCursor: string | null };
type Approval = {
  id: string;
  status: string;
  riskLevel: string;
  rationale: string | null;
  supportingData: unknown;
  decidedBy: string | null;
};
type Problem = { code: string; status: number };

let host: TestHost;
beforeEach(async () => {
  host = await startHost();
  await host.request("POST", "/schedules", {
    body: {
      id: "morning",
      job: "propose",
      requiresApproval: true,
      trigger: { cron: "0 0 1 1 *", timezone: "UTC" },
    },
  });
});
afterEach(async () => {
  await host.close();
});

/** Runs the proposing schedule once and returns the pending approval's id. */
async function propose(): Promise<string> {
  const run = await host.request<{ status: string }>("POST", "/schedules/morning/trigger", {
    as: "operator",
    body: { wait: true },
  });
  expect(run.body.status).toBe("succeeded");
  const page = await host.request<Page<Approval>>("GET", "/approvals?status=pending", { as: "viewer" });
  const first = page.body.items[0];
  if (!first) throw new Error("no pending approval");
  return first.id;
}

describe("approvals", () => {
  it("counts pending approvals for the badge and lists them with rationale and supporting data", async () => {
    expect(
      (await host.request<{ pending: number }>("GET", "/approvals/pending-count", { as: "viewer" })).body,
    ).toEqual({ pending: 0 });
    const id = await propose();
    expect(
      (await host.request<{ pending: number }>("GET", "/approvals/pending-count", { as: "viewer" })).body,
    ).toEqual({ pending: 1 });
    const one = await host.request<Approval>("GET", `/approvals/${id}`, { as: "viewer" });
    expect(one.body).toMatchObject({
      status: "pending",
      riskLevel: "high",
      rationale: "breakout",
      supportingData: { rsi: 61 },
    });
    const high = await host.request<Page<Approval>>("GET", "/approvals?riskLevel=high,medium", {
      as: "viewer",
    });
    expect(high.body.items.map((a) => a.id)).toEqual([id]);
    const low = await host.request<Page<Approval>>("GET", "/approvals?riskLevel=low", { as: "viewer" });
    expect(low.body.items).toEqual([]);
    const bad = await host.request<Problem>("GET", "/approvals?riskLevel=extreme", { as: "viewer" });
    expect(bad.status).toBe(400);
  });

  it("approves one as the operator: the order reaches the broker and the audit names the operator", async () => {
    const id = await propose();
    const res = await host.request<{ ok: boolean; status: string; brokerOrderId: string }>(
      "POST",
      `/approvals/${id}/approve`,
      {
        as: "operator",
        body: { reason: "looks right" },
      },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, status: "submitted" });
    const decided = await host.request<Approval>("GET", `/approvals/${id}`, { as: "viewer" });
    expect(decided.body.decidedBy).toBe("otto");
    const orders = await host.request<Page<{ symbol: string; approvalId: string; status: string }>>(
      "GET",
      "/orders?symbol=AAPL",
      {
        as: "viewer",
      },
    );
    expect(orders.body.items).toEqual([expect.objectContaining({ symbol: "AAPL", approvalId: id })]);
    const audit = await host.request<Page<{ actor: string; action: string }>>("GET", "/audit?actor=otto", {
      as: "viewer",
    });
    expect(audit.body.items.map((a) => a.action)).toContain("approval.approve");
    const again = await host.request<Problem>("POST", `/approvals/${id}/approve`, { as: "operator" });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("APPROVAL_NOT_PENDING");
    const unknown = await host.request<Problem>("POST", "/approvals/ap-nope/reject", { as: "operator" });
    expect(unknown.status).toBe(404);
  });

  it("rejects many with per-item results, unknown ids reported rather than thrown", async () => {
    const id = await propose();
    const res = await host.request<{
      results: { id: string; ok: boolean; status: string | null; code?: string }[];
    }>("POST", "/approvals/reject", {
      as: "operator",
      body: { ids: [id, "ap-unknown"], reason: "not today" },
    });
    expect(res.body.results).toEqual([
      { id, ok: true, status: "rejected" },
      expect.objectContaining({ id: "ap-unknown", ok: false, code: "NOT_FOUND" }),
    ]);
    expect(
      (await host.request<{ pending: number }>("GET", "/approvals/pending-count", { as: "viewer" })).body
        .pending,
    ).toBe(0);
    const empty = await host.request<Problem>("POST", "/approvals/reject", {
      as: "operator",
      body: { ids: [] },
    });
    expect(empty.status).toBe(400);
  });

  it("shows an execution with its attempts, result and the approvals of its fire", async () => {
    const id = await propose();
    const execs = await host.request<Page<{ id: string; status: string }>>(
      "GET",
      "/executions?scheduleId=morning&status=succeeded",
      {
        as: "viewer",
      },
    );
    const exec = execs.body.items[0];
    expect(exec).toBeDefined();
    const detail = await host.request<{
      execution: { attempts: number; result: unknown };
      approvals: { id: string }[];
      orders: unknown[];
    }>("GET", `/executions/${exec?.id}`, { as: "viewer" });
    expect(detail.body.execution).toMatchObject({ attempts: 1, result: { proposed: 1 } });
    expect(detail.body.approvals.map((a) => a.id)).toEqual([id]);
    expect(detail.body.orders).toEqual([]);
    const window = await host.request<Page<unknown>>(
      "GET",
      "/executions?from=2026-01-05T00:00:00Z&to=2026-01-06T00:00:00Z&kind=manual",
      { as: "viewer" },
    );
    expect(window.body.items.length).toBe(1);
    const none = await host.request<Page<unknown>>("GET", "/executions?to=2026-01-01T00:00:00Z", {
      as: "viewer",
    });
    expect(none.body.items).toEqual([]);
    const badInstant = await host.request<{ field: string }>("GET", "/executions?from=yesterday", {
      as: "viewer",
    });
    expect(badInstant.body.field).toBe("from");
  });
});

describe("broker", () => {
  it("shows the account and positions after an approved order fills", async () => {
    const id = await propose();
    await host.request("POST", `/approvals/${id}/approve`, { as: "operator" });
    const account = await host.request<{ broker: string; connected: boolean; cash: string }>(
      "GET",
      "/broker/account",
      { as: "viewer" },
    );
    expect(account.body).toMatchObject({ broker: "paper", connected: true });
    expect(Number(account.body.cash)).toBeLessThan(100_000);
    const positions = await host.request<{ items: { symbol: string; qty: string }[] }>(
      "GET",
      "/broker/positions",
      { as: "viewer" },
    );
    expect(positions.body.items).toEqual([expect.objectContaining({ symbol: "AAPL", qty: "5" })]);
  });

  it("answers 404 BROKER_NOT_CONFIGURED without a broker", async () => {
    const bare = await startHost({ broker: null });
    try {
      const res = await bare.request<Problem>("GET", "/broker/account", { as: "viewer" });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("BROKER_NOT_CONFIGURED");
    } finally {
      await bare.close();
    }
  });
});
