/**
 * One HTTP request to Alpaca with Node's own `fetch`: the key headers, the client-side rate
 * limit, a timeout on the injected clock, JSON in and out, and REST health bookkeeping. It never
 * retries and never throws for an HTTP status: callers decide what an answer means (the
 * submitter treats a 5xx as "maybe placed", a reader as "unavailable"). Only a request that got
 * no answer throws, as a BrokerUnavailableError whose `details.sent` tells whether it can have
 * reached Alpaca.
 */

import type { Clock, Logger } from "@tradecron/core";
import type { Credentials } from "./credentials.js";
import { describeNetworkFailure, networkError, type RequestLabel } from "./errors.js";
import type { RateLimiter } from "./rate-limiter.js";

/** An HTTP answer with its body parsed (JSON when it is JSON, else the text, else null). */
export interface HttpAnswer {
  status: number;
  body: unknown;
  headers: Headers;
}

/** What to send. */
export interface HttpRequest {
  method: "GET" | "POST" | "DELETE";
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** `data` for the market data API. */
  api?: "trading" | "data";
  /** Order submission: a 403 is a business refusal there. */
  submit?: boolean;
}

/** How REST has been doing, for `health()`. */
export interface RestHealth {
  ok: boolean;
  consecutiveFailures: number;
  lastError: string | null;
  lastOkAt: number | null;
}

/** Consecutive transport failures (no answer, or 5xx) after which REST is reported unhealthy. */
const UNHEALTHY_AFTER = 3;

/** The fetch-based transport. */
export class RestTransport {
  readonly health: RestHealth = { ok: true, consecutiveFailures: 0, lastError: null, lastOkAt: null };

  constructor(
    private readonly deps: {
      credentials: Credentials;
      baseUrl: string;
      dataUrl: string;
      timeoutMs: number;
      clock: Clock;
      limiter: RateLimiter;
      logger: Logger;
      /** Called when `health.ok` flips. */
      onHealthChange: () => void;
    },
  ) {}

  /** A label for messages and errors. */
  label(req: HttpRequest): RequestLabel {
    return { method: req.method, path: req.path, submit: req.submit === true };
  }

  /** Sends one request. @throws BrokerUnavailableError when no answer came; BrokerRateLimitedError from the client-side limit. */
  async send(req: HttpRequest): Promise<HttpAnswer> {
    const { credentials, clock, logger } = this.deps;
    const label = this.label(req);
    await this.deps.limiter.acquire(`${req.method} ${req.path}`);
    const url = new URL(`${req.api === "data" ? this.deps.dataUrl : this.deps.baseUrl}${req.path}`);
    for (const [k, v] of Object.entries(req.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...credentials.headers(), accept: "application/json" };
    if (req.body !== undefined) headers["content-type"] = "application/json";
    const controller = new AbortController();
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.deps.timeoutMs);
    const started = clock.now();
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: req.method,
        headers,
        body: req.body === undefined ? null : JSON.stringify(req.body),
        signal: controller.signal,
        // A redirect would carry the key headers to another host.
        redirect: "error",
      });
      text = await response.text();
    } catch (error) {
      const failure = describeNetworkFailure(error, timedOut);
      this.failed(`${req.method} ${req.path}: ${failure.reason}`);
      logger.debug(
        { method: req.method, path: req.path, reason: failure.reason, ms: clock.now() - started },
        "alpaca request got no answer",
      );
      throw networkError(credentials, label, failure);
    } finally {
      clock.clearTimeout(timer);
    }
    this.deps.limiter.observe(response.headers);
    if (response.status >= 500) this.failed(`${req.method} ${req.path}: HTTP ${response.status}`);
    else this.succeeded();
    logger.debug(
      { method: req.method, path: req.path, status: response.status, ms: clock.now() - started },
      "alpaca request",
    );
    return { status: response.status, body: parseBody(text), headers: response.headers };
  }

  private failed(what: string): void {
    const h = this.health;
    h.consecutiveFailures++;
    h.lastError = this.deps.credentials.redact(what);
    if (h.ok && h.consecutiveFailures >= UNHEALTHY_AFTER) {
      h.ok = false;
      this.deps.onHealthChange();
    }
  }

  private succeeded(): void {
    const h = this.health;
    h.consecutiveFailures = 0;
    h.lastOkAt = this.deps.clock.now();
    if (!h.ok) {
      h.ok = true;
      this.deps.onHealthChange();
    }
  }
}

function parseBody(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
