/**
 * Idempotent order submission. `POST /v2/orders` is never retried blindly: when its outcome is
 * unknown (a timeout, a reset connection, a 5xx), the order is looked up by its client order id
 * first, and submitted again with the same id only when Alpaca does not know it. A second submit
 * of an order that did land is refused by Alpaca ("client_order_id must be unique", 422), and
 * that refusal is answered by the lookup too, so neither a lookup that is behind nor two
 * processes racing can place the order twice.
 *
 * The rounds, per call:
 *
 * | POST answer | then |
 * |---|---|
 * | 2xx | done |
 * | 422 "client_order_id must be unique" | look up; found: done (the existing order); not yet visible: look again once, then BrokerUnavailableError |
 * | 403, other 4xx | BrokerRejectedError (final) |
 * | 401 | AlpacaAuthError (final) |
 * | 429, or the client-side limit | BrokerRateLimitedError: nothing was placed |
 * | refused connection | BrokerUnavailableError: nothing can have been placed |
 * | timeout, reset, 5xx | look up once; found: done; unknown: next round; the lookup failed too: BrokerUnavailableError |
 *
 * At most {@link MAX_ROUNDS} POSTs per call; every error thrown leaves the id safe to submit again.
 * Concurrent submits of one id in this process share one round trip.
 */

import {
  type BrokerOrder,
  BrokerRateLimitedError,
  BrokerRejectedError,
  BrokerUnavailableError,
  type Clock,
  type Logger,
  type OrderIntent,
  type OrderRequest,
  parseOrderIntent,
  ValidationError,
} from "@tradecron/core";
import type { AlpacaRest } from "./alpaca-rest.js";
import type { ClientOrderIds } from "./client-order-ids.js";
import { sleep } from "./clock.js";
import { isDuplicateClientOrderId, readErrorBody } from "./errors.js";
import { orderBody } from "./mapping.js";
import type { HttpAnswer } from "./rest-transport.js";
import { type AlpacaOrder, alpacaOrderSchema } from "./wire.js";

/** POSTs per submit call at most. */
export const MAX_ROUNDS = 3;
/** Wait before the second lookup of an id Alpaca calls used but does not show yet. */
const LOOKUP_AGAIN_MS = 250;

/** What one submit needs from the broker around it. */
export interface SubmitterDeps {
  rest: AlpacaRest;
  ids: ClientOrderIds;
  clock: Clock;
  logger: Logger;
  /** Maps and records an Alpaca order, returning the freshest state known of it. */
  accept: (order: AlpacaOrder) => BrokerOrder;
}

/** Counters, for tests and health. */
export interface SubmitStats {
  posts: number;
  lookups: number;
  ambiguous: number;
  duplicatesRefused: number;
}

/** Places orders exactly once. */
export class Submitter {
  private readonly inflight = new Map<string, Promise<BrokerOrder>>();
  readonly stats: SubmitStats = { posts: 0, lookups: 0, ambiguous: 0, duplicatesRefused: 0 };

  constructor(private readonly deps: SubmitterDeps) {}

  /** Validates `request` (a malformed one is rejected as a broker would, naming the field). */
  parse(request: OrderRequest): { clientOrderId: string; intent: OrderIntent } {
    const input: Partial<OrderRequest> = typeof request === "object" && request !== null ? request : {};
    const id = input.clientOrderId;
    if (typeof id !== "string" || id.length === 0 || id.length > 1000) {
      throw new BrokerRejectedError(
        "AlpacaBroker: order rejected: clientOrderId must be a string of 1 to 1000 characters",
        {
          field: "clientOrderId",
        },
      );
    }
    try {
      return { clientOrderId: id, intent: parseOrderIntent(input.intent) };
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const field = error.field ? `intent.${error.field}` : "intent";
      throw new BrokerRejectedError(`AlpacaBroker: order rejected: ${field}: ${error.issues[0]?.message}`, {
        field,
        cause: error,
      });
    }
  }

  /** Places the order, or returns the one already placed under its client order id. */
  submit(request: OrderRequest): Promise<BrokerOrder> {
    const { clientOrderId, intent } = this.parse(request);
    const wire = this.deps.ids.toWire(clientOrderId);
    const pending = this.inflight.get(wire);
    if (pending) return pending;
    const placing = this.place(wire, intent).finally(() => this.inflight.delete(wire));
    this.inflight.set(wire, placing);
    return placing;
  }

  private async place(wire: string, intent: OrderIntent): Promise<BrokerOrder> {
    const { rest } = this.deps;
    const body = orderBody(intent, wire);
    const req = rest.postRequest(body);
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      let answer: HttpAnswer;
      this.stats.posts++;
      try {
        answer = await rest.postOrder(body);
      } catch (error) {
        if (error instanceof BrokerRateLimitedError) throw error;
        if (error instanceof BrokerUnavailableError && error.details?.sent === false) throw error;
        const found = await this.afterUnknownOutcome(wire, error);
        if (found) return found;
        continue;
      }
      if (answer.status >= 200 && answer.status < 300) {
        return this.deps.accept(rest.parse(req, alpacaOrderSchema, answer.body));
      }
      if (isDuplicateClientOrderId(answer.status, readErrorBody(answer.body, answer.status))) {
        this.stats.duplicatesRefused++;
        return this.existing(wire);
      }
      const error = rest.errorOf(req, answer, { clientOrderId: wire });
      if (answer.status < 500) throw error;
      const found = await this.afterUnknownOutcome(wire, error);
      if (found) return found;
    }
    throw new BrokerUnavailableError(
      `AlpacaBroker: order ${wire} not confirmed after ${MAX_ROUNDS} submits with unknown outcome; submitting it again is safe`,
      { details: { clientOrderId: wire, rounds: MAX_ROUNDS } },
    );
  }

  /**
   * After a POST whose outcome is unknown: the order if it landed, null if Alpaca does not know
   * it (submit again). @throws BrokerUnavailableError when the lookup fails too.
   */
  private async afterUnknownOutcome(wire: string, cause: unknown): Promise<BrokerOrder | null> {
    this.stats.ambiguous++;
    this.deps.logger.info(
      { clientOrderId: wire, reason: describe(cause) },
      "alpaca submit outcome unknown; looking up",
    );
    try {
      return await this.lookup(wire);
    } catch (error) {
      throw new BrokerUnavailableError(
        `AlpacaBroker: order ${wire}: submit outcome unknown (${describe(cause)}) and the lookup failed (${describe(error)}); submitting it again is safe`,
        { details: { clientOrderId: wire, ambiguous: true } },
      );
    }
  }

  /** The order Alpaca refused to place twice. */
  private async existing(wire: string): Promise<BrokerOrder> {
    const first = await this.lookup(wire);
    if (first) return first;
    await sleep(this.deps.clock, LOOKUP_AGAIN_MS);
    const second = await this.lookup(wire);
    if (second) return second;
    throw new BrokerUnavailableError(
      `AlpacaBroker: order ${wire}: Alpaca reports the client order id as used but does not show the order yet; submitting it again is safe`,
      { details: { clientOrderId: wire } },
    );
  }

  private async lookup(wire: string): Promise<BrokerOrder | null> {
    this.stats.lookups++;
    const order = await this.deps.rest.orderByClientId(wire);
    return order ? this.deps.accept(order) : null;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.replace(/^AlpacaBroker: /, "") : String(error);
}
