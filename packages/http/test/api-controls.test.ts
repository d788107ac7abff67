/** Pause-all, resume-all, lifecycle control, health and status over HTTP. */

import { afterEach, describe, expect, it } from "vitest";
import { startHost, type TestHost } from "./harness.js";

type Controls = {
  pausedAll: boolean;
  reason: string | null;
  pausedBy: string | null;
  state: string;
  lifecycleControl: boolean;
};
type Problem = { code: string; status: number };

let host: TestHost;
afterEach(async () => {
  await host.close();
});

describe("controls", () => {
  it("pauses everything with a reason, refuses manual fires meanwhile, and resumes", async () => {
    host = await startHost();
    await host.request("POST", "/schedules", { body: { id: "e", job: "noop", trigger: { every: "1m" } } });
    const paused = await host.request<Controls & { cancelledOrders: unknown }>(
      "POST",
      "/controls/pause-all",
      {
        as: "operator",
        body: { reason: "broker outage" },
      },
    );
    expect(paused.body).toMatchObject({
      pausedAll: true,
      reason: "broker outage",
      pausedBy: "otto",
      cancelledOrders: null,
    });
    const status = await host.request<{ pausedAll: boolean; pausedAllBy: string; pausedAllReason: string }>(
      "GET",
      "/status",
      {
        as: "viewer",
      },
    );
    expect(status.body).toMatchObject({
      pausedAll: true,
      pausedAllBy: "otto",
      pausedAllReason: "broker outage",
    });
    const preview = await host.request<{ fires: { skip: string }[] }>("GET", "/schedules/e/preview?count=1", {
      as: "viewer",
    });
    expect(preview.body.fires[0]?.skip).toBe("paused_all");
    const trigger = await host.request<Problem>("POST", "/schedules/e/trigger", { as: "operator" });
    expect(trigger.status).toBe(409);
    expect(trigger.body.code).toBe("PAUSED");
    await host.clock.advance(180_000);
    const execs = await host.request<{ items: unknown[] }>(
      "GET",
      "/executions?scheduleId=e&status=succeeded",
      { as: "viewer" },
    );
    expect(execs.body.items).toEqual([]);
    const health = await host.request<{ status: string; reasons: string[] }>("GET", "/health", {
      as: "viewer",
    });
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: "degraded", reasons: ["emergency pause-all is in force"] });
    const resumed = await host.request<Controls>("POST", "/controls/resume-all", { as: "operator" });
    expect(resumed.body).toMatchObject({ pausedAll: false, reason: null });
    const audit = await host.request<{ items: { action: string; actor: string }[] }>(
      "GET",
      "/audit?subjectType=scheduler",
      {
        as: "viewer",
      },
    );
    expect(audit.body.items.map((a) => `${a.actor} ${a.action}`)).toEqual([
      "otto scheduler.resume_all",
      "otto scheduler.pause_all",
    ]);
  });

  it("cancels open orders with pause-all when asked, and says how many", async () => {
    host = await startHost();
    await host.broker.submitOrder({
      clientOrderId: "manual-1",
      intent: {
        symbol: "AAPL",
        side: "buy",
        qty: "1",
        type: "limit",
        limitPrice: "1.00",
        timeInForce: "gtc",
        extendedHours: false,
        riskLevel: "low",
      } as never,
    });
    expect((await host.broker.getOpenOrders()).length).toBe(1);
    const res = await host.request<{ cancelledOrders: { cancelled: number } }>(
      "POST",
      "/controls/pause-all",
      {
        as: "operator",
        body: { reason: "stop", cancelOpenOrders: true },
      },
    );
    expect(res.body.cancelledOrders?.cancelled).toBe(1);
    expect(await host.broker.getOpenOrders()).toEqual([]);
  });

  it("refuses lifecycle control unless the host allows it", async () => {
    host = await startHost();
    const res = await host.request<Problem>("POST", "/controls/pause", { as: "admin" });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("LIFECYCLE_DISABLED");
    expect(host.scheduler.state).toBe("running");
  });

  it("pauses, resumes, stops and starts the instance where the host allows it", async () => {
    host = await startHost({ router: { lifecycleControl: true } });
    expect((await host.request<Controls>("POST", "/controls/pause", { as: "operator" })).body.state).toBe(
      "paused",
    );
    expect((await host.request<Controls>("POST", "/controls/resume", { as: "operator" })).body.state).toBe(
      "running",
    );
    expect((await host.request<Problem>("POST", "/controls/stop", { as: "operator" })).status).toBe(403);
    const stopped = await host.request<Controls>("POST", "/controls/stop", {
      as: "admin",
      body: { timeoutMs: 0 },
    });
    expect(stopped.body.state).toBe("stopped");
    const health = await host.request<{ status: string }>("GET", "/health", { as: "viewer" });
    expect(health.status).toBe(503);
    expect(health.body.status).toBe("unhealthy");
    expect((await host.request<Controls>("POST", "/controls/start", { as: "admin" })).body.state).toBe(
      "running",
    );
  });
});

describe("health", () => {
  it("needs a token by default; public health gives the verdict without reasons", async () => {
    host = await startHost();
    expect((await host.request("GET", "/health", { as: null })).status).toBe(401);
    await host.close();
    host = await startHost({ router: { public: { health: true } } });
    await host.request("POST", "/controls/pause-all", { as: "operator" });
    const anonymous = await host.request<Record<string, unknown>>("GET", "/health", { as: null });
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.status).toBe("degraded");
    expect(anonymous.body).not.toHaveProperty("reasons");
    const viewer = await host.request<Record<string, unknown>>("GET", "/health", { as: "viewer" });
    expect(viewer.body.reasons).toEqual(["emergency pause-all is in force"]);
  });
});
