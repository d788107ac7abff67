/**
 * The fake's REST side: Alpaca's Trading API v2 routes the adapter and Alpaca's SDK use, with
 * Alpaca's authentication headers (checked in constant time), answers and error bodies,
 * `X-RateLimit-*` headers on every answer, the injected faults, and a journal of every request
 * and answer (without header values, so no credential is ever recorded) for spec checks.
 */

import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Clock, decimalString, type MarketCalendar, toLocal } from "@tradecron/core";
import { type FakeRoute, type FaultQueue, strikesAfter } from "./fake-faults.js";
import type { FakeLedger } from "./fake-ledger.js";
import { type FakeOrder, OPEN_STATUSES, validateOrderBody } from "./fake-order.js";
import { accountJson, newYorkTime, orderJson, positionJson } from "./fake-wire.js";

/** One request and its answer, as the fake saw them. */
export interface JournalEntry {
  route: FakeRoute | null;
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** Names of the request headers (values are never recorded). */
  headerNames: string[];
  /** 0 when no answer was sent (a timeout or reset fault). */
  status: number;
  response: unknown;
}

/** Longest journal kept; older entries are dropped. */
const JOURNAL_LIMIT = 20_000;

const digest = (v: unknown) =>
  createHash("sha256")
    .update(typeof v === "string" ? v : "")
    .digest();

/** Compares two strings in constant time (hashes first, so lengths do not leak either). */
export function sameSecret(given: unknown, expected: string): boolean {
  return typeof given === "string" && timingSafeEqual(digest(given), digest(expected));
}

type Answer = { status: number; body: unknown };

/** The REST handler. */
export class FakeHttp {
  readonly journal: JournalEntry[] = [];
  private readonly hanging = new Set<ServerResponse>();
  /** Responses a timeout fault has held back so far (ever, not just now). */
  heldTotal = 0;
  private windowStart = 0;
  private windowCount = 0;

  constructor(
    private readonly deps: {
      ledger: FakeLedger;
      faults: FaultQueue;
      clock: Clock;
      calendar: MarketCalendar;
      keyId: string;
      secretKey: string;
      rateLimit: { requestsPerMinute: number; enforce: boolean };
      journal: boolean;
    },
  ) {}

  /** Handles one request. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const body = await readBody(req);
    const entry: JournalEntry = {
      route: null,
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: body.value,
      headerNames: Object.keys(req.headers),
      status: 0,
      response: null,
    };
    if (this.deps.journal) {
      this.journal.push(entry);
      if (this.journal.length > JOURNAL_LIMIT) this.journal.splice(0, this.journal.length - JOURNAL_LIMIT);
    }
    const headers = this.rateHeaders();
    const reply = (answer: Answer, extra: Record<string, string> = {}) => {
      entry.status = answer.status;
      entry.response = answer.body;
      const text = answer.body === null ? "" : JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        ...headers.values,
        ...extra,
        ...(text ? { "content-type": "application/json; charset=utf-8" } : {}),
      });
      res.end(text);
    };
    if (
      !sameSecret(req.headers["apca-api-key-id"], this.deps.keyId) ||
      !sameSecret(req.headers["apca-api-secret-key"], this.deps.secretKey)
    ) {
      reply({ status: 401, body: { message: "unauthorized." } });
      return;
    }
    const route = routeOf(entry.method, url.pathname);
    entry.route = route?.name ?? null;
    if (!route) {
      reply({ status: 404, body: { code: 40410000, message: "endpoint not found" } });
      return;
    }
    if (headers.exceeded) {
      reply({ status: 429, body: { code: 42910000, message: "rate limit exceeded" } });
      return;
    }
    const fault = this.deps.faults.take(route.name);
    if (fault && !strikesAfter(fault.kind)) {
      if (fault.kind === "unavailable")
        reply({ status: 503, body: { code: 50310000, message: "service unavailable" } });
      else if (fault.kind === "rate_limited") {
        const reset = Math.ceil((this.deps.clock.now() + fault.resetInMs) / 1000);
        reply(
          { status: 429, body: { code: 42910000, message: "rate limit exceeded" } },
          { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
        );
      } else if (fault.kind === "timeout") this.hang(res);
      else req.socket.destroy();
      return;
    }
    if (body.invalid) {
      reply({ status: 400, body: { code: 40010000, message: "request body format is invalid" } });
      return;
    }
    const answer = this.answer(route.name, route.param, url.searchParams, body.value);
    if (fault?.kind === "error_after_accept") {
      reply({ status: 500, body: { code: 50010000, message: "internal server error" } });
    } else if (fault?.kind === "accept_then_timeout") this.hang(res);
    else if (fault?.kind === "accept_then_reset") req.socket.destroy();
    else reply(answer);
  }

  /** Ends every response held back by a timeout fault. */
  close(): void {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  private hang(res: ServerResponse): void {
    this.heldTotal++;
    this.hanging.add(res);
    res.on("close", () => this.hanging.delete(res));
  }

  private rateHeaders(): { values: Record<string, string>; exceeded: boolean } {
    const now = this.deps.clock.now();
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    this.windowCount++;
    const limit = this.deps.rateLimit.requestsPerMinute;
    const remaining = Math.max(0, limit - this.windowCount);
    return {
      values: {
        "x-ratelimit-limit": String(limit),
        "x-ratelimit-remaining": String(remaining),
        "x-ratelimit-reset": String(Math.ceil((this.windowStart + 60_000) / 1000)),
      },
      exceeded: this.deps.rateLimit.enforce && this.windowCount > limit,
    };
  }

  private order(order: FakeOrder, nested: boolean): Record<string, unknown> {
    return orderJson(order, nested || order.legIds.length > 0 ? this.deps.ledger.legsOf(order) : null);
  }

  private answer(route: FakeRoute, param: string | null, query: URLSearchParams, body: unknown): Answer {
    const { ledger } = this.deps;
    const notFound: Answer = { status: 404, body: { code: 40410000, message: "order not found" } };
    switch (route) {
      case "getAccount":
        return {
          status: 200,
          body: accountJson({
            id: ledger.accountId,
            createdAt: ledger.createdAt,
            cash: ledger.cash,
            buyingPower: ledger.buyingPower(),
            longValue: ledger.longValue(),
            status: ledger.status,
          }),
        };
      case "getPositions":
        return { status: 200, body: ledger.positionList().map(positionJson) };
      case "getAllOrders":
        return this.listOrders(query);
      case "postOrder": {
        const input = validateOrderBody(body);
        if ("code" in input)
          return { status: input.status, body: { code: input.code, message: input.message } };
        const placed = ledger.submit(input);
        if ("code" in placed)
          return { status: placed.status, body: { code: placed.code, message: placed.message } };
        return { status: 200, body: this.order(placed, true) };
      }
      case "deleteAllOrders": {
        const ids = ledger.cancelAll();
        return {
          status: 207,
          body: ids.map((id) => {
            const order = ledger.order(id) as FakeOrder;
            return { id, status: 200, body: this.order(order, true) };
          }),
        };
      }
      case "getOrderByClientOrderId": {
        const order = ledger.orderByClientId(query.get("client_order_id") ?? "");
        return order ? { status: 200, body: this.order(order, true) } : notFound;
      }
      case "getOrderByOrderID": {
        const order = ledger.order(param ?? "");
        return order ? { status: 200, body: this.order(order, query.get("nested") === "true") } : notFound;
      }
      case "deleteOrderByOrderID": {
        const outcome = ledger.cancel(param ?? "");
        if (outcome === "unknown") return notFound;
        if (outcome === "final") {
          const status = ledger.order(param ?? "")?.status ?? "final";
          return { status: 422, body: { code: 42210000, message: `order is already in "${status}" state` } };
        }
        return { status: 204, body: null };
      }
      case "getClock":
        return { status: 200, body: this.clock() };
      case "getCalendar":
        return this.calendarDays(query);
      case "getLatestTrade": {
        const symbol = (param ?? "").toUpperCase();
        const price = ledger.price(symbol);
        if (!price) return { status: 404, body: { code: 40410000, message: `no trade found for ${symbol}` } };
        return {
          status: 200,
          body: {
            symbol,
            trade: {
              t: new Date(this.deps.clock.now()).toISOString(),
              x: "V",
              p: Number(decimalString(price)),
              s: 100,
              c: ["@"],
              i: 1,
              z: "C",
            },
          },
        };
      }
    }
  }

  private listOrders(query: URLSearchParams): Answer {
    const status = query.get("status") ?? "open";
    const limit = Math.min(500, Math.max(1, Number(query.get("limit") ?? 50) || 50));
    const nested = query.get("nested") === "true";
    const direction = query.get("direction") ?? "desc";
    const symbols = query
      .get("symbols")
      ?.split(",")
      .map((s) => s.trim().toUpperCase());
    const side = query.get("side");
    let orders = this.deps.ledger.allOrders().filter((o) => {
      if (nested && o.parentId !== null) return false;
      const open = OPEN_STATUSES.has(o.status);
      if (status === "open" && !open) return false;
      if (status === "closed" && open) return false;
      if (symbols && !symbols.includes(o.symbol)) return false;
      if (side && o.side !== side) return false;
      return true;
    });
    const after = query.get("after");
    if (after) {
      const t = Date.parse(after);
      orders = orders.filter((o) => Date.parse(o.submittedAt) > t);
    }
    const afterId = query.get("after_order_id");
    if (afterId) {
      const at = orders.findIndex((o) => o.id === afterId);
      orders = at < 0 ? [] : orders.slice(at + 1);
    }
    if (direction === "desc") orders.reverse();
    return { status: 200, body: orders.slice(0, limit).map((o) => this.order(o, nested)) };
  }

  private clock(): Record<string, unknown> {
    const now = this.deps.clock.now();
    const cal = this.deps.calendar;
    return {
      timestamp: newYorkTime(now),
      is_open: cal.isOpen(now),
      next_open: newYorkTime(cal.nextOpen(now)?.getTime() ?? now),
      next_close: newYorkTime(cal.nextClose(now)?.getTime() ?? now),
    };
  }

  private calendarDays(query: URLSearchParams): Answer {
    const today = new Date(this.deps.clock.now()).toISOString().slice(0, 10);
    // Alpaca's legacy time: a date, or an RFC 3339 date-time whose date counts.
    const start = (query.get("start") ?? today).slice(0, 10);
    const end = (query.get("end") ?? start).slice(0, 10);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(start) || !/^\d{4}-\d{2}-\d{2}$/.test(end)) {
      return { status: 400, body: { code: 40010000, message: "invalid start or end" } };
    }
    const cal = this.deps.calendar;
    const hhmm = (d: Date) => new Date(toLocal(cal.timezone, d.getTime())).toISOString().slice(11, 16);
    const sessions = cal.sessionsBetween(start, end);
    return {
      status: 200,
      body: sessions.map((s) => ({
        date: s.date,
        open: hhmm(s.open),
        close: hhmm(s.close),
        session_open: "0400",
        session_close: "2000",
        settlement_date: cal.nextSession(s.date)?.date ?? s.date,
      })),
    };
  }
}

const ROUTES: { method: string; pattern: RegExp; name: FakeRoute }[] = [
  { method: "GET", pattern: /^\/v2\/account$/, name: "getAccount" },
  { method: "GET", pattern: /^\/v2\/positions$/, name: "getPositions" },
  { method: "GET", pattern: /^\/v2\/orders$/, name: "getAllOrders" },
  { method: "POST", pattern: /^\/v2\/orders$/, name: "postOrder" },
  { method: "DELETE", pattern: /^\/v2\/orders$/, name: "deleteAllOrders" },
  { method: "GET", pattern: /^\/v2\/orders:by_client_order_id$/, name: "getOrderByClientOrderId" },
  { method: "GET", pattern: /^\/v2\/orders\/([^/]+)$/, name: "getOrderByOrderID" },
  { method: "DELETE", pattern: /^\/v2\/orders\/([^/]+)$/, name: "deleteOrderByOrderID" },
  { method: "GET", pattern: /^\/v2\/clock$/, name: "getClock" },
  { method: "GET", pattern: /^\/v2\/calendar$/, name: "getCalendar" },
  { method: "GET", pattern: /^\/v2\/stocks\/([^/]+)\/trades\/latest$/, name: "getLatestTrade" },
];

function routeOf(method: string, path: string): { name: FakeRoute; param: string | null } | null {
  for (const r of ROUTES) {
    const m = r.method === method ? r.pattern.exec(path) : null;
    if (m) return { name: r.name, param: m[1] === undefined ? null : decodeURIComponent(m[1]) };
  }
  return null;
}

async function readBody(req: IncomingMessage): Promise<{ value: unknown; invalid: boolean }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.length === 0) return { value: null, invalid: false };
  try {
    return { value: JSON.parse(text), invalid: false };
  } catch {
    return { value: text, invalid: true };
  }
}
