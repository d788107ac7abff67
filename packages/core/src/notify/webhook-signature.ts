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
import { z } from "zod";
import { parseInput } from "../validation.js";

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

/** A header as a receiver reads it: absent (null or undefined) is a valid answer, "unsigned". */
const headerSchema = z.string().nullish();

const checkSchema = z.strictObject({
  secret: z.string().min(1),
  rawBody: z.string({
    error: (issue) =>
      issue.input === undefined
        ? "required: the raw request body, exactly as received"
        : "must be the raw body as a string (for a Buffer: body.toString('utf8')), before any JSON parsing",
  }),
  timestamp: headerSchema,
  signature: headerSchema,
  now: z.number().finite().optional(),
  toleranceMs: z.number().finite().nonnegative().optional(),
});

/**
 * True if `signature` is the HMAC of `rawBody` under `secret` and `timestamp` is recent enough.
 * A missing, malformed or stale header is `false` (an unsigned or forged request); a call of the
 * wrong shape (no secret, a parsed body, an unknown key) is a programming error.
 *
 * @throws ValidationError naming the field, when `check` is not a {@link WebhookSignatureCheck}.
 */
export function verifyWebhookSignature(check: WebhookSignatureCheck): boolean {
  const { secret, rawBody, timestamp, signature, ...rest } = parseInput(
    checkSchema,
    check,
    "verifyWebhookSignature",
  );
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  const now = rest.now ?? Date.now();
  const tolerance = rest.toleranceMs ?? DEFAULT_SIGNATURE_TOLERANCE_MS;
  if (Math.abs(now - Number(timestamp) * 1000) > tolerance) return false;
  const expected = Buffer.from(signWebhookPayload(secret, timestamp, rawBody));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
