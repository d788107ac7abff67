import { BrokerRateLimitedError } from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limiter.js";

describe("RateLimiter", () => {
  it("lets N requests a minute through and makes the next wait for the window", async () => {
    const clock = new TestClock();
    const limiter = new RateLimiter(clock, { requestsPerMinute: 3, maxWaitMs: 120_000 });
    for (let i = 0; i < 3; i++) await limiter.acquire("x");
    let through = false;
    const fourth = limiter.acquire("x").then(() => {
      through = true;
    });
    await clock.advance(59_999);
    expect(through).toBe(false);
    await clock.advance(1);
    await fourth;
    expect(through).toBe(true);
  });

  it("refuses at once when the wait would exceed maxWaitMs, saying how long to wait", async () => {
    const clock = new TestClock();
    const limiter = new RateLimiter(clock, { requestsPerMinute: 1, maxWaitMs: 1_000 });
    await limiter.acquire("x");
    await clock.advance(10_000);
    const error = await limiter.acquire("GET /v2/account").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerRateLimitedError);
    expect((error as BrokerRateLimitedError).retryAfterMs).toBe(50_000);
  });

  it("holds requests until X-RateLimit-Reset once Alpaca reports the quota used up", async () => {
    const clock = new TestClock("2026-01-05T14:30:00Z");
    const limiter = new RateLimiter(clock, { requestsPerMinute: 200, maxWaitMs: 10_000 });
    const reset = Math.ceil((clock.now() + 5_000) / 1000);
    limiter.observe(new Headers({ "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) }));
    let through = false;
    const next = limiter.acquire("x").then(() => {
      through = true;
    });
    await clock.advance(4_999);
    expect(through).toBe(false);
    await clock.advance(1);
    await next;
    expect(through).toBe(true);
  });

  it("does nothing when turned off", async () => {
    const limiter = new RateLimiter(new TestClock(), false);
    for (let i = 0; i < 1000; i++) await limiter.acquire("x");
  });
});
