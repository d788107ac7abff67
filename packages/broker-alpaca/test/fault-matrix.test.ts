// DESIGN.md promise 2 on Alpaca's wire protocol: 1,000 intents go through a real Scheduler (with
// retries) into AlpacaBroker and the fake Alpaca, under every fault the adapter must survive:
// timeouts and resets before and after Alpaca accepted the order, 5xx before and after, 429 with
// reset headers, failed lookups, a crash between the broker's acceptance and the order record,
// dropped streams, refused reconnects, duplicate and out-of-order stream events. Then: every
// intent is one order at Alpaca (0 duplicates, 0 lost), and every stored order record matches
// Alpaca's final state. The scheduler runs on a TestClock; the adapter and the fake on real time.

import { clientOrderId, Decimal, MemoryStorage, type OrderRecord, Scheduler } from "@tradecron/core";
import { driveClock, seededRandom, TestClock } from "@tradecron/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { AlpacaBroker } from "../src/index.js";
import { FakeAlpaca, type HttpFaultKind } from "../src/testing/index.js";
import { eventually, quickOptions } from "./helpers.js";

/** Steps of the scheduler's clock while the adapter's real I/O proceeds (driveClock yields to it between steps). */
const DRIVE = { stepMs: 250, maxSteps: 200_000 };

const INTENTS = 1_000;
const PER_FIRE = 50;

/** HTTP faults by share of intents; each strikes that intent's first submit. */
const HTTP_FAULTS: [HttpFaultKind, number][] = [
  ["accept_then_timeout", 0.03],
  ["accept_then_reset", 0.03],
  ["error_after_accept", 0.03],
  ["unavailable", 0.03],
  ["timeout", 0.02],
  ["reset", 0.02],
  ["rate_limited", 0.02],
];

let fake: FakeAlpaca | null = null;
let broker: AlpacaBroker | null = null;

/**
 * The submits and lookups as the adapter sent them, in order, with the status it got (0: no
 * answer). Recorded on the client's side, through the real fetch: a lookup that timed out before
 * the fake read it is missing from the fake's journal, yet it was made.
 */
const sent: { id: string; route: "postOrder" | "getOrderByClientOrderId"; status: number }[] = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  let step: (typeof sent)[number] | null = null;
  if ((init?.method ?? "GET") === "POST" && url.pathname === "/v2/orders") {
    const id = (JSON.parse(String(init?.body)) as { client_order_id?: string }).client_order_id;
    if (id) step = { id, route: "postOrder", status: 0 };
  } else if (url.pathname === "/v2/orders:by_client_order_id") {
    const id = url.searchParams.get("client_order_id");
    if (id) step = { id, route: "getOrderByClientOrderId", status: 0 };
  }
  if (step) sent.push(step);
  const response = await realFetch(input, init);
  if (step) step.status = response.status;
  return response;
};

afterAll(async () => {
  globalThis.fetch = realFetch;
  await broker?.disconnect();
  await fake?.close();
});

describe("no duplicate orders on Alpaca (DESIGN.md promise 2)", () => {
  it("places each of 1,000 intents once through a Scheduler under every fault, and every record matches Alpaca", async () => {
    fake = await FakeAlpaca.start({ initialCash: "10000000" });
    fake.setPrice("AAPL", "100");
    const f = fake;
    const b = new AlpacaBroker(
      quickOptions(f, {
        requestTimeoutMs: 80,
        rateLimit: false,
        pollIntervalMs: 100,
        reconnect: { baseMs: 10, maxMs: 80, jitter: 0.5 },
      }),
    );
    broker = b;

    // The process "dies" right after Alpaca accepted an order, before its record is written.
    const memory = new MemoryStorage();
    let crashes = 0;
    const crashRoll = seededRandom(99);
    const storage = new Proxy(memory, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === "upsertOrder") {
          return async (order: OrderRecord) => {
            const first = order.brokerOrderId !== null && !(await memory.getOrder(order.clientOrderId));
            if (first && crashes < 40 && crashRoll() < 0.03) {
              crashes++;
              throw new Error("crashed between submit and record");
            }
            return memory.upsertOrder(order);
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });

    const clock = new TestClock("2026-01-05T14:30:00Z");
    const scheduler = new Scheduler({ clock, storage, broker: b, instanceId: "matrix", leaseMs: 3_600_000 });
    const random = seededRandom(20260105);
    const rolled = new Set<string>();
    const injected = { http: 0, lookupFailures: 0, drops: 0, duplicates: 0, reorders: 0, refusals: 0 };
    scheduler.register("flood", async (ctx) => {
      f.faults.clear(); // faults left over from an attempt that failed early
      for (let i = 0; i < PER_FIRE; i++) {
        const key = clientOrderId(ctx.fire.idempotencyKey, i);
        if (!rolled.has(key)) {
          // Each intent rolls its faults once, at its first attempt.
          rolled.add(key);
          let roll = random();
          for (const [kind, share] of HTTP_FAULTS) {
            if (roll < share) {
              f.faults.inject({ kind, route: "postOrder", resetInMs: 500 });
              injected.http++;
              if (kind !== "rate_limited" && random() < 0.25) {
                f.faults.inject({ kind: "unavailable", route: "getOrderByClientOrderId" });
                injected.lookupFailures++;
              }
              break;
            }
            roll -= share;
          }
          const s = random();
          if (s < 0.02) {
            f.dropStream();
            injected.drops++;
          } else if (s < 0.06) {
            f.duplicateEvents(2);
            injected.duplicates++;
          } else if (s < 0.1) {
            f.reorderEvents(2);
            injected.reorders++;
          } else if (s < 0.11) {
            f.refuseStream(2);
            injected.refusals++;
          }
        }
        const resting = i % 5 === 4;
        const outcome = await ctx.submit(
          resting
            ? { symbol: "AAPL", side: "buy", qty: 1, type: "limit", limitPrice: 1, timeInForce: "gtc" }
            : { symbol: "AAPL", side: "buy", qty: 1, type: "market" },
        );
        if (outcome.status !== "submitted")
          throw new Error(`intent ${i} not submitted: ${JSON.stringify(outcome)}`);
      }
      return "done";
    });
    await scheduler.createSchedule({
      id: "flood",
      job: "flood",
      trigger: { every: "30d" },
      retry: { attempts: 60, backoff: { baseMs: "1s", factor: 1 } },
    });
    // Connect before the faults (a broker that cannot connect fails intents by the risk rule);
    // the very first request may outlast the short timeout while the process warms up.
    for (let tries = 1; !b.isConnected(); tries++)
      await b.connect().catch((e: unknown) => (tries < 20 ? null : Promise.reject(e)));
    await driveClock(clock, scheduler.start(), DRIVE);

    for (let fire = 0; fire < INTENTS / PER_FIRE; fire++) {
      const run = await driveClock(clock, scheduler.trigger("flood", { actor: "matrix" }), DRIVE);
      expect(run.status, `fire ${fire}: ${JSON.stringify(run.error)}`).toBe("succeeded");
    }

    const recorded: OrderRecord[] = [];
    let cursor: string | null = null;
    do {
      const page = await scheduler.listOrders({ limit: 1000, cursor });
      recorded.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);

    // 0 lost intents, 0 duplicates: 1,000 records, 1,000 orders at Alpaca, the same ids.
    expect(recorded).toHaveLength(INTENTS);
    const atAlpaca = f.orders();
    expect(atAlpaca).toHaveLength(INTENTS);
    expect(new Set(atAlpaca.map((o) => o.client_order_id)).size).toBe(INTENTS);
    expect(new Set(recorded.map((o) => o.clientOrderId))).toEqual(
      new Set(atAlpaca.map((o) => o.client_order_id)),
    );

    // Every record ends in Alpaca's final state (fills arrive by stream, or by reconciliation after a gap).
    const mismatches = () =>
      recorded
        .map((r) =>
          memory
            .getOrder(r.clientOrderId)
            .then((stored) => ({ stored, alpaca: f.order({ clientOrderId: r.clientOrderId }) })),
        )
        .map(async (p) => {
          const { stored, alpaca } = await p;
          const same =
            stored?.brokerOrderId === alpaca?.id &&
            stored?.status === alpaca?.status &&
            new Decimal(stored?.filledQty ?? -1).eq(String(alpaca?.filled_qty));
          return same
            ? null
            : `${stored?.clientOrderId}: stored ${stored?.status}/${stored?.filledQty}, alpaca ${alpaca?.status}/${alpaca?.filled_qty}`;
        });
    let last: string[] = [];
    await eventually(
      async () => {
        last = (await Promise.all(mismatches())).filter((m): m is string => m !== null);
        return last.length === 0;
      },
      8_000,
      "every record matching Alpaca",
    ).catch(() => {
      throw new Error(`${last.length} records differ from Alpaca, e.g. ${last.slice(0, 5).join("; ")}`);
    });

    // The money moved exactly once per fill.
    const filled = atAlpaca.filter((o) => o.status === "filled").length;
    expect(filled).toBe((INTENTS * 4) / 5);
    expect(f.positions()).toEqual([{ symbol: "AAPL", qty: String(filled) }]);
    expect(f.cash).toBe(new Decimal(10_000_000).minus(filled * 100).toString());
    expect(recorded.filter((r) => r.status === "new")).toHaveLength(INTENTS / 5);

    // Never a blind retry: a POST whose outcome was unknown to the adapter (no answer, or a 5xx)
    // is always followed by a lookup of its client order id before any other POST of it.
    const steps = new Map<string, { route: string; status: number }[]>();
    for (const e of sent) steps.set(e.id, [...(steps.get(e.id) ?? []), e]);
    let unknownOutcomes = 0;
    for (const [id, list] of steps) {
      list.forEach((step, i) => {
        if (step.route !== "postOrder" || (step.status !== 0 && step.status < 500)) return;
        unknownOutcomes++;
        expect(list[i + 1]?.route, `${id}: ${list.map((x) => `${x.route}:${x.status}`).join(" > ")}`).toBe(
          "getOrderByClientOrderId",
        );
      });
    }
    expect(unknownOutcomes).toBeGreaterThan(50);

    // The matrix did what it claims: every fault struck, and the adapter absorbed each kind.
    for (const [kind] of HTTP_FAULTS) expect(f.faults.struck[kind], kind).toBeGreaterThan(3);
    expect(f.faults.struck.unavailable).toBeGreaterThan(injected.lookupFailures / 2);
    expect(crashes).toBeGreaterThan(5);
    expect(injected.drops).toBeGreaterThan(5);
    expect(f.streamStats.drops).toBeGreaterThan(5);
    expect(f.streamStats.duplicatesSent).toBeGreaterThan(20);
    expect(f.streamStats.reordered).toBeGreaterThan(20);
    expect(f.streamStats.refused).toBeGreaterThan(0);
    expect(f.streamStats.eventsLost).toBeGreaterThan(0);
    const health = b.health();
    expect(health.updates.duplicatesDropped).toBeGreaterThan(20);
    expect(health.updates.staleDropped).toBeGreaterThan(10);
    expect(health.updates.reconnects).toBeGreaterThan(5);
    expect(health.updates.reconciles).toBeGreaterThan(5);
    expect(health.submits.ambiguous).toBeGreaterThan(50);
    expect(health.submits.duplicatesRefused).toBeGreaterThan(5);
    await driveClock(clock, scheduler.stop(), DRIVE);
  }, 600_000); // a bound for a loaded machine; the outcome, not the speed, is what it checks
});
