/** `serve()`: the router on a port of its own, with a one-run token. */

import { MemoryStorage, Scheduler } from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import { describe, expect, it } from "vitest";
import { serve } from "../src/index.js";

describe("serve", () => {
  it("listens on 127.0.0.1 with a made-up admin token, serves API and dashboard, and closes", async () => {
    const scheduler = new Scheduler({ storage: new MemoryStorage(), clock: new TestClock() });
    await scheduler.start();
    const served = await serve(scheduler);
    try {
      expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(served.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect((await fetch(`${served.url}/scheduler/status`)).status).toBe(401);
      const ok = await fetch(`${served.url}/scheduler/status`, {
        headers: { authorization: `Bearer ${served.token}` },
      });
      expect(ok.status).toBe(200);
      const page = await fetch(served.dashboardUrl);
      expect(page.url).toBe(`${served.url}/scheduler/ui/`);
    } finally {
      await served.close();
      await scheduler.stop();
    }
    await expect(fetch(`${served.url}/scheduler/status`)).rejects.toThrow();
  });

  it("uses the tokens it is given and makes none up", async () => {
    const scheduler = new Scheduler({ storage: new MemoryStorage(), clock: new TestClock() });
    const served = await serve(scheduler, {
      tokens: [{ name: "v", role: "viewer", token: "viewer-token-0123456789" }],
    });
    try {
      expect(served.token).toBeNull();
      const res = await fetch(`${served.url}/scheduler/auth/session`, {
        headers: { authorization: "Bearer viewer-token-0123456789" },
      });
      expect(await res.json()).toMatchObject({ name: "v", role: "viewer" });
    } finally {
      await served.close();
    }
  });
});
