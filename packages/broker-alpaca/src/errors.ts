/**
 * Alpaca's HTTP answers mapped onto core's typed broker errors:
 *
 * | answer | error | retried by the scheduler |
 * |---|---|---|
 * | 401 (and 403 outside order submission) | {@link AlpacaAuthError} | no |
 * | 403 on submit (buying power, wash trade, PDT), 400/422 | `BrokerRejectedError`, Alpaca's `code` and message in `details` | no |
 * | 429 | `BrokerRateLimitedError`, `retryAfterMs` from `X-RateLimit-Reset` | yes, after the wait |
 * | 5xx, timeouts, resets, refused connections | `BrokerUnavailableError` | yes |
 *
 * Every message passes through the credentials' redaction, so a server that echoes a header
 * cannot put the secret into an error.
 */

import {
  BrokerAuthError,
  BrokerRateLimitedError,
  BrokerRejectedError,
  BrokerUnavailableError,
  type TradecronError,
  type TradecronErrorOptions,
} from "@tradecron/core";
import type { Credentials } from "./credentials.js";

/**
 * Alpaca refused the credentials (401), or the key may not do what was asked (403 outside order
 * submission). Core's {@link BrokerAuthError} (code `BROKER_AUTH`, `retryable: false`): final, no
 * retry fixes a wrong key, and code that catches `BrokerAuthError` works with every adapter. Adds
 * the HTTP status.
 */
export class AlpacaAuthError extends BrokerAuthError {
  /** The HTTP status (401, 403), or null for a stream authentication refusal. */
  readonly status: number | null;
  constructor(message: string, status: number | null, options: TradecronErrorOptions = {}) {
    super(message, options);
    this.status = status;
  }
}

/** Alpaca's error body: `{ code, message }` (a 401 has only `message`). */
export interface AlpacaErrorBody {
  code: number | null;
  message: string;
}

/** Reads an error body leniently: anything unexpected becomes a message of its own. */
export function readErrorBody(body: unknown, status: number): AlpacaErrorBody {
  if (body && typeof body === "object") {
    const b = body as { code?: unknown; message?: unknown };
    const code = typeof b.code === "number" && Number.isFinite(b.code) ? b.code : null;
    const message = typeof b.message === "string" ? b.message : `HTTP ${status}`;
    return { code, message };
  }
  return {
    code: null,
    message: typeof body === "string" && body.length > 0 ? body.slice(0, 300) : `HTTP ${status}`,
  };
}

/** The refusal Alpaca answers a reused client order id with (422, code 40010001; wording varies). */
export function isDuplicateClientOrderId(status: number, body: AlpacaErrorBody): boolean {
  if (status !== 422 && status !== 409) return false;
  return /client[ _]?order[ _]?id.*(unique|already|exist|duplicate)/i.test(body.message);
}

/** The longest `retryAfterMs` the adapter reports (a clock far off could ask for hours). */
const MAX_RETRY_AFTER_MS = 5 * 60_000;
/** What a 429 without usable headers asks for. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

/**
 * The wait a 429 asks for: until `X-RateLimit-Reset` (Unix seconds, "when the remaining quota
 * changes"), else `Retry-After`, else one second. Always > 0.
 */
export function retryAfterMs(headers: Headers, now: number): number {
  const reset = Number(headers.get("x-ratelimit-reset"));
  if (Number.isFinite(reset) && reset > 0) {
    const wait = reset * 1000 - now;
    if (wait > 0) return Math.min(Math.ceil(wait), MAX_RETRY_AFTER_MS);
  }
  const after = headers.get("retry-after");
  if (after && /^\d+$/.test(after.trim())) {
    const wait = Number(after.trim()) * 1000;
    if (wait > 0) return Math.min(wait, MAX_RETRY_AFTER_MS);
  }
  return DEFAULT_RETRY_AFTER_MS;
}

/** What the adapter was doing, for messages: `POST /v2/orders`. */
export interface RequestLabel {
  method: string;
  path: string;
  /** True for order submission, where 403 is a business refusal rather than a permission problem. */
  submit?: boolean;
}

/** Maps a non-2xx answer to the typed error it stands for. */
export function httpError(
  credentials: Credentials,
  label: RequestLabel,
  status: number,
  body: unknown,
  headers: Headers,
  now: number,
  extra: Record<string, unknown> = {},
): TradecronError {
  const parsed = readErrorBody(body, status);
  const message = credentials.redact(parsed.message);
  const where = `AlpacaBroker: ${label.method} ${label.path}`;
  const details = { status, alpacaCode: parsed.code, alpacaMessage: message, ...extra };
  if (status === 401 || (status === 403 && !label.submit)) {
    return new AlpacaAuthError(
      `${where}: ${status === 401 ? "unauthorized" : "forbidden"} (${message}); check keyId, secretKey and paper/baseUrl`,
      status,
      { details },
    );
  }
  if (status === 429) {
    const wait = retryAfterMs(headers, now);
    return new BrokerRateLimitedError(`${where}: rate limited (${message}); retry after ${wait} ms`, wait, {
      details,
    });
  }
  if (status >= 500 || status === 408) {
    return new BrokerUnavailableError(`${where}: Alpaca answered ${status} (${message})`, { details });
  }
  return new BrokerRejectedError(
    `${where}: rejected (${status}${parsed.code === null ? "" : ` ${parsed.code}`}: ${message})`,
    {
      details,
    },
  );
}

/** Why a request got no answer: it timed out, or the network failed (`sent` false when it never left). */
export interface NetworkFailure {
  reason: "timeout" | "network";
  /** False when the connection was refused or the host unknown: the request cannot have reached Alpaca. */
  sent: boolean;
  description: string;
}

const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ERR_INVALID_URL"]);

/** Classifies what `fetch` threw. */
export function describeNetworkFailure(error: unknown, timedOut: boolean): NetworkFailure {
  if (timedOut) return { reason: "timeout", sent: true, description: "no answer in time" };
  let code: string | null = null;
  let text = error instanceof Error ? error.message : String(error);
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === "string") {
      code = c;
      text = `${(e as Error).message ?? text}`;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return { reason: "network", sent: !(code !== null && NOT_SENT_CODES.has(code)), description: code ?? text };
}

/** The error for a request that got no answer. */
export function networkError(
  credentials: Credentials,
  label: RequestLabel,
  failure: NetworkFailure,
  extra: Record<string, unknown> = {},
): BrokerUnavailableError {
  const what = failure.reason === "timeout" ? "timed out" : `failed (${failure.description})`;
  return new BrokerUnavailableError(
    credentials.redact(`AlpacaBroker: ${label.method} ${label.path} ${what}`),
    {
      details: { reason: failure.reason, sent: failure.sent, ...extra },
    },
  );
}
