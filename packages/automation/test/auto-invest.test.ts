import { Decimal, type OrderRecord } from "@tradecron/core";
import { afterEach, describe, expect, it } from "vitest";
import { autoInvest, RecipeConfigError } from "../src/index.js";
import { actions, history, world } from "./helpers.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (stops.length > 0) await stops.pop()?.();
});

async function orders(w: ReturnType<typeof world>): Promise<OrderRecord[]> {
  return (await w.scheduler.listOrders({ limit: 1000 })).items.reverse();
}

describe("autoInvest", () => {
  it("buys on the 15th of each month (rolled past a weekend and a holiday), stops at the cap with a partial last purchase", async () => {
    const w = world("2026-01-05T12:00:00Z");
    w.broker.setPrice("VTI", "250");
    w.broker.setPrice("BND", "72.5");
    const rule = await autoInvest(w.scheduler, {
      id: "core",
      legs: [
        { symbol: "VTI", weight: 0.6 },
        { symbol: "BND", weight: 0.4 },
      ],
      amount: 500,
      cap: 1200,
      cadence: { every: "month", day: 15 },
    });
    expect(rule.scheduleId).toBe("auto-invest:core");
    expect(await rule.nextExecution()).toMatchObject({ date: "2026-01-15", at: "2026-01-15T15:00:00.000Z" });
    await w.scheduler.start();
    stops.push(() => w.scheduler.stop());
    await w.clock.advanceTo("2026-05-01T00:00:00Z");

    const done = await actions(w.scheduler, rule.scheduleId);
    expect(done.map((s) => [s.period, s.outcome, s.reason])).toEqual([
      ["2026-01", "executed", null],
      ["2026-02", "executed", null],
      ["2026-03", "executed", "cap_partial"],
      ["2026-04", "skipped", "cap_reached"],
    ]);
    const placed = await orders(w);
    expect(
      placed.map((o) => [
        new Date(o.submittedAt).toISOString(),
        o.symbol,
        (o.intent as { notional: string }).notional,
        o.status,
      ]),
    ).toEqual([
      ["2026-01-15T15:00:00.000Z", "VTI", "300", "filled"],
      ["2026-01-15T15:00:00.000Z", "BND", "200", "filled"],
      // Feb 15 is a Sunday, the 16th Washington's Birthday.
      ["2026-02-17T15:00:00.000Z", "VTI", "300", "filled"],
      ["2026-02-17T15:00:00.000Z", "BND", "200", "filled"],
      // After the US clock change the open is 13:30 UTC.
      ["2026-03-16T14:00:00.000Z", "VTI", "120", "filled"],
      ["2026-03-16T14:00:00.000Z", "BND", "80", "filled"],
    ]);
    const status = await rule.status();
    expect(status).toMatchObject({
      invested: "1200",
      remaining: "0",
      executions: 3,
      capReached: true,
      next: null,
    });
    // Each notional buy's quantity is rounded down to 9 decimals by the broker, order by order.
    const shares = (notional: number) =>
      new Decimal(notional).div("72.5").toDecimalPlaces(9, Decimal.ROUND_DOWN);
    const positions = await w.broker.getPositions();
    expect(positions.map((p) => [p.symbol, p.qty])).toEqual([
      ["BND", shares(200).times(2).plus(shares(80)).toString()],
      ["VTI", "2.88"],
    ]);
  });

  it("month end on a weekend stays in its month with modified following; 30 minutes before an early close is 12:30", async () => {
    const w = world("2026-01-26T12:00:00Z");
    w.broker.setPrice("VTI", "100");
    const monthEnd = await autoInvest(w.scheduler, {
      id: "month-end",
      symbol: "VTI",
      amount: 100,
      cadence: { every: "month", day: 31, roll: "modified_following" },
      time: { event: "close", offsetMinutes: -30 },
    });
    await w.scheduler.start();
    stops.push(() => w.scheduler.stop());
    await w.clock.advanceTo("2026-03-01T00:00:00Z");
    // Jan 31 and Feb 28 are Saturdays: Friday Jan 30 and Friday Feb 27, at 15:30 New York.
    expect((await orders(w)).map((o) => new Date(o.submittedAt).toISOString())).toEqual([
      "2026-01-30T20:30:00.000Z",
      "2026-02-27T20:30:00.000Z",
    ]);
    await w.scheduler.stop();

    const n = world("2026-11-20T12:00:00Z");
    n.broker.setPrice("VTI", "100");
    await autoInvest(n.scheduler, {
      id: "thanksgiving",
      symbol: "VTI",
      amount: 100,
      cadence: { every: "week", weekday: "thursday" },
      time: { event: "close", offsetMinutes: -30 },
    });
    await n.scheduler.start();
    stops.push(() => n.scheduler.stop());
    await n.clock.advanceTo("2026-11-28T00:00:00Z");
    // Thursday is Thanksgiving: Friday, an early close at 13:00, so the order goes at 12:30.
    expect((await orders(n)).map((o) => new Date(o.submittedAt).toISOString())).toEqual([
      "2026-11-27T17:30:00.000Z",
    ]);
    expect(monthEnd.scheduleId).toBe("auto-invest:month-end");
  });

  it("a fire missed while the scheduler was down buys later in its period; one period is never bought twice", async () => {
    const w = world("2026-01-05T12:00:00Z");
    w.broker.setPrice("VTI", "100");
    const rule = await autoInvest(w.scheduler, {
      id: "vti",
      symbol: "VTI",
      amount: 100,
      cadence: { every: "week", weekday: "monday" },
    });
    await w.scheduler.start();
    await w.clock.advanceTo("2026-01-05T16:00:00Z"); // Monday Jan 5 bought
    await w.scheduler.stop();
    // Down all of Monday Jan 12 and Tuesday; back on Wednesday.
    w.clock.jump("2026-01-14T12:00:00Z");
    await w.scheduler.start();
    stops.push(() => w.scheduler.stop());
    await w.clock.advanceTo("2026-01-23T00:00:00Z");
    const done = await actions(w.scheduler, rule.scheduleId);
    expect(done.map((s) => [s.period, s.outcome])).toEqual([
      ["2026-01-05", "executed"],
      ["2026-01-12", "executed"],
      // Jan 19 is Martin Luther King Jr. Day: Tuesday the 20th.
      ["2026-01-19", "executed"],
    ]);
    const dates = (await orders(w)).map((o) => new Date(o.submittedAt).toISOString().slice(0, 10));
    expect(dates).toEqual(["2026-01-05", "2026-01-14", "2026-01-20"]);
  });

  it("a lost broker response is retried with the same client order id: one order, counted once against the cap", async () => {
    const w = world("2026-01-05T12:00:00Z");
    w.broker.setPrice("VTI", "100");
    w.broker.setPrice("BND", "50");
    const rule = await autoInvest(w.scheduler, {
      id: "lost",
      legs: [
        { symbol: "VTI", weight: "0.5" },
        { symbol: "BND", weight: "0.5" },
      ],
      amount: 1000,
      cap: 1500,
      cadence: "daily",
      retry: { attempts: 3, backoff: { baseMs: 1000 } },
    });
    await w.scheduler.start();
    stops.push(() => w.scheduler.stop());
    // The first submit reaches the broker, then its answer is lost: the run fails and retries.
    w.broker.faults.acceptThenTimeOut(1);
    await w.clock.advanceTo("2026-01-05T16:00:00Z");
    const runs = await history(w.scheduler, rule.scheduleId);
    expect(runs.map((e) => [e.status, e.attempts])).toEqual([["succeeded", 2]]);
    expect((await orders(w)).map((o) => [o.symbol, (o.intent as { notional: string }).notional])).toEqual([
      ["VTI", "500"],
      ["BND", "500"],
    ]);
    expect((await rule.status()).invested).toBe("1000");
    await w.clock.advanceTo("2026-01-07T16:00:00Z");
    // Tuesday buys the 500 left (250 + 250); Wednesday has nothing left under the cap.
    expect((await actions(w.scheduler, rule.scheduleId)).map((s) => [s.outcome, s.reason])).toEqual([
      ["executed", null],
      ["executed", "cap_partial"],
      ["skipped", "cap_reached"],
    ]);
    expect((await rule.status()).invested).toBe("1500");
    const spent = (await orders(w)).reduce(
      (a, o) => a.plus((o.intent as { notional: string }).notional),
      new Decimal(0),
    );
    expect(spent.toString()).toBe("1500");
  });

  it("with approval, each purchase waits as one group; a refused one frees the cap again", async () => {
    const w = world("2026-01-05T12:00:00Z");
    w.broker.setPrice("VTI", "100");
    const rule = await autoInvest(w.scheduler, {
      id: "ask",
      symbol: "VTI",
      amount: 100,
      cap: 200,
      cadence: "daily",
      requiresApproval: true,
    });
    await w.scheduler.start();
    stops.push(() => w.scheduler.stop());
    await w.clock.advanceTo("2026-01-05T16:00:00Z");
    const pending = (await w.scheduler.listApprovals({ status: "pending" })).items;
    expect(pending).toHaveLength(1);
    expect(await rule.status()).toMatchObject({ invested: "100", pendingApprovals: 1 });
    // The purchase is one approval group: its members are decided together, never one by one.
    const groupId = pending[0]?.groupId as string;
    expect(groupId).toMatch(/^apg-/);
    expect(await w.scheduler.approve([pending[0]?.id as string], { actor: "alice" })).toMatchObject([
      { ok: false, code: "APPROVAL_IN_GROUP" },
    ]);
    await w.scheduler.rejectGroup(groupId, { actor: "alice", reason: "not today" });
    await w.clock.advanceTo("2026-01-06T16:00:00Z");
    // The refusal released its 100; Tuesday proposes again.
    expect(await rule.status()).toMatchObject({ invested: "100", pendingApprovals: 1 });
    const next = (await w.scheduler.listApprovals({ status: "pending" })).items;
    expect(next[0]?.groupId).not.toBe(groupId);
    await w.scheduler.approveGroup(next[0]?.groupId as string, { actor: "alice" });
    expect((await orders(w)).map((o) => [o.symbol, o.status])).toEqual([["VTI", "filled"]]);
  });

  it("declaring again (a restart) keeps the schedule and its state; a changed rule updates it", async () => {
    const w = world("2026-01-05T12:00:00Z");
    w.broker.setPrice("VTI", "100");
    const options = { id: "again", symbol: "VTI", amount: 100, cadence: "daily" as const };
    const first = await autoInvest(w.scheduler, options);
    await w.scheduler.start();
    await w.clock.advanceTo("2026-01-05T16:00:00Z");
    await w.scheduler.stop();
    const second = world("", { clock: w.clock, storage: w.storage, broker: w.broker, instanceId: "b" });
    const again = await autoInvest(second.scheduler, { ...options, amount: 150 });
    expect(again.schedule.revision).toBe(first.schedule.revision + 1);
    expect((again.schedule.data as { amount: string }).amount).toBe("150");
    expect(await again.state()).toMatchObject({ invested: "100", executions: 1, lastPeriod: "2026-01-05" });
    const same = world("", { clock: w.clock, storage: w.storage, broker: w.broker, instanceId: "c" });
    expect((await autoInvest(same.scheduler, { ...options, amount: 150 })).schedule.revision).toBe(
      again.schedule.revision,
    );
  });

  it("executeNow buys the next period early, and that period is not bought again", async () => {
    const w = world("2026-01-05T12:00:00Z");
    w.broker.setPrice("VTI", "100");
    const rule = await autoInvest(w.scheduler, {
      id: "now",
      symbol: "VTI",
      amount: 100,
      cadence: { every: "month", day: 15 },
    });
    await w.scheduler.start();
    stops.push(() => w.scheduler.stop());
    const run = await rule.executeNow({ actor: "alice" });
    expect(run).toMatchObject({ kind: "manual", actor: "alice", status: "succeeded" });
    await w.clock.advanceTo("2026-01-20T00:00:00Z");
    expect((await orders(w)).map((o) => new Date(o.submittedAt).toISOString().slice(0, 10))).toEqual([
      "2026-01-05",
    ]);
    expect((await rule.nextExecution())?.date).toBe("2026-02-17");
  });
});

describe("autoInvest: bad rules", () => {
  const w = world("2026-01-05T12:00:00Z");
  const base = { id: "bad", cadence: "daily" as const };
  it.each([
    [
      {
        ...base,
        legs: [
          { symbol: "A", weight: 0.5 },
          { symbol: "B", weight: 0.4 },
        ],
        amount: 100,
      },
      "legs",
      /sum to 0.9/,
    ],
    [{ ...base, symbol: "A", amount: -5 }, "amount", /greater than 0/],
    [{ ...base, symbol: "A", amount: 100, cap: 50 }, "cap", /below the amount/],
    [{ ...base, symbol: "A" }, "amount", /amount/],
    [{ ...base, symbol: "A", amount: 100, quantity: 1 }, "quantity", /not both/],
    [
      {
        ...base,
        legs: [
          { symbol: "A", weight: 1 },
          { symbol: "A", weight: 0 },
        ],
        amount: 100,
      },
      "legs.1.weight",
      /greater than 0/,
    ],
    [
      {
        ...base,
        legs: [
          { symbol: "A", weight: 0.5 },
          { symbol: "A", weight: 0.5 },
        ],
        amount: 100,
      },
      "legs.1.symbol",
      /twice/,
    ],
    [{ ...base, legs: [{ symbol: "A" }], amount: 100 }, "legs.0.weight", /weight/],
    [{ ...base, symbol: "A", amount: 100, cadence: { every: "month", day: 40 } }, "cadence.day", /31/],
    [{ ...base, symbol: "A", amount: 100, calendar: "XMARS" }, "calendar", /unknown calendar/],
    [{ ...base, id: "has space", symbol: "A", amount: 100 }, "id", /characters/],
  ])("rejects %j naming the field", async (input, field, message) => {
    const error = await autoInvest(w.scheduler, input as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecipeConfigError);
    expect(error).toMatchObject({ field, code: "VALIDATION", recipe: "autoInvest" });
    expect((error as Error).message).toMatch(message);
  });

  it("rejects a symbol outside the universe", async () => {
    const error = await autoInvest(w.scheduler, {
      ...base,
      symbol: "XYZ",
      amount: 10,
      universe: ["VTI", "BND"],
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: "RecipeConfigError",
      field: "symbol",
      message: expect.stringMatching(/unknown symbol 'XYZ'/),
    });
  });
});
