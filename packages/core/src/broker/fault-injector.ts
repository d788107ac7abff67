/**
 * Fault injection for PaperBroker: the failures a real broker connection produces (outages,
 * throttling, latency, and the response lost after the order was placed), queued on demand so a
 * test can put a retry loop through each of them deterministically.
 */

import { z } from "zod";
import { type Clock, sleep } from "../time/clock.js";
import { parseInput } from "../validation.js";
import { BrokerRateLimitedError, BrokerUnavailableError } from "./broker.js";

/** The PaperBroker calls a fault can target. */
export const PAPER_BROKER_METHODS = [
  "connect",
  "getAccount",
  "getPositions",
  "getOpenOrders",
  "submitOrder",
  "getOrder",
  "cancelOrder",
  "cancelAllOrders",
  "getClock",
] as const;

/** A PaperBroker call a fault can target. */
export type PaperBrokerMethod = (typeof PAPER_BROKER_METHODS)[number];

type Fault =
  | { kind: "unavailable"; method: PaperBrokerMethod | null; remaining: number }
  | { kind: "rate_limited"; method: PaperBrokerMethod | null; remaining: number; retryAfterMs: number }
  | { kind: "accept_then_timeout"; method: "submitOrder"; remaining: number };

const countSchema = z.int().min(1).max(1_000_000);
const methodSchema = z.enum(PAPER_BROKER_METHODS).optional();
const msSchema = z.number().finite().min(0).max(2_147_483_647);

/**
 * Queued faults, consumed in the order they were added: each call consumes at most one, the first
 * queued fault that applies to it. Every call first waits the configured delay on the broker's
 * clock.
 */
export class FaultInjector {
  private queue: Fault[] = [];
  private delayMs = 0;

  /** @param clock the broker's clock, on which delays are waited. */
  constructor(private readonly clock: Clock) {}

  /** The next `n` calls (of `method` only, when given) throw a BrokerUnavailableError before reaching the broker. */
  failNext(n: number, method?: PaperBrokerMethod): this {
    this.queue.push({
      kind: "unavailable",
      remaining: parseInput(countSchema, n, "PaperBroker faults", "n"),
      method: parseInput(methodSchema, method, "PaperBroker faults", "method") ?? null,
    });
    return this;
  }

  /** The next `n` calls (of `method` only, when given) throw a BrokerRateLimitedError asking to wait `retryAfterMs`. */
  rateLimit(n: number, retryAfterMs: number, method?: PaperBrokerMethod): this {
    this.queue.push({
      kind: "rate_limited",
      remaining: parseInput(countSchema, n, "PaperBroker faults", "n"),
      retryAfterMs: parseInput(msSchema, retryAfterMs, "PaperBroker faults", "retryAfterMs"),
      method: parseInput(methodSchema, method, "PaperBroker faults", "method") ?? null,
    });
    return this;
  }

  /**
   * The next `n` submits place their order, then throw a BrokerUnavailableError as if the response
   * had been lost on the way back: the trap in which a naive retry places a second order.
   */
  acceptThenTimeOut(n: number): this {
    this.queue.push({
      kind: "accept_then_timeout",
      method: "submitOrder",
      remaining: parseInput(countSchema, n, "PaperBroker faults", "n"),
    });
    return this;
  }

  /** Every call waits `ms` on the broker's clock before it reaches the broker (0 turns latency off). */
  delay(ms: number): this {
    this.delayMs = parseInput(msSchema, ms, "PaperBroker faults", "ms");
    return this;
  }

  /** Removes every queued fault and the delay. */
  clear(): this {
    this.queue = [];
    this.delayMs = 0;
    return this;
  }

  /** How many injected failures are still queued. */
  get pending(): number {
    return this.queue.reduce((sum, f) => sum + f.remaining, 0);
  }

  /**
   * Runs the faults of one call to `method`: waits the delay, then throws the first queued fault
   * that fails the call up front. Returns true when the call must place its order and then fail
   * as if the response had been lost.
   *
   * @internal
   */
  async before(method: PaperBrokerMethod): Promise<boolean> {
    if (this.delayMs > 0) await sleep(this.clock, this.delayMs);
    const index = this.queue.findIndex((f) => f.method === null || f.method === method);
    const fault = this.queue[index];
    if (!fault) return false;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.queue.splice(index, 1);
    switch (fault.kind) {
      case "unavailable":
        throw new BrokerUnavailableError(`PaperBroker: ${method} failed (injected fault: unavailable)`);
      case "rate_limited":
        throw new BrokerRateLimitedError(
          `PaperBroker: ${method} rate limited (injected fault); retry after ${fault.retryAfterMs} ms`,
          fault.retryAfterMs,
        );
      case "accept_then_timeout":
        return true;
    }
  }

  /** The error a submit throws after it placed its order under `acceptThenTimeOut`. @internal */
  static lostResponse(clientOrderId: string): BrokerUnavailableError {
    return new BrokerUnavailableError(
      `PaperBroker: submitOrder timed out after the order was accepted (injected fault; client order id ${clientOrderId})`,
      { details: { clientOrderId } },
    );
  }
}
