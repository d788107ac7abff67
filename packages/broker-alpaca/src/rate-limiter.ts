/**
 * The client-side rate limit: at most N requests in any 60 s window (Alpaca allows 200 per minute
 * per API key), plus what Alpaca's headers say: when `X-RateLimit-Remaining` reaches 0, nothing
 * more is sent before `X-RateLimit-Reset`. Requests wait for their slot on the injected clock; one
 * that would wait longer than `maxWaitMs` is refused at once with a BrokerRateLimitedError, so a
 * caller is never parked for minutes.
 *
 * Written here rather than taken from bottleneck, p-throttle or limiter: those read the real
 * clock (Date.now, setTimeout), and this one must run on the injected one and follow the
 * server's reset header.
 */

import { BrokerRateLimitedError, type Clock } from "@tradecron/core";
import { sleep } from "./clock.js";

const WINDOW_MS = 60_000;

/** A sliding-window limiter of request starts. */
export class RateLimiter {
  /** Start times of the last `limit` requests (reserved slots may lie in the future). */
  private readonly starts: number[] = [];
  private blockedUntil = 0;

  constructor(
    private readonly clock: Clock,
    private readonly config: false | { requestsPerMinute: number; maxWaitMs: number },
  ) {}

  /** Waits for a slot. @throws BrokerRateLimitedError when the wait would exceed `maxWaitMs`. */
  async acquire(what: string): Promise<void> {
    const now = this.clock.now();
    if (this.config === false) return;
    const { requestsPerMinute: limit, maxWaitMs } = this.config;
    let at = Math.max(now, this.blockedUntil);
    if (this.starts.length >= limit)
      at = Math.max(at, (this.starts[this.starts.length - limit] as number) + WINDOW_MS);
    const wait = at - now;
    if (wait > maxWaitMs) {
      throw new BrokerRateLimitedError(
        `AlpacaBroker: ${what} held back by the client-side rate limit (${limit}/min); retry after ${wait} ms`,
        wait,
        { details: { clientSide: true } },
      );
    }
    this.starts.push(at);
    if (this.starts.length > limit) this.starts.splice(0, this.starts.length - limit);
    if (wait > 0) await sleep(this.clock, wait);
  }

  /** Reads Alpaca's `X-RateLimit-*` headers: an exhausted quota blocks until the reset. */
  observe(headers: Headers): void {
    const remaining = headers.get("x-ratelimit-remaining");
    const reset = Number(headers.get("x-ratelimit-reset"));
    if (remaining !== null && Number(remaining) <= 0 && Number.isFinite(reset) && reset > 0) {
      this.blockedUntil = Math.max(this.blockedUntil, reset * 1000);
    }
  }
}
