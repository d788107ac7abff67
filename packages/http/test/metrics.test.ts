/** `/metrics`: Prometheus text from a registry per router, with bounded label values only. */

import { MemoryStorage, Scheduler } from "@tradecron/core";
import { afterEach, describe, expect, it } from "vitest";
import { createRouter } from "../src/index.js";
import { AUTH, startHost, type TestHost } from "./harness.js";

let host: TestHost;
afterEach(async () => {
  await host.close();
});

/** The value of one sample line (`name{labels} value`), or null. */
function sample(text: string, series: string): number | null {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : null;
}

describe("metrics", () => {
  it("counts fires, outcomes, delays, retries, orders, risk rejections, approvals and the broker", async () => {
    host = await startHost({
      jobs: {
        noop: async () => null,
        flaky: async (ctx) => {
          if (ctx.fire.attempt === 1) throw new Error("transient");
          return null;
        },
        big: async (ctx) => {
          await ctx.submit({ symbol: "AAPL", side: "buy", qty: 1000 });
          return null;
        },
        propose: async (ctx) => {
          await ctx.propose({ symbol: "MSFT", side: "buy", qty: 1 });
          return null;
        },
      },
    });
    await host.request("POST", "/schedules", { body: { id: "n", job: "noop", trigger: { every: "1m" } } });
    await host.request("POST", "/schedules", {
      body: {
        id: "f",
        job: "flaky",
        trigger: { every: "1h" },
        retry: { attempts: 2, backoff: { baseMs: 1000 } },
      },
    });
    await host.request("POST", "/schedules", { body: { id: "b", job: "big", trigger: { every: "1h" } } });
    await host.request("POST", "/schedules", {
      body: { id: "p", job: "propose", requiresApproval: true, trigger: { every: "1h" } },
    });
    await host.clock.advance(120_000);
    // The flaky run waits 1 s (on the test clock) before its second attempt.
    await host.request("POST", "/schedules/f/trigger", { as: "operator" });
    await host.clock.advance(1000);
    for (const id of ["b", "p"])
      await host.request("POST", `/schedules/${id}/trigger`, { as: "operator", body: { wait: true } });
    const res = await host.request("GET", "/metrics", { as: "viewer" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = res.text;
    expect(sample(text, 'tradecron_fires_total{kind="scheduled"}')).toBe(2);
    expect(sample(text, 'tradecron_fires_total{kind="manual"}')).toBe(3);
    expect(sample(text, 'tradecron_runs_total{outcome="succeeded"}')).toBe(5);
    expect(sample(text, 'tradecron_runs_total{outcome="failed"}')).toBe(0);
    expect(sample(text, "tradecron_retries_total")).toBe(1);
    expect(sample(text, "tradecron_fire_delay_seconds_count")).toBe(2);
    expect(sample(text, 'tradecron_risk_rejections_total{rule="max_order_notional"}')).toBe(1);
    expect(sample(text, 'tradecron_orders_total{status="rejected"}')).toBe(1);
    expect(sample(text, "tradecron_approvals_pending")).toBe(1);
    expect(sample(text, 'tradecron_broker_connected{broker="paper"}')).toBe(1);
    expect(sample(text, "tradecron_paused_all")).toBe(0);
    expect(sample(text, 'tradecron_scheduler_state{state="running"}')).toBe(1);
    expect(
      sample(text, 'tradecron_http_requests_total{route="createSchedule",method="POST",status="201"}'),
    ).toBe(4);
    // No label carries an id: schedule ids and client order ids never appear.
    for (const id of ['"n"', '"f"', '"b"', '"p"', "AAPL", "MSFT"]) expect(text).not.toContain(id);
  });

  it("maps unknown label values to `other` and caps distinct rule labels", async () => {
    host = await startHost();
    const s = host.scheduler;
    const execution = { id: "x", scheduleId: "x", kind: "scheduled", scheduledAt: 0 } as never;
    s.emit("run:skipped", { execution, reason: "reason-from-a-plugin-123" });
    for (let i = 0; i < 100; i++) {
      s.emit("order:rejected", {
        clientOrderId: `c${i}`,
        scheduleId: null,
        symbol: "X",
        rule: `custom_rule_${i}`,
        reason: "no",
      });
    }
    const text = (await host.request("GET", "/metrics", { as: "viewer" })).text;
    expect(sample(text, 'tradecron_skipped_fires_total{reason="other"}')).toBe(1);
    const rules = text.split("\n").filter((l) => l.startsWith("tradecron_risk_rejections_total{"));
    expect(rules.length).toBe(33);
    expect(sample(text, 'tradecron_risk_rejections_total{rule="other"}')).toBe(68);
  });

  it("keeps a registry per router (two routers on one scheduler do not collide) and can be public", async () => {
    host = await startHost({ router: { public: { metrics: true } } });
    const other = createRouter(host.scheduler, { auth: AUTH });
    expect(other.registry).not.toBe(host.router.registry);
    other.close();
    const anonymous = await host.request("GET", "/metrics", { as: null });
    expect(anonymous.status).toBe(200);
    const plain = createRouter(new Scheduler({ storage: new MemoryStorage() }), {
      auth: AUTH,
      defaultMetrics: true,
    });
    expect(await plain.registry.metrics()).toContain("process_cpu_user_seconds_total");
    plain.close();
  });
});
