import type { OrderRecord } from "@tradecron/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RecipeConfigError, rebalance } from "../src/index.js";
import { actions, world } from "./helpers.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (stops.length > 0) await stops.pop()?.();
});

/** The orders placed, by day and symbol (one fire's orders share an instant; their order is in the run's summary). */
const placed = async (w: ReturnType<typeof world>): Promise<[string, string, string, string][]> =>
  (await w.scheduler.listOrders({ limit: 1000 })).items
    .map((o: OrderRecord): [string, string, string, string] => [
      new Date(o.submittedAt).toISOString().slice(0, 10),
      o.side,
      o.symbol,
      (o.intent as { qty: string }).qty,
    ])
    .sort((a, b) => (a.join() < b.join() ? -1 : 1));

describe("rebalance", () => {
  it("invests cash first, then rebalances a drifted portfolio sells-first, then cools down (cash flows do not)", async () => {
    const w = world("2026-01-05T12:00:00Z", { cash: "10000" });
    w.broker.setPrice("VTI", "100");
    w.broker.setPrice("BND", "50");
    const rule = await rebalance(w.scheduler, {
      id: "6040",
      targets: { VTI: 0.6, BND: 0.4 },
      cooldown: "31d",
    });
    await w.scheduler.start();
    stops.push(() => w.scheduler.stop());
    await w.clock.advanceTo("2026-01-05T16:00:00Z");
    // All cash: it goes to the underweight holdings, 6 000 / 4 000.
    expect(await placed(w)).toEqual([
      ["2026-01-05", "buy", "BND", "80"],
      ["2026-01-05", "buy", "VTI", "60"],
    ]);
    // Investing cash is not a rebalance: no cooldown starts.
    expect(await rule.status()).toMatchObject({ rebalances: 0, cashFlows: 1, cooldownUntil: null });
    await w.clock.advanceTo("2026-01-06T16:00:00Z");
    expect((await actions(w.scheduler, rule.scheduleId)).at(-1)).toMatchObject({
      outcome: "skipped",
      reason: "within_bands",
    });

    // A month later VTI is up 50 %: 9 000 / 4 000 of 13 000 is 69 / 31, out of the 5-point band.
    await w.clock.advanceTo("2026-02-09T12:00:00Z");
    w.broker.setPrice("VTI", "150");
    await w.clock.advanceTo("2026-02-09T16:00:00Z");
    const last = (await actions(w.scheduler, rule.scheduleId)).at(-1);
    expect(last).toMatchObject({
      outcome: "executed",
      reason: null,
      details: { trigger: "drift", total: "13000" },
    });
    expect(last?.orders.map((o) => [o.side, o.symbol, o.status, o.orderStatus])).toEqual([
      ["sell", "VTI", "submitted", "filled"],
      ["buy", "BND", "submitted", "filled"],
    ]);
    expect((await placed(w)).slice(2)).toEqual([
      ["2026-02-09", "buy", "BND", "24"],
      ["2026-02-09", "sell", "VTI", "8"],
    ]);
    const positions = Object.fromEntries((await w.broker.getPositions()).map((p) => [p.symbol, p.qty]));
    expect(positions).toEqual({ VTI: "52", BND: "104" });
    expect(await rule.status()).toMatchObject({ rebalances: 1, cashFlows: 1, cooldownUntil: "2026-03-12" });
    // Out of band again the next day: the cooldown holds the trades back, with the drift recorded.
    await w.clock.advanceTo("2026-02-10T12:00:00Z");
    w.broker.setPrice("VTI", "200");
    await w.clock.advanceTo("2026-02-10T16:00:00Z");
    expect((await actions(w.scheduler, rule.scheduleId)).at(-1)).toMatchObject({
      outcome: "skipped",
      reason: "cooldown",
      details: { until: "2026-03-12", trigger: "drift" },
    });
  });

  it("within the bands it records the drift and trades nothing", async () => {
    const w = world("2026-01-05T12:00:00Z", { cash: "10000" });
    w.broker.setPrice("VTI", "100");
    w.broker.setPrice("BND", "50");
    const rule = await rebalance(w.scheduler, {
      id: "calm",
      targets: { VTI: 0.6, BND: 0.4 },
      cadence: { every: "week", weekday: 1 },
    });
    await w.scheduler.start();
    stops.push(() => w.scheduler.stop());
    await w.clock.advanceTo("2026-01-05T16:00:00Z");
    w.broker.setPrice("VTI", "105");
    await w.clock.advanceTo("2026-01-13T00:00:00Z");
    const checks = await actions(w.scheduler, rule.scheduleId);
    expect(checks.map((c) => [c.period, c.outcome, c.reason])).toEqual([
      ["2026-01-05", "executed", null],
      ["2026-01-12", "skipped", "within_bands"],
    ]);
    expect(checks[1]?.details?.drift).toEqual([
      expect.objectContaining({ symbol: "VTI", weight: expect.stringMatching(/^0\.61/), outOfBand: false }),
      expect.objectContaining({ symbol: "BND", outOfBand: false }),
    ]);
    const preview = await rule.preview();
    expect(preview).toMatchObject({ due: false, reason: "within_bands" });
  });

  it("with confirmation the plan waits as one group, is placed sells-first when approved, and starts the cooldown then", async () => {
    // Start from a drifted portfolio: 90 VTI at 100 and 20 BND at 50 (90 % / 10 %).
    const w2 = world("2026-01-05T12:00:00Z", { cash: "10000" });
    w2.broker.setPrice("VTI", "100");
    w2.broker.setPrice("BND", "50");
    const market = { type: "market", timeInForce: "day", extendedHours: false, riskLevel: "medium" } as const;
    await w2.broker.submitOrder({
      clientOrderId: "seed-1",
      intent: { symbol: "VTI", side: "buy", qty: "90", ...market },
    });
    await w2.broker.submitOrder({
      clientOrderId: "seed-2",
      intent: { symbol: "BND", side: "buy", qty: "20", ...market },
    });
    const rule = await rebalance(w2.scheduler, {
      id: "ask",
      targets: { VTI: 0.6, BND: 0.4 },
      requireConfirmation: true,
      approvalExpiry: "2d",
      cooldown: "7d",
    });
    await w2.scheduler.start();
    stops.push(() => w2.scheduler.stop());
    await w2.clock.advanceTo("2026-01-05T16:00:00Z");
    const proposed = (await actions(w2.scheduler, rule.scheduleId)).at(-1);
    expect(proposed).toMatchObject({ outcome: "proposed" });
    expect(proposed?.orders.map((o) => [o.side, o.symbol, o.status])).toEqual([
      ["sell", "VTI", "pending"],
      ["buy", "BND", "pending"],
    ]);
    const { pendingPlan } = await rule.status();
    expect(pendingPlan).toBe(proposed?.details?.groupId);
    // The next day's check does not stack a second plan.
    await w2.clock.advanceTo("2026-01-06T16:00:00Z");
    expect((await actions(w2.scheduler, rule.scheduleId)).at(-1)).toMatchObject({ reason: "plan_pending" });
    const decisions = await rule.approvePlan({ actor: "alice", reason: "looks right" });
    expect(decisions.map((d) => d.status)).toEqual(["submitted", "submitted"]);
    const positions = Object.fromEntries((await w2.broker.getPositions()).map((p) => [p.symbol, p.qty]));
    // 10 000 total: 6 000 VTI (60), 4 000 BND (80).
    expect(positions).toEqual({ VTI: "60", BND: "80" });
    await w2.clock.advanceTo("2026-01-07T16:00:00Z");
    expect((await actions(w2.scheduler, rule.scheduleId)).at(-1)).toMatchObject({ reason: "within_bands" });
    // The cooldown counts from the approval (Jan 6).
    expect(await rule.status()).toMatchObject({
      rebalances: 1,
      pendingPlan: null,
      cooldownUntil: "2026-01-13",
    });
    const audit = (await w2.scheduler.listAudit({ action: "approval.approve" })).items;
    expect(audit.map((a) => a.actor)).toEqual(["alice", "alice"]);
  });

  it("a rejected plan is not a rebalance: the next check plans again", async () => {
    const w = world("2026-01-05T12:00:00Z", { cash: "10000" });
    w.broker.setPrice("VTI", "100");
    w.broker.setPrice("BND", "50");
    const rule = await rebalance(w.scheduler, {
      id: "no",
      targets: { VTI: 0.6, BND: 0.4 },
      requireConfirmation: true,
      cooldown: "7d",
    });
    await w.scheduler.start();
    stops.push(() => w.scheduler.stop());
    await w.clock.advanceTo("2026-01-05T16:00:00Z");
    await rule.rejectPlan({ actor: "bob", reason: "wait" });
    await w.clock.advanceTo("2026-01-06T16:00:00Z");
    expect((await actions(w.scheduler, rule.scheduleId)).map((s) => s.outcome)).toEqual([
      "proposed",
      "proposed",
    ]);
    await expect(rule.approvePlan({ actor: "bob", groupId: "nope" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("a plan is core's approval group, approved as one unit by one call with one group audit entry", async () => {
    const w = world("2026-01-05T12:00:00Z", { cash: "10000" });
    w.broker.setPrice("VTI", "100");
    w.broker.setPrice("BND", "50");
    const market = { type: "market", timeInForce: "day", extendedHours: false, riskLevel: "medium" } as const;
    await w.broker.submitOrder({
      clientOrderId: "seed-1",
      intent: { symbol: "VTI", side: "buy", qty: "90", ...market },
    });
    await w.broker.submitOrder({
      clientOrderId: "seed-2",
      intent: { symbol: "BND", side: "buy", qty: "20", ...market },
    });
    const rule = await rebalance(w.scheduler, {
      id: "unit",
      targets: { VTI: 0.6, BND: 0.4 },
      requireConfirmation: true,
    });
    await w.scheduler.start();
    stops.push(() => w.scheduler.stop());
    await w.clock.advanceTo("2026-01-05T16:00:00Z");
    const { pendingPlan } = await rule.status();
    expect(pendingPlan).toMatch(/^apg-/);
    const groupId = pendingPlan as string;
    const members = (await w.scheduler.listApprovals({ groupId })).items;
    const sideOf = (intent: unknown) => intent as { symbol: string; side: string };
    expect(members.map((m) => [sideOf(m.intent).symbol, sideOf(m.intent).side, m.status])).toEqual([
      ["VTI", "sell", "pending"],
      ["BND", "buy", "pending"],
    ]);
    // A member cannot be decided on its own: the plan is one unit.
    const single = await w.scheduler.approve([members[0]?.id as string], { actor: "mallory" });
    expect(single[0]).toMatchObject({ ok: false, code: "APPROVAL_IN_GROUP" });

    const approveGroup = vi.spyOn(w.scheduler, "approveGroup");
    const approve = vi.spyOn(w.scheduler, "approve");
    const results = await rule.approvePlan({ actor: "alice", reason: "one unit" });
    expect(approveGroup).toHaveBeenCalledTimes(1);
    expect(approveGroup).toHaveBeenCalledWith(groupId, { actor: "alice", reason: "one unit" });
    expect(approve).not.toHaveBeenCalled();
    expect(results.map((r) => [r.id, r.status])).toEqual(members.map((m) => [m.id, "submitted"]));
    const group = await w.scheduler.getApprovalGroup(groupId);
    expect(group).toMatchObject({ status: "approved", scheduleId: rule.scheduleId, decidedBy: "alice" });
    // Decided in one write: every member carries the same decision instant, actor and reason.
    expect(new Set(group.members.map((m) => `${m.decidedAt} ${m.decidedBy} ${m.decisionReason}`)).size).toBe(
      1,
    );
    const decisions = (await w.scheduler.listAudit({ subjectType: "approval_group" })).items.filter((a) =>
      ["approval_group.approve", "approval_group.reject"].includes(a.action),
    );
    expect(decisions.map((a) => [a.action, a.actor, a.subjectId])).toEqual([
      ["approval_group.approve", "alice", groupId],
    ]);
    // A decided plan cannot be decided again; an unknown one is the recipe's PlanNotFoundError.
    await expect(rule.approvePlan({ actor: "alice", groupId })).rejects.toMatchObject({
      code: "APPROVAL_GROUP_NOT_PENDING",
    });
    await expect(rule.rejectPlan({ actor: "alice", groupId: "apg-unknown" })).rejects.toMatchObject({
      name: "PlanNotFoundError",
      code: "NOT_FOUND",
    });
  });
});

describe("rebalance: retries", () => {
  it("a retry whose plan no longer matches what the first attempt placed places nothing new; the next check finishes", async () => {
    const w = world("2026-01-05T12:00:00Z", { cash: "10000" });
    w.broker.setPrice("VTI", "100");
    w.broker.setPrice("BND", "50");
    const market = { type: "market", timeInForce: "day", extendedHours: false, riskLevel: "medium" } as const;
    await w.broker.submitOrder({
      clientOrderId: "seed-1",
      intent: { symbol: "VTI", side: "buy", qty: "90", ...market },
    });
    await w.broker.submitOrder({
      clientOrderId: "seed-2",
      intent: { symbol: "BND", side: "buy", qty: "20", ...market },
    });
    const rule = await rebalance(w.scheduler, {
      id: "retry",
      targets: { VTI: 0.6, BND: 0.4 },
      retry: { attempts: 2, backoff: { baseMs: 1000 } },
    });
    await w.scheduler.start();
    stops.push(() => w.scheduler.stop());
    // The sell of 30 VTI reaches the broker, its answer is lost: the run is retried. The retry sees
    // 3 000 of cash and plans a cash-flow buy at position 0, where the sell is: it defers.
    w.broker.faults.acceptThenTimeOut(1);
    await w.clock.advanceTo("2026-01-05T16:00:00Z");
    expect((await actions(w.scheduler, rule.scheduleId)).at(-1)).toMatchObject({
      outcome: "deferred",
      reason: expect.stringMatching(/sell VTI at position 0, the new plan has buy BND/),
    });
    await w.clock.advanceTo("2026-01-06T16:00:00Z");
    expect((await actions(w.scheduler, rule.scheduleId)).at(-1)).toMatchObject({
      outcome: "executed",
      details: { trigger: "cash_flow" },
    });
    expect(Object.fromEntries((await w.broker.getPositions()).map((p) => [p.symbol, p.qty]))).toEqual({
      VTI: "60",
      BND: "80",
    });
    expect(await placed(w)).toEqual([
      ["2026-01-05", "sell", "VTI", "30"],
      ["2026-01-06", "buy", "BND", "60"],
    ]);
  });
});

describe("rebalance: bad rules", () => {
  const w = world("2026-01-05T12:00:00Z");
  it.each([
    [{ targets: { VTI: 0.6, BND: 0.3 } }, "targets", /sum to 1, they sum to 0.9/],
    [{ targets: { VTI: 1.2, BND: -0.2 } }, "targets.0.weight", /between 0 and 1/],
    [{ targets: { VTI: 1 }, bands: { absolute: 1.5 } }, "bands.absolute", /between 0 and 1/],
    [{ targets: { VTI: 1 }, bands: { relative: -0.1 } }, "bands.relative", /between 0 and 1/],
    [{ targets: { VTI: 1 }, bands: { absolute: 0 } }, "bands.absolute", /above 0/],
    [{ targets: { VTI: 1 }, bands: null }, "bands", /needs bands/],
    [{ targets: { VTI: 1 }, cashBuffer: { fraction: 1 } }, "cashBuffer.fraction", /below 1/],
    [{ targets: { VTI: 1 }, minTrade: -1 }, "minTrade", /negative/],
    [{ targets: { VTI: 1 }, cooldown: "soon" }, "cooldown", /duration/],
    [
      {
        targets: [
          { symbol: "VTI", weight: 0.5 },
          { symbol: "vti", weight: 0.5 },
        ],
      },
      "targets.1.symbol",
      /twice/,
    ],
  ])("rejects %j naming the field", async (input, field, message) => {
    const error = await rebalance(w.scheduler, { id: "bad", ...(input as object) } as never).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RecipeConfigError);
    expect(error).toMatchObject({ field, recipe: "rebalance" });
    expect((error as Error).message).toMatch(message);
  });

  it("rejects a target outside the universe", async () => {
    const error = await rebalance(w.scheduler, {
      id: "u",
      targets: { VTI: 0.5, ZZZ: 0.5 },
      universe: (s) => s === "VTI",
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ field: "targets.1.symbol", message: expect.stringMatching(/ZZZ/) });
  });
});
