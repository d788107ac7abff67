/**
 * One JSON POST for the chat notifiers (Slack, Discord, Telegram): a timeout on the injected
 * clock, the answer classified (network errors, timeouts, 408, 429 and 5xx are retryable; other
 * 4xx are final), the service's retry-after read, and every secret scrubbed from the message.
 * Retries are the policy's business (notify-policy.ts), not this module's.
 */

import { z } from "zod";
import { errorCode, toError } from "../errors.js";
import type { Clock } from "../time/clock.js";
import { NotifierError } from "./notifier.js";
import { redactSecrets, type Secret, safeOrigin } from "./secret.js";
import { parseRetryAfter } from "./webhook-notifier.js";

/** The `fetch` a notifier uses (default the global one); inject one for a proxy or a test tap. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/** zod schema of a {@link FetchFunction} option. */
export const fetchSchema = z.custom<FetchFunction>((v) => typeof v === "function", {
  message: "must be a fetch function",
});

/** What a service says about a failed request. */
export interface ServiceErrorInfo {
  /** The service's own description (`channel_is_archived`, `Unknown Webhook`, `chat not found`). */
  description?: string;
  /** The wait it asks for, ms (overrides the Retry-After header). */
  retryAfterMs?: number;
}

/** One POST. */
export interface JsonPost {
  /** The full URL, secret included. */
  url: string;
  body: unknown;
  timeoutMs: number;
  clock: Clock;
  fetch: FetchFunction;
  /** Scrubbed from every message this module makes. */
  secrets: readonly (string | Secret)[];
  /** The notifier's name, for messages. */
  notifier: string;
  /** Reads the service's error answer. */
  describeError?: (status: number, text: string) => ServiceErrorInfo;
}

/** A 2xx answer. */
export interface JsonAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** Longest part of an error answer quoted in a message. */
const MAX_QUOTE = 300;

/** POSTs `post.body` as JSON; resolves on 2xx, else throws a NotifierError flagged retryable or not. */
export async function postJson(post: JsonPost): Promise<JsonAnswer> {
  const where = `notifier ${post.notifier}: POST to ${safeOrigin(post.url)}`;
  const scrub = (text: string) => redactSecrets(text, post.secrets);
  const controller = new AbortController();
  const timer = post.clock.setTimeout(() => controller.abort(), post.timeoutMs);
  let response: Response;
  let text: string;
  try {
    response = await post.fetch(post.url, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8", "user-agent": "tradecron-notifier" },
      body: JSON.stringify(post.body),
      signal: controller.signal,
    });
    text = await response.text();
  } catch (error) {
    const timedOut = controller.signal.aborted;
    // The raw cause is not attached: a fetch error may quote the URL, and with it the token.
    throw new NotifierError(
      scrub(
        `${where} failed: ${timedOut ? `no answer within ${post.timeoutMs} ms` : `network error: ${describe(error)}`}`,
      ),
      { retryable: true, details: { notifier: post.notifier, timedOut } },
    );
  } finally {
    post.clock.clearTimeout(timer);
  }
  if (response.ok) return { status: response.status, headers: response.headers, text };
  const status = response.status;
  const info = post.describeError?.(status, text) ?? {};
  const headerWait =
    status === 429 || status === 503
      ? parseRetryAfter(response.headers.get("retry-after"), post.clock.now())
      : 0;
  const retryAfterMs = info.retryAfterMs ?? headerWait;
  const said = info.description ?? text.trim();
  const quote = said ? `: ${said.length > MAX_QUOTE ? `${said.slice(0, MAX_QUOTE)}…` : said}` : "";
  throw new NotifierError(scrub(`${where} failed: HTTP ${status}${quote}`), {
    retryable: status === 408 || status === 429 || status >= 500,
    details: { notifier: post.notifier, status, ...(retryAfterMs > 0 ? { retryAfterMs } : {}) },
  });
}

/** fetch says "fetch failed" and keeps the reason (ECONNREFUSED, ...) in `cause`. */
function describe(error: unknown): string {
  const { message, cause } = toError(error) as Error & { cause?: unknown };
  return cause instanceof Error ? `${message} (${errorCode(cause) ?? cause.message})` : message;
}

/** Parses a JSON answer body, or null. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
