/**
 * Webhook signatures, in the scheme Stripe made familiar. With a secret set, every request
 * carries:
 *
 * - `X-Tradecron-Timestamp`: the send time in whole Unix seconds;
 * - `X-Tradecron-Signature`: `sha256=` + hex of HMAC-SHA256(secret, `${timestamp}.${rawBody}`).
 *
 * A receiver recomputes the HMAC over the raw request body (before any JSON parsing), compares in
 * constant time, and refuses timestamps outside its tolerance (default 5 minutes), so a captured
 * request cannot be replayed later. Each retry is signed afresh with its own timestamp; the
 * `X-Tradecron-Delivery` id stays the same across retries, for deduplication.
 */

import { createHmac, timingSafeEqual } from "node:crypto";

/** Header with the send time in Unix seconds. */
export const TIMESTAMP_HEADER = "x-tradecron-timestamp";
/** Header with `sha256=<hex>`. */
export const SIGNATURE_HEADER = "x-tradecron-signature";
/** Header with the delivery id, the same on every retry of one notification. */
export const DELIVERY_HEADER = "x-tradecron-delivery";

/** Default window in which a receiver accepts a signed timestamp. */
export const DEFAULT_SIGNATURE_TOLERANCE_MS = 5 * 60_000;

/** The `X-Tradecron-Signature` value for `rawBody` sent at `timestamp` (Unix seconds). */
export function signWebhookPayload(secret: string, timestamp: number | string, rawBody: string): string {
  const hmac = createHmac("sha256", secret).update(`${timestamp}.${rawBody}`, "utf8").digest("hex");
  return `sha256=${hmac}`;
}

/** What {@link verifyWebhookSignature} checks. */
export interface WebhookSignatureCheck {
  secret: string;
  /** The raw request body, exactly as received. */
  rawBody: string;
  /** The `X-Tradecron-Timestamp` header. */
  timestamp: string | null | undefined;
  /** The `X-Tradecron-Signature` header. */
  signature: string | null | undefined;
  /** The receiver's current time in epoch ms (default Date.now()). */
  now?: number;
  /** Accepted distance between `timestamp` and `now` (default 5 minutes). */
  toleranceMs?: number;
}

/** True if `signature` is the HMAC of `rawBody` under `secret` and `timestamp` is recent enough. */
export function verifyWebhookSignature(check: WebhookSignatureCheck): boolean {
  const { secret, rawBody, timestamp, signature } = check;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  const now = check.now ?? Date.now();
  const tolerance = check.toleranceMs ?? DEFAULT_SIGNATURE_TOLERANCE_MS;
  if (Math.abs(now - Number(timestamp) * 1000) > tolerance) return false;
  const expected = Buffer.from(signWebhookPayload(secret, timestamp, rawBody));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
