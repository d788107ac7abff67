/**
 * WebhookNotifier: POSTs each notification as JSON (`{subject, body, timestamp, severity, kind,
 * data}`) to a URL, signed with HMAC-SHA256 when a secret is set (see webhook-signature.ts).
 * Network errors, timeouts, 408, 429 and 5xx are retried with exponential backoff, waited on the
 * injected clock (a 429's or 503's Retry-After is honoured); other 4xx are final.
 */

import { randomUUID } from "node:crypto";
import pRetry from "p-retry";
import { z } from "zod";
import { toError } from "../errors.js";
import { type Clock, clockSchema, sleep, systemClock } from "../time/clock.js";
import { type DurationInput, parseInput, positiveDurationSchema } from "../validation.js";
import {
  type Notification,
  type Notifier,
  NotifierError,
  notificationPayload,
  parseNotification,
} from "./notifier.js";
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signWebhookPayload,
  TIMESTAMP_HEADER,
} from "./webhook-signature.js";

/** Exponential backoff between attempts. */
export interface WebhookBackoff {
  /** Wait before the first retry, ms (default 1,000). */
  baseMs?: number;
  /** Growth per retry (default 2). */
  factor?: number;
  /** Longest wait, ms (default 30,000). */
  maxMs?: number;
}

/** A retry about to be waited for. */
export interface WebhookRetry {
  /** The attempt that failed (1 for the first). */
  attempt: number;
  /** How long the notifier waits before the next attempt. */
  delayMs: number;
  error: NotifierError;
}

/** Options of {@link WebhookNotifier}. */
export interface WebhookNotifierOptions {
  /** http(s) URL to POST to. */
  url: string;
  /** Signs every request when set (HMAC-SHA256; see webhook-signature.ts). */
  secret?: string;
  /** Name in error reports (default `webhook`). */
  name?: string;
  /** Extra request headers (authorization, ...). The content type and signature headers are ours. */
  headers?: Record<string, string>;
  /** Per-request timeout (default 10 s). */
  timeout?: DurationInput;
  /** Tries in all, first included (default 3). */
  attempts?: number;
  backoff?: WebhookBackoff;
  /** Clock for timeouts, backoff waits and signature timestamps (default the system clock). */
  clock?: Clock;
  /** Called before each backoff wait (for logs and metrics). */
  onRetry?: (retry: WebhookRetry) => void;
}

/** Longest Retry-After honoured: a receiver cannot park a notification for longer. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;

const isFunction = (v: unknown) => typeof v === "function";

const optionsSchema = z.strictObject({
  url: z
    .string()
    .trim()
    .refine(
      (u) => {
        try {
          const { protocol } = new URL(u);
          return protocol === "http:" || protocol === "https:";
        } catch {
          return false;
        }
      },
      { message: "must be an http or https URL" },
    ),
  secret: z.string().min(1).optional(),
  name: z.string().trim().min(1).max(100).default("webhook"),
  headers: z
    .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be a header name"), z.string())
    .default({}),
  timeout: positiveDurationSchema.default(10_000),
  attempts: z.int().min(1).max(20).default(3),
  backoff: z
    .strictObject({
      baseMs: z.number().min(0).max(3_600_000).default(1_000),
      factor: z.number().min(1).max(10).default(2),
      maxMs: z.number().min(0).max(3_600_000).default(30_000),
    })
    .default({ baseMs: 1_000, factor: 2, maxMs: 30_000 }),
  clock: clockSchema.optional(),
  onRetry: z.custom<(retry: WebhookRetry) => void>(isFunction, { message: "must be a function" }).optional(),
});

/**
 * The wait a Retry-After header asks for, in ms: delta seconds or an HTTP date (relative to
 * `now`); 0 when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number): number {
  if (!value) return 0;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS) : 0;
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** POSTs notifications to a URL, signed and retried. */
export class WebhookNotifier implements Notifier {
  readonly name: string;
  /**
   * A true private field, not `private`: the options hold the URL (which may carry a token) and the
   * signing secret, and `JSON.stringify` or `util.inspect` of the notifier must never print them.
   */
  readonly #options: z.output<typeof optionsSchema>;
  private readonly clock: Clock;
  /** For messages: the URL may carry a token in its path or query, so only the origin is shown. */
  private readonly origin: string;

  /** @throws ValidationError naming the bad option (`url`, `attempts`, ...). */
  constructor(options: WebhookNotifierOptions) {
    this.#options = parseInput(optionsSchema, options, "WebhookNotifier");
    this.name = this.#options.name;
    this.clock = this.#options.clock ?? systemClock;
    this.origin = new URL(this.#options.url).origin;
  }

  /**
   * POSTs `notification`; resolves on a 2xx answer. Rejects with a NotifierError after the last
   * attempt, or at once for a final answer (4xx other than 408 and 429).
   */
  async notify(notification: Notification): Promise<void> {
    const n = parseNotification(notification, `notifier ${this.name}`);
    const rawBody = JSON.stringify(notificationPayload(n));
    const delivery = randomUUID();
    const { attempts, backoff } = this.#options;
    let attempt = 0;
    try {
      await pRetry(
        async () => {
          attempt += 1;
          await this.post(rawBody, delivery);
        },
        {
          retries: attempts - 1,
          // p-retry's own timers are real ones: it waits 0, and the backoff is slept on our clock.
          minTimeout: 0,
          shouldRetry: async ({ error }) => {
            if (!(error instanceof NotifierError) || !error.retryable) return false;
            const exponential = Math.min(backoff.baseMs * backoff.factor ** (attempt - 1), backoff.maxMs);
            const requested =
              typeof error.details?.retryAfterMs === "number" ? error.details.retryAfterMs : 0;
            const delayMs = Math.round(Math.max(exponential, requested));
            try {
              this.#options.onRetry?.({ attempt, delayMs, error });
            } catch {
              // An observer's bug must not stop the delivery.
            }
            await sleep(this.clock, delayMs);
            return true;
          },
        },
      );
    } catch (error) {
      const last = toError(error);
      const final = last instanceof NotifierError && !last.retryable;
      const why = final ? "not retried" : `gave up after ${attempt} attempt${attempt === 1 ? "" : "s"}`;
      throw new NotifierError(
        `notifier ${this.name}: POST to ${this.origin} failed (${why}): ${last.message}`,
        {
          cause: last,
          details: {
            notifier: this.name,
            attempts: attempt,
            ...(last instanceof NotifierError && last.details ? last.details : {}),
          },
        },
      );
    }
  }

  /** One attempt. Throws a NotifierError flagged retryable or not. */
  private async post(rawBody: string, delivery: string): Promise<void> {
    const headers: Record<string, string> = {
      ...this.#options.headers,
      "content-type": "application/json",
      "user-agent": "tradecron-webhook",
      [DELIVERY_HEADER]: delivery,
    };
    if (this.#options.secret !== undefined) {
      const timestamp = String(Math.floor(this.clock.now() / 1000));
      headers[TIMESTAMP_HEADER] = timestamp;
      headers[SIGNATURE_HEADER] = signWebhookPayload(this.#options.secret, timestamp, rawBody);
    }
    const controller = new AbortController();
    const timeoutMs = this.#options.timeout;
    const timer = this.clock.setTimeout(() => controller.abort(), timeoutMs);
    let response: Response;
    try {
      response = await fetch(this.#options.url, {
        method: "POST",
        headers,
        body: rawBody,
        signal: controller.signal,
      });
    } catch (error) {
      const timedOut = controller.signal.aborted;
      throw new NotifierError(
        timedOut ? `no answer within ${timeoutMs} ms` : `network error: ${describeNetworkError(error)}`,
        { cause: error, retryable: true, details: { timedOut } },
      );
    } finally {
      this.clock.clearTimeout(timer);
    }
    // The body is not needed; cancelling it frees the connection.
    await response.body?.cancel().catch(() => {});
    if (response.ok) return;
    const retryable = isRetryableStatus(response.status);
    const retryAfterMs =
      response.status === 429 || response.status === 503
        ? parseRetryAfter(response.headers.get("retry-after"), this.clock.now())
        : 0;
    throw new NotifierError(`HTTP ${response.status}`, {
      retryable,
      details: { status: response.status, ...(retryAfterMs > 0 ? { retryAfterMs } : {}) },
    });
  }
}

/** fetch reports "fetch failed" with the reason in `cause` (ECONNREFUSED, ...). */
function describeNetworkError(error: unknown): string {
  const e = toError(error);
  const cause = (e as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${e.message} (${typeof code === "string" ? code : cause.message})`;
  }
  return e.message;
}
