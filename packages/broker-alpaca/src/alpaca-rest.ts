/**
 * Alpaca's Trading API v2 endpoints the adapter uses, one method each, over {@link RestTransport}:
 * non-2xx answers become typed errors (see errors.ts), bodies are checked with the wire schemas,
 * and "not found" is null rather than an error. Order submission is left raw (`postOrder`):
 * only the submitter knows what a 5xx or a 422 means there.
 */

import {
  BrokerUnavailableError,
  type CancelAllResult,
  type Clock,
  type Logger,
  type TradecronError,
} from "@tradecron/core";
import type { z } from "zod";
import type { Credentials } from "./credentials.js";
import { httpError, readErrorBody } from "./errors.js";
import { isMappable } from "./mapping.js";
import type { HttpAnswer, HttpRequest, RestTransport } from "./rest-transport.js";
import {
  type AlpacaOrder,
  alpacaAccountSchema,
  alpacaCalendarDaySchema,
  alpacaClockSchema,
  alpacaOrderSchema,
  alpacaPositionSchema,
  cancelStatusSchema,
  latestTradeSchema,
} from "./wire.js";

/** Alpaca's page size limit for order lists. */
const PAGE_LIMIT = 500;
/** Pages read at most for one list (500 x 40 = 20,000 open orders). */
const MAX_PAGES = 40;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for ids Alpaca can know (its ids are UUIDs; anything else cannot be an Alpaca order). */
export function isAlpacaId(id: string): boolean {
  return UUID.test(id);
}

/** The REST endpoints. */
export class AlpacaRest {
  constructor(
    private readonly deps: {
      transport: RestTransport;
      credentials: Credentials;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  /** The typed error for a non-2xx answer. */
  errorOf(req: HttpRequest, answer: HttpAnswer, extra: Record<string, unknown> = {}): TradecronError {
    return httpError(
      this.deps.credentials,
      this.deps.transport.label(req),
      answer.status,
      answer.body,
      answer.headers,
      this.deps.clock.now(),
      extra,
    );
  }

  /** Sends `req`, expects a 2xx (or `nullOn404` -> null), and parses the body with `schema`. */
  private async read<S extends z.ZodType>(
    req: HttpRequest,
    schema: S,
    nullOn404 = false,
  ): Promise<z.output<S> | null> {
    const answer = await this.deps.transport.send(req);
    if (answer.status === 404 && nullOn404) return null;
    if (answer.status < 200 || answer.status >= 300) throw this.errorOf(req, answer);
    return this.parse(req, schema, answer.body);
  }

  /** Checks a body against its schema; a body that does not fit is an unavailable broker, not a crash. */
  parse<S extends z.ZodType>(req: HttpRequest, schema: S, body: unknown): z.output<S> {
    const parsed = schema.safeParse(body);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    throw new BrokerUnavailableError(
      `AlpacaBroker: ${req.method} ${req.path}: unexpected answer (${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"})`,
      { details: { path: req.path } },
    );
  }

  async account() {
    return (await this.read({ method: "GET", path: "/v2/account" }, alpacaAccountSchema)) as z.output<
      typeof alpacaAccountSchema
    >;
  }

  async positions() {
    return (await this.read({ method: "GET", path: "/v2/positions" }, alpacaPositionSchema.array())) ?? [];
  }

  /** Every open order, oldest first, legs nested; orders core cannot represent are left out. */
  async openOrders(): Promise<AlpacaOrder[]> {
    const all: AlpacaOrder[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const req: HttpRequest = {
        method: "GET",
        path: "/v2/orders",
        query: { status: "open", limit: PAGE_LIMIT, direction: "asc", nested: true, after_order_id: after },
      };
      const orders = (await this.read(req, alpacaOrderSchema.array())) ?? [];
      all.push(...orders);
      if (orders.length < PAGE_LIMIT) break;
      after = orders[orders.length - 1]?.id;
    }
    const mappable = all.filter(isMappable);
    if (mappable.length < all.length) {
      this.deps.logger.debug(
        { skipped: all.length - mappable.length },
        "alpaca open orders core cannot represent",
      );
    }
    return mappable;
  }

  /**
   * Orders closed that were submitted after `after` (epoch ms), oldest first, up to one page of
   * 500: the orders placed and finished between two polls, by any process on the account.
   */
  async closedSince(after: number): Promise<AlpacaOrder[]> {
    const req: HttpRequest = {
      method: "GET",
      path: "/v2/orders",
      query: {
        status: "closed",
        limit: PAGE_LIMIT,
        direction: "asc",
        nested: true,
        after: new Date(after).toISOString(),
      },
    };
    return ((await this.read(req, alpacaOrderSchema.array())) ?? []).filter(isMappable);
  }

  /** The order with Alpaca id `id`, or null. */
  async order(id: string): Promise<AlpacaOrder | null> {
    if (!isAlpacaId(id)) return null;
    return this.read(
      { method: "GET", path: `/v2/orders/${encodeURIComponent(id)}`, query: { nested: true } },
      alpacaOrderSchema,
      true,
    );
  }

  /** The order with wire client order id `clientOrderId`, or null. */
  async orderByClientId(clientOrderId: string): Promise<AlpacaOrder | null> {
    return this.read(
      { method: "GET", path: "/v2/orders:by_client_order_id", query: { client_order_id: clientOrderId } },
      alpacaOrderSchema,
      true,
    );
  }

  /** `POST /v2/orders`, raw. */
  postOrder(body: Record<string, unknown>): Promise<HttpAnswer> {
    return this.deps.transport.send(this.postRequest(body));
  }

  postRequest(body: Record<string, unknown>): HttpRequest {
    return { method: "POST", path: "/v2/orders", body, submit: true };
  }

  /** Requests a cancel: `requested`, `unknown` (404) or `final` (422: no longer cancelable). */
  async cancel(id: string): Promise<"requested" | "unknown" | "final"> {
    if (!isAlpacaId(id)) return "unknown";
    const req: HttpRequest = { method: "DELETE", path: `/v2/orders/${encodeURIComponent(id)}` };
    const answer = await this.deps.transport.send(req);
    if (answer.status === 204 || answer.status === 200) return "requested";
    if (answer.status === 404) return "unknown";
    if (answer.status === 422) return "final";
    throw this.errorOf(req, answer);
  }

  /** `DELETE /v2/orders`, its multi-status answer read into cancelled and failed. */
  async cancelAll(): Promise<CancelAllResult> {
    const req: HttpRequest = { method: "DELETE", path: "/v2/orders" };
    const answer = await this.deps.transport.send(req);
    if (answer.status !== 207 && answer.status !== 200) throw this.errorOf(req, answer);
    const entries = this.parse(req, cancelStatusSchema.array(), answer.body ?? []);
    const result: CancelAllResult = { cancelled: 0, failed: [] };
    for (const entry of entries) {
      if (entry.status >= 200 && entry.status < 300) result.cancelled++;
      else {
        const why = readErrorBody(entry.body, entry.status).message;
        result.failed.push({
          id: entry.id,
          error: this.deps.credentials.redact(`HTTP ${entry.status}: ${why}`),
        });
      }
    }
    return result;
  }

  async clock() {
    return (await this.read({ method: "GET", path: "/v2/clock" }, alpacaClockSchema)) as z.output<
      typeof alpacaClockSchema
    >;
  }

  /**
   * Trading days from `start` to `end` ('YYYY-MM-DD', both inclusive). The spec types `start` and
   * `end` as date-times; noon UTC falls on the same date in New York and in UTC, whichever way
   * Alpaca reads it, and the answer is trimmed to the dates asked for.
   */
  async calendar(start: string, end: string) {
    const days =
      (await this.read(
        {
          method: "GET",
          path: "/v2/calendar",
          query: { start: `${start}T12:00:00Z`, end: `${end}T12:00:00Z` },
        },
        alpacaCalendarDaySchema.array(),
      )) ?? [];
    return days.filter((d) => d.date >= start && d.date <= end);
  }

  /** The latest trade price of `symbol` from the market data API, or null. */
  async latestTrade(symbol: string, feed: string): Promise<string | null> {
    const answer = await this.read(
      {
        method: "GET",
        path: `/v2/stocks/${encodeURIComponent(symbol)}/trades/latest`,
        query: { feed },
        api: "data",
      },
      latestTradeSchema,
      true,
    );
    const price = answer?.trade?.p;
    return price === undefined || price === null ? null : String(price);
  }
}
