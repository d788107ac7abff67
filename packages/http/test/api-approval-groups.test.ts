/** Approval groups over HTTP: read, approve and reject a group as one unit, roles and errors. */

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startHost, type TestHost } from "./harness.js";

type Group = {
  id: string;
  status: string;
  counts: Record<string, number>;
  members: { id: string; status: string; groupId?: string; intentIndex: number }[];
};
type Decision = {
  group: Group;
  results: { id: string; ok: boolean; status: string | null; code?: string }[];
};
type Problem = { code: string; status: number };

let host: TestHost;
beforeEach(async () => {
  host = await startHost();
  await host.request("POST", "/schedules", {
    body: { id: "rebalance", job: "plan", trigger: { cron: "0 0 1 1 *", timezone: "UTC" } },
  });
});
afterEach(async () => {
  await host.close();
});

async function plan(): Promise<string> {
  const run = await host.request<{ status: string; result: { groupId: string } }>(
    "POST",
    "/schedules/rebalance/trigger",
    { as: "operator", body: { wait: true } },
  );
  expect(run.body.status).toBe("succeeded");
  return run.body.result.groupId;
}

describe("approval groups", () => {
  it("shows a group with its members, and lists them by groupId", async () => {
    const id = await plan();
    const group = await host.request<Group>("GET", `/approval-groups/${id}`, { as: "viewer" });
    expect(group.status).toBe(200);
    expect(group.body).toMatchObject({ id, status: "pending", counts: { pending: 2 } });
    expect(group.body.members.map((m) => [m.intentIndex, m.groupId])).toEqual([
      [0, id],
      [1, id],
    ]);
    const listed = await host.request<{ items: { id: string }[] }>("GET", `/approvals?groupId=${id}`, {
      as: "viewer",
    });
    expect(listed.body.items.map((a) => a.id).sort()).toEqual(group.body.members.map((m) => m.id).sort());
    const missing = await host.request<Problem>("GET", "/approval-groups/apg-nope", { as: "viewer" });
    expect(missing.status).toBe(404);
  });

  it("approves a group as the calling operator; a second decision is a 409", async () => {
    const id = await plan();
    const denied = await host.request<Problem>("POST", `/approval-groups/${id}/approve`, {
      as: "viewer",
      body: {},
    });
    expect(denied.status).toBe(403);
    const res = await host.request<Decision>("POST", `/approval-groups/${id}/approve`, {
      as: "operator",
      body: { reason: "plan checked" },
    });
    expect(res.status).toBe(200);
    expect(res.body.group.status).toBe("approved");
    expect(res.body.results.map((r) => r.status)).toEqual(["submitted", "submitted"]);
    const again = await host.request<Problem>("POST", `/approval-groups/${id}/reject`, {
      as: "operator",
      body: {},
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("APPROVAL_GROUP_NOT_PENDING");
  });

  it("rejects a group; single decisions on a member are refused with 409 APPROVAL_IN_GROUP", async () => {
    const id = await plan();
    const group = await host.request<Group>("GET", `/approval-groups/${id}`, { as: "viewer" });
    const member = group.body.members[0]?.id as string;
    const single = await host.request<Problem>("POST", `/approvals/${member}/approve`, {
      as: "operator",
      body: {},
    });
    expect(single.status).toBe(409);
    expect(single.body.code).toBe("APPROVAL_IN_GROUP");
    const bad = await host.request<Problem>("POST", `/approval-groups/${id}/reject`, {
      as: "operator",
      body: { reason: "x", extra: 1 },
    });
    expect(bad.status).toBe(400);
    const res = await host.request<Decision>("POST", `/approval-groups/${id}/reject`, {
      as: "operator",
      body: { reason: "too much turnover" },
    });
    expect(res.body.group).toMatchObject({ status: "rejected", counts: { rejected: 2 } });
  });
});
