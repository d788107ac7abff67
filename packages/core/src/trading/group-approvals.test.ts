import { describe, expect, it } from "vitest";
import { PaperBroker } from "../broker/paper-broker.js";
import { ConflictError, ValidationError } from "../errors.js";
import type { OrderIntentInput } from "../orders/intent.js";
import type { JobContext } from "../scheduler/job.js";
import { setup } from "../scheduler/test-helpers.js";
import { TestClock } from "../testing/test-clock.js";
import type { GroupProposal } from "./group-approvals.js";

const PLAN: OrderIntentInput[] = [
  { symbol: "TSLA", side: "buy", qty: 2 },
  { symbol: "AAPL", side: "buy", qty: 3 },
  { symbol: "MSFT", side: "buy", qty: 1, rationale: "own rationale" },
];

function trading(options: { risk?: Record<string, unknown> } = {}) {
  const clock = new TestClock("2026-01-05T14:30:00Z");
  const broker = new PaperBroker({ clock, initialCash: "100000" });
  broker.setPrice("AAPL", "190.00");
  broker.setPrice("MSFT", "410.50");
  broker.setPrice("TSLA", "250");
  const ctx = setup({
    clock,
    broker,
    prices: (symbol) => broker.getPrice(symbol),
    ...(options.risk ? { risk: options.risk } : {}),
    leaseMs: 60_000, // maintenance (the sweeper) every 20 s
  });
  return { ...ctx, broker };
}

/** Registers job `plan` proposing `intents` as one group, and runs its first fire. */
async function proposed(
  t: ReturnType<typeof trading>,
  intents: OrderIntentInput[] = PLAN,
  options: Parameters<JobContext["proposeGroup"]>[1] = { rationale: "drift 7%", riskLevel: "high" },
  schedule: Record<string, unknown> = {},
): Promise<GroupProposal> {
  let out: GroupProposal | null = null;
  t.scheduler.register("plan", async (ctx) => {
    out = await ctx.proposeGroup(intents, options);
    return out.groupId;
  });
  await t.scheduler.createSchedule({ id: "plan", job: "plan", trigger: { every: "1h" }, ...schedule });
  await t.scheduler.start();
  await t.clock.advance(3_600_000);
  if (!out) throw new Error("the plan did not run");
  return out;
}

describe("ctx.proposeGroup", () => {
  it("queues one approval per intent carrying the group id, with the group's metadata, once per fire", async () => {
    const t = trading();
    let attempts = 0;
    const seen: GroupProposal[] = [];
    t.scheduler.register("plan", async (ctx) => {
      seen.push(await ctx.proposeGroup(PLAN, { rationale: "drift 7%", riskLevel: "high" }));
      if (++attempts === 1) throw new Error("crash after proposing");
    });
    await t.scheduler.createSchedule({
      id: "plan",
      job: "plan",
      trigger: { every: "1h" },
      retry: { attempts: 2, backoff: { baseMs: "1s", factor: 1 } },
    });
    await t.scheduler.start();
    await t.clock.advance(3_600_000 + 5_000);
    expect(attempts).toBe(2);
    const [first, second] = seen as [GroupProposal, GroupProposal];
    expect(second.groupId).toBe(first.groupId);
    expect(second.approvals.map((a) => a.id)).toEqual(first.approvals.map((a) => a.id));
    expect(first.status).toBe("pending");
    expect(first.outcomes.map((o) => o.status)).toEqual(["pending", "pending", "pending"]);
    const members = (await t.scheduler.listApprovals({ groupId: first.groupId })).items;
    expect(members).toHaveLength(3);
    expect(members.every((a) => a.groupId === first.groupId && a.riskLevel === "high")).toBe(true);
    expect(first.approvals.map((a) => a.rationale)).toEqual(["drift 7%", "drift 7%", "own rationale"]);
    const group = await t.scheduler.getApprovalGroup(first.groupId);
    expect(group).toMatchObject({ status: "pending", riskLevel: "high", counts: { pending: 3 } });
    expect(group.members.map((m) => m.intentIndex)).toEqual([0, 1, 2]);
    expect(t.events.of("approval-group:requested")).toHaveLength(1);
    expect(t.events.of("approval:requested")).toHaveLength(3);
    await t.scheduler.stop();
  });

  it("refuses the whole group when the risk guard refuses one intent, saying why per intent", async () => {
    const t = trading({ risk: { denySymbols: ["MSFT"] } });
    const p = await proposed(t);
    expect(p.status).toBe("rejected");
    expect(p.outcomes.map((o) => [o.status, o.rule])).toEqual([
      ["rejected", "group_refused"],
      ["rejected", "group_refused"],
      ["rejected", "deny_symbols"],
    ]);
    expect(p.outcomes[0]?.reason).toMatch(/intent 2 \(MSFT\)/);
    expect(await t.scheduler.pendingApprovalCount()).toBe(0);
    expect((await t.scheduler.status()).counters.ordersRejected).toBe(3);
    const audit = (await t.storage.listAudit({ subjectType: "approval_group", limit: 10 })).items;
    expect(audit.map((e) => [e.actor, e.action])).toEqual([["risk-guard", "approval_group.reject"]]);
    await expect(t.scheduler.approveGroup(p.groupId, { actor: "alice" })).rejects.toMatchObject({
      code: "APPROVAL_GROUP_NOT_PENDING",
      field: "groupId",
    });
    await t.scheduler.stop();
  });

  it("names the bad field of a malformed intent or option, and refuses an empty group", async () => {
    const t = trading();
    const errors: unknown[] = [];
    t.scheduler.register("plan", async (ctx) => {
      for (const call of [
        () => ctx.proposeGroup([]),
        () => ctx.proposeGroup([PLAN[0] as OrderIntentInput, { symbol: "AAPL", side: "buy", qty: -1 }]),
        () => ctx.proposeGroup(PLAN, { expiresIn: "soon" }),
      ]) {
        await call().catch((e: unknown) => errors.push(e));
      }
    });
    await t.scheduler.createSchedule({ id: "plan", job: "plan", trigger: { every: "1h" } });
    await t.scheduler.start();
    await t.clock.advance(3_600_000);
    expect(errors.map((e) => (e instanceof ValidationError ? e.field : String(e)))).toEqual([
      "intents",
      "intents.1.qty",
      "options.expiresIn",
    ]);
    expect((await t.scheduler.listApprovals({})).items).toEqual([]);
    await t.scheduler.stop();
  });
});

describe("deciding a group as a unit", () => {
  it("approves all members in one decision, submits them in proposal order, audits once for the group", async () => {
    const t = trading();
    const p = await proposed(t);
    const decision = await t.scheduler.approveGroup(p.groupId, { actor: "alice", reason: "plan ok" });
    expect(decision.results.map((r) => [r.ok, r.status])).toEqual([
      [true, "submitted"],
      [true, "submitted"],
      [true, "submitted"],
    ]);
    expect(decision.group).toMatchObject({
      status: "approved",
      decidedBy: "alice",
      counts: { submitted: 3 },
    });
    expect(t.events.of("order:submitted").map((e) => e.order.symbol)).toEqual(["TSLA", "AAPL", "MSFT"]);
    const groupAudit = (await t.storage.listAudit({ subjectType: "approval_group", limit: 10 })).items;
    const approveEntry = groupAudit.find((e) => e.action === "approval_group.approve");
    expect(approveEntry).toMatchObject({
      actor: "alice",
      subjectId: p.groupId,
      details: { reason: "plan ok", approvalIds: p.approvals.map((a) => a.id) },
    });
    const perMember = (await t.storage.listAudit({ action: "approval.approve", limit: 10 })).items;
    expect(perMember).toHaveLength(3);
    expect(t.events.of("approval-group:decided")).toEqual([
      expect.objectContaining({ decision: "approved", actor: "alice", reason: "plan ok" }),
    ]);
    await expect(t.scheduler.rejectGroup(p.groupId, { actor: "bob" })).rejects.toBeInstanceOf(ConflictError);
    await t.scheduler.stop();
  });

  it("refuses single decisions on a member, and changes nothing when one member is not pending", async () => {
    const t = trading();
    const p = await proposed(t);
    const [single] = await t.scheduler.approve(p.approvals[0]?.id as string, { actor: "alice" });
    expect(single).toMatchObject({ ok: false, code: "APPROVAL_IN_GROUP", status: "pending" });
    const [singleReject] = await t.scheduler.reject(p.approvals[1]?.id as string, { actor: "alice" });
    expect(singleReject).toMatchObject({ ok: false, code: "APPROVAL_IN_GROUP" });
    // A member decided behind the group's back (another tool on the same storage).
    await t.storage.transitionApproval(p.approvals[1]?.id as string, "pending", { status: "rejected" });
    await expect(t.scheduler.approveGroup(p.groupId, { actor: "alice" })).rejects.toMatchObject({
      code: "APPROVAL_GROUP_NOT_PENDING",
      details: { status: "mixed", counts: { pending: 2, rejected: 1 } },
    });
    const after = await t.scheduler.getApprovalGroup(p.groupId);
    expect(after.members.map((m) => m.status)).toEqual(["pending", "rejected", "pending"]);
    expect(t.events.of("order:submitted")).toEqual([]);
    await expect(t.scheduler.getApprovalGroup("apg-nope")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(t.scheduler.approveGroup("", { actor: "alice" })).rejects.toMatchObject({
      field: "groupId",
    });
    await t.scheduler.stop();
  });

  it("lets exactly one of two deciders racing win; the other gets a ConflictError", async () => {
    const t = trading();
    const p = await proposed(t);
    const [a, r] = await Promise.allSettled([
      t.scheduler.approveGroup(p.groupId, { actor: "alice" }),
      t.scheduler.rejectGroup(p.groupId, { actor: "bob", reason: "not today" }),
    ]);
    const outcomes = [a.status, r.status].sort();
    expect(outcomes).toEqual(["fulfilled", "rejected"]);
    const loser = (a.status === "rejected" ? a : r) as PromiseRejectedResult;
    expect(loser.reason).toBeInstanceOf(ConflictError);
    const group = await t.scheduler.getApprovalGroup(p.groupId);
    expect(["approved", "rejected"]).toContain(group.status);
    expect(t.events.of("approval-group:decided")).toHaveLength(1);
    await t.scheduler.stop();
  });

  it("rejects all members with the actor and reason", async () => {
    const t = trading();
    const p = await proposed(t);
    const d = await t.scheduler.rejectGroup(p.groupId, { actor: "bob", reason: "too much turnover" });
    expect(d.group).toMatchObject({
      status: "rejected",
      decidedBy: "bob",
      decisionReason: "too much turnover",
    });
    expect(d.results.every((x) => x.ok && x.status === "rejected")).toBe(true);
    expect(await t.scheduler.pendingApprovalCount()).toBe(0);
    await t.scheduler.stop();
  });

  it("expires a group as a unit (its own expiresIn), after which it cannot be decided", async () => {
    const t = trading();
    const p = await proposed(t, PLAN, { expiresIn: "30m" });
    expect(p.approvals.every((a) => a.expiresAt === (p.approvals[0]?.expiresAt as number))).toBe(true);
    await t.clock.advance(31 * 60_000);
    const group = await t.scheduler.getApprovalGroup(p.groupId);
    expect(group.status).toBe("expired");
    expect(t.events.of("approval-group:expired")).toHaveLength(1);
    expect(t.events.of("approval:expired")).toHaveLength(3);
    await expect(t.scheduler.approveGroup(p.groupId, { actor: "alice" })).rejects.toMatchObject({
      code: "APPROVAL_GROUP_NOT_PENDING",
    });
    const audit = (await t.storage.listAudit({ subjectType: "approval_group", limit: 10 })).items;
    expect(audit.map((e) => e.action)).toEqual(["approval_group.expire"]);
    await t.scheduler.stop();
  });
});

describe("after approval: the broker cannot be all or none", () => {
  it("reports a member the risk re-check refuses as failed, submits the others, and audits it", async () => {
    const t = trading();
    const p = await proposed(t, PLAN, {}, { risk: { maxOrderNotional: 5000 } });
    await t.scheduler.updateSchedule("plan", { risk: { maxOrderNotional: 450 } }, { actor: "risk-desk" });
    const d = await t.scheduler.approveGroup(p.groupId, { actor: "alice", allowRemovedSchedule: false });
    expect(d.results.map((r) => [r.status, r.code ?? null])).toEqual([
      ["failed", "RISK_REJECTED"],
      ["failed", "RISK_REJECTED"],
      ["submitted", null],
    ]);
    expect(d.group).toMatchObject({ status: "approved", counts: { failed: 2, submitted: 1 } });
    const submit = (await t.storage.listAudit({ action: "approval_group.submit", limit: 1 })).items[0];
    expect(submit?.details).toMatchObject({
      submitted: [p.approvals[2]?.id],
      notSubmitted: [
        { id: p.approvals[0]?.id, code: "RISK_REJECTED" },
        { id: p.approvals[1]?.id, code: "RISK_REJECTED" },
      ],
    });
    await t.scheduler.stop();
  });

  it("stops at a member the broker cannot take now; the sweeper submits the rest in order later", async () => {
    const t = trading();
    const p = await proposed(t);
    t.broker.faults.failNext(1, "submitOrder");
    const d = await t.scheduler.approveGroup(p.groupId, { actor: "alice" });
    expect(d.results.map((r) => r.status)).toEqual(["approved", "approved", "approved"]);
    expect(d.results[1]?.reason).toMatch(/earlier member/);
    await t.clock.advance(60_000);
    const group = await t.scheduler.getApprovalGroup(p.groupId);
    expect(group.members.map((m) => m.status)).toEqual(["submitted", "submitted", "submitted"]);
    expect(t.events.of("order:submitted").map((e) => e.order.symbol)).toEqual(["TSLA", "AAPL", "MSFT"]);
    await t.scheduler.stop();
  });

  it("rejects a group whose schedule was removed, as a unit", async () => {
    const t = trading();
    const p = await proposed(t);
    await t.scheduler.removeSchedule("plan", { actor: "ops" });
    const d = await t.scheduler.approveGroup(p.groupId, { actor: "alice" });
    expect(d.group.status).toBe("rejected");
    expect(d.results.every((r) => r.code === "SCHEDULE_NOT_FOUND")).toBe(true);
    expect(t.events.of("order:submitted")).toEqual([]);
    await t.scheduler.stop();
  });
});
