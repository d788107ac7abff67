/**
 * Faults the fake injects on request, queued and consumed in order: each request consumes at most
 * one, the first queued fault that applies to its route. "Before" faults strike before the
 * request is processed (nothing changes); "after" faults strike once it has been processed (an
 * order is placed, then the answer is lost or is an error): the trap in which a blind retry
 * places a second order.
 */

/** The fake's routes, named after Alpaca's operation ids. */
export type FakeRoute =
  | "getAccount"
  | "getPositions"
  | "getAllOrders"
  | "postOrder"
  | "deleteAllOrders"
  | "getOrderByClientOrderId"
  | "getOrderByOrderID"
  | "deleteOrderByOrderID"
  | "getClock"
  | "getCalendar"
  | "getLatestTrade";

/** An HTTP fault. */
export type HttpFaultKind =
  /** 503 before processing. */
  | "unavailable"
  /** Processed, then 500: a 5xx after acceptance. */
  | "error_after_accept"
  /** No answer at all, before processing (the client times out). */
  | "timeout"
  /** Processed, then no answer (the client times out after the order was placed). */
  | "accept_then_timeout"
  /** The connection is reset before processing. */
  | "reset"
  /** Processed, then the connection is reset. */
  | "accept_then_reset"
  /** 429 with `X-RateLimit-Remaining: 0` and `X-RateLimit-Reset`, before processing. */
  | "rate_limited";

/** What to inject. */
export interface HttpFault {
  kind: HttpFaultKind;
  /** How many requests it strikes (default 1). */
  count?: number;
  /** Only requests to this route (default any). */
  route?: FakeRoute;
  /** For `rate_limited`: how far ahead the reset lies (default 1,000 ms). */
  resetInMs?: number;
}

interface Queued {
  kind: HttpFaultKind;
  remaining: number;
  route: FakeRoute | null;
  resetInMs: number;
}

const AFTER = new Set<HttpFaultKind>(["error_after_accept", "accept_then_timeout", "accept_then_reset"]);

/** True for faults that strike after the request was processed. */
export function strikesAfter(kind: HttpFaultKind): boolean {
  return AFTER.has(kind);
}

/** The queue of HTTP faults, with counts of what struck. */
export class FaultQueue {
  private queue: Queued[] = [];
  /** How many requests each kind has struck so far. */
  readonly struck: Record<HttpFaultKind, number> = {
    unavailable: 0,
    error_after_accept: 0,
    timeout: 0,
    accept_then_timeout: 0,
    reset: 0,
    accept_then_reset: 0,
    rate_limited: 0,
  };

  /** Queues a fault. */
  inject(fault: HttpFault): void {
    const count = fault.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new RangeError("fault count must be a positive integer");
    this.queue.push({
      kind: fault.kind,
      remaining: count,
      route: fault.route ?? null,
      resetInMs: fault.resetInMs ?? 1_000,
    });
  }

  /** Removes every queued fault. */
  clear(): void {
    this.queue = [];
  }

  /** Faults still queued (requests they will strike). */
  get pending(): number {
    return this.queue.reduce((n, f) => n + f.remaining, 0);
  }

  /** Takes the fault for one request to `route`, if any. */
  take(route: FakeRoute): { kind: HttpFaultKind; resetInMs: number } | null {
    const index = this.queue.findIndex((f) => f.route === null || f.route === route);
    const fault = this.queue[index];
    if (!fault) return null;
    fault.remaining--;
    if (fault.remaining <= 0) this.queue.splice(index, 1);
    this.struck[fault.kind]++;
    return { kind: fault.kind, resetInMs: fault.resetInMs };
  }
}
