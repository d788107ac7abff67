/**
 * What happens to a message before the fake TWS handles it: pacing (more than N messages per
 * second from one client is answered with error 100 and dropped, as TWS does), then the faults a
 * test queued for the next call.
 */

import type { Clock } from "@tradecron/core";
import type { BrokerFault } from "@tradecron/core/testing";
import { OUT } from "./client-messages.js";
import * as msg from "./server-messages.js";

/** Requests that are not a caller's "next call" for fault injection: handshakes, heartbeats, unsubscribes. */
const NOT_CALLS: ReadonlySet<number> = new Set([
  OUT.START_API,
  OUT.REQ_CURRENT_TIME,
  OUT.CANCEL_ACCOUNT_SUMMARY,
  OUT.CANCEL_POSITIONS,
]);

/** What to do with a message. */
export type Verdict =
  /** Handle it. */
  | { kind: "handle" }
  /** Handle it, but send the client nothing about it, then drop the connection. */
  | { kind: "handle_muted" }
  /** Do not handle it: answer with this error. */
  | { kind: "refuse"; reply: Buffer }
  /** Do not handle it: drop the connection. */
  | { kind: "drop" };

/** A request's own id (its errors carry it), or -1. */
function reqIdOf(fields: readonly string[]): number {
  const id = Number(fields[0]);
  if (id === OUT.PLACE_ORDER || id === OUT.CANCEL_ORDER) return Number(fields[1]);
  if (id === OUT.REQ_EXECUTIONS || id === OUT.REQ_ACCOUNT_SUMMARY) return Number(fields[2]);
  return -1;
}

function pacingError(fields: readonly string[], limit: number, received: number): Buffer {
  return msg.errorMessage(
    reqIdOf(fields),
    100,
    `Max rate of messages per second has been exceeded:max=${limit} rec=${received} (1)`,
  );
}

/** Pacing per client and the queue of injected faults. */
export class Admission {
  private readonly faults: { kind: BrokerFault; remaining: number }[] = [];
  /** Messages refused with 100 (pacing or injected). */
  violations = 0;

  constructor(
    private readonly clock: Clock,
    private readonly limit: number,
  ) {}

  /** The next `count` calls (any request but heartbeats and unsubscribes) meet `fault`. */
  inject(fault: BrokerFault, count: number): void {
    this.faults.push({ kind: fault, remaining: count });
  }

  /** Decides on one message; `recent` is the client's receive times, updated in place. */
  admit(recent: number[], fields: readonly string[]): Verdict {
    const id = Number(fields[0]);
    if (this.limit > 0 && id !== OUT.START_API) {
      const now = this.clock.now();
      while (recent.length > 0 && now - (recent[0] as number) >= 1000) recent.shift();
      if (recent.length >= this.limit) {
        this.violations++;
        return { kind: "refuse", reply: pacingError(fields, this.limit, recent.length + 1) };
      }
      recent.push(now);
    }
    if (NOT_CALLS.has(id)) return { kind: "handle" };
    const fault = this.faults[0];
    if (!fault || (fault.kind === "accept_then_timeout" && id !== OUT.PLACE_ORDER)) return { kind: "handle" };
    if (--fault.remaining <= 0) this.faults.shift();
    switch (fault.kind) {
      case "unavailable":
        return { kind: "drop" };
      case "rate_limited":
        this.violations++;
        return { kind: "refuse", reply: pacingError(fields, this.limit, this.limit + 1) };
      default:
        return { kind: "handle_muted" };
    }
  }
}
