/**
 * A real host for the tests: an Express 5 app listening on an ephemeral port with the router
 * mounted at `/scheduler` beside a route of the host's own, a Scheduler on an injected TestClock,
 * the paper broker, and a `request` that validates every response against the served document.
 */

import type { AddressInfo } from "node:net";
import {
  type Broker,
  type JobHandler,
  MemoryStorage,
  PaperBroker,
  Scheduler,
  type SchedulerOptions,
  type Storage,
} from "@tradecron/core";
import { TestClock } from "@tradecron/core/testing";
import express from "express";
import { createRouter, type RouterOptions, type TradecronRouter } from "../src/index.js";
import { type CheckedResponse, ResponseValidator } from "./openapi-validator.js";

/** Tokens of the test hosts: one per role. Never used outside tests. */
export const TOKENS = {
  viewer: "viewer-token-0123456789abcdef",
  operator: "operator-token-0123456789abcdef",
  admin: "admin-token-0123456789abcdef",
} as const;

/** The auth option with the three test tokens. */
export const AUTH: RouterOptions["auth"] = {
  tokens: [
    { name: "vera", role: "viewer", token: TOKENS.viewer },
    { name: "otto", role: "operator", token: TOKENS.operator },
    { name: "ada", role: "admin", token: TOKENS.admin },
  ],
};

/** One answer, parsed. */
export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Options of a request. */
export interface RequestOptions {
  /** A role's test token, a literal token, or null for no credentials. */
  as?: keyof typeof TOKENS | { token: string } | null;
  body?: unknown;
  /** Sent as is (not JSON-encoded). */
  rawBody?: string;
  headers?: Record<string, string>;
}

/** A running test host. */
export interface TestHost {
  url: string;
  /** `url` + `/scheduler`. */
  base: string;
  scheduler: Scheduler;
  clock: TestClock;
  broker: PaperBroker;
  router: TradecronRouter;
  validator: ResponseValidator;
  /** A request below the mount point, with the response checked against the document. */
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<Answer<T>>;
  /** `fetch` that checks what comes back (for openapi-fetch). */
  checkedFetch: typeof fetch;
  close(): Promise<void>;
}

/** Options of {@link startHost}. */
export interface HostOptions {
  router?: Partial<RouterOptions>;
  storage?: Storage;
  scheduler?: Partial<SchedulerOptions>;
  jobs?: Record<string, JobHandler>;
  broker?: Broker | null;
  start?: boolean;
  /** Where the test clock starts. Default 2026-01-05T14:30:00Z (a Monday, NYSE open). */
  clockStart?: Date | number | string;
}

/** Validators by document: hosts with the same options share one (Ajv compiles each schema once). */
const validators = new Map<string, ResponseValidator>();

/** Starts a host on port 0. */
export async function startHost(options: HostOptions = {}): Promise<TestHost> {
  const clock = new TestClock(options.clockStart);
  const broker = new PaperBroker({ clock, connected: true, initialCash: "100000" });
  for (const [symbol, price] of Object.entries({ AAPL: "190.10", MSFT: "410.50", SPY: "585.30" })) {
    broker.setPrice(symbol, price);
  }
  const scheduler = new Scheduler({
    storage: options.storage ?? new MemoryStorage(),
    clock,
    ...(options.broker === null ? {} : { broker: options.broker ?? broker }),
    prices: (symbol: string) => broker.getPrice(symbol),
    risk: { maxOrderNotional: 50_000 },
    ...options.scheduler,
  });
  const jobs: Record<string, JobHandler> = options.jobs ?? {
    noop: async () => ({ ok: true }),
    propose: async (ctx) => {
      await ctx.propose({
        symbol: "AAPL",
        side: "buy",
        qty: 5,
        riskLevel: "high",
        rationale: "breakout",
        supportingData: { rsi: 61 },
      });
      return { proposed: 1 };
    },
    plan: async (ctx) => {
      const group = await ctx.proposeGroup(
        [
          { symbol: "MSFT", side: "buy", qty: 1 },
          { symbol: "AAPL", side: "buy", qty: 2 },
        ],
        { rationale: "rebalance: drift 6%", riskLevel: "medium" },
      );
      return { groupId: group.groupId };
    },
    fail: async () => {
      throw new Error("boom");
    },
  };
  for (const [name, handler] of Object.entries(jobs)) scheduler.register(name, handler);
  if (options.start !== false) await scheduler.start();
  const router = createRouter(scheduler, { auth: AUTH, ...options.router } as RouterOptions);
  const app = express();
  app.get("/host-route", (_req, res) => {
    res.json({ mine: true });
  });
  app.use("/scheduler", router);
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const base = `${url}/scheduler`;
  const doc = router.openapi();
  const key = JSON.stringify(doc);
  const validator = validators.get(key) ?? new ResponseValidator(doc as never);
  validators.set(key, validator);

  const check = async (method: string, target: string, res: Response): Promise<Answer> => {
    const text = await res.text();
    const type = res.headers.get("content-type");
    let body: unknown = text;
    if (type?.includes("json") && text.length > 0) body = JSON.parse(text);
    if (text.length === 0) body = undefined;
    const path = new URL(target).pathname.replace(/^\/scheduler/, "") || "/";
    const checked: CheckedResponse = { method, path, status: res.status, contentType: type, body };
    if (path.startsWith("/ui")) {
      if (res.status >= 400) validator.check(checked);
    } else {
      validator.check(checked);
    }
    return { status: res.status, headers: res.headers, body, text };
  };

  const request = async <T>(method: string, path: string, o: RequestOptions = {}): Promise<Answer<T>> => {
    const headers: Record<string, string> = { ...o.headers };
    const as = o.as === undefined ? "admin" : o.as;
    if (as !== null) headers.authorization = `Bearer ${typeof as === "string" ? TOKENS[as] : as.token}`;
    let body: string | undefined;
    if (o.rawBody !== undefined) body = o.rawBody;
    else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers["content-type"] ??= "application/json";
    }
    const target = `${base}${path}`;
    const res = await fetch(target, { method, headers, ...(body === undefined ? {} : { body }) });
    return (await check(method, target, res)) as Answer<T>;
  };

  const checkedFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const req = new Request(input, init);
    const res = await fetch(req);
    const copy = res.clone();
    await check(req.method, req.url, copy);
    return res;
  }) as typeof fetch;

  return {
    url,
    base,
    scheduler,
    clock,
    broker,
    router,
    validator,
    request,
    checkedFetch,
    async close() {
      router.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await scheduler.stop({ timeoutMs: 0 });
    },
  };
}
