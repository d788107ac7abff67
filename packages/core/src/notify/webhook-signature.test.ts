import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import {
  signWebhookPayload,
  verifyWebhookSignature,
  type WebhookSignatureCheck,
} from "./webhook-signature.js";

const now = Date.parse("2026-01-05T14:30:00Z");
const timestamp = String(now / 1000);
const rawBody = '{"kind":"run_failed"}';
const good: WebhookSignatureCheck = {
  secret: "whsec_test",
  rawBody,
  timestamp,
  signature: signWebhookPayload("whsec_test", timestamp, rawBody),
  now,
};

/** The ValidationError `fn` throws (the test fails if it returns instead). */
function validationErrorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error("expected a ValidationError, got a return value");
}

describe("verifyWebhookSignature", () => {
  it("accepts a fresh signature and refuses a missing or malformed header with false", () => {
    expect(verifyWebhookSignature(good)).toBe(true);
    expect(verifyWebhookSignature({ ...good, signature: null })).toBe(false);
    expect(verifyWebhookSignature({ ...good, timestamp: undefined })).toBe(false);
    expect(verifyWebhookSignature({ ...good, timestamp: "yesterday" })).toBe(false);
    expect(verifyWebhookSignature({ ...good, signature: "sha256=00" })).toBe(false);
  });

  it("throws a ValidationError naming the field for a call of the wrong shape, instead of returning false", () => {
    const parsedBody = { ...good, rawBody: JSON.parse(rawBody) } as unknown as WebhookSignatureCheck;
    expect(validationErrorOf(() => verifyWebhookSignature(parsedBody)).field).toBe("rawBody");
    const { secret: _secret, ...noSecret } = good;
    expect(validationErrorOf(() => verifyWebhookSignature(noSecret as WebhookSignatureCheck)).field).toBe(
      "secret",
    );
    expect(validationErrorOf(() => verifyWebhookSignature({ ...good, secret: "" })).field).toBe("secret");
    const arrayHeader = { ...good, signature: [good.signature] } as unknown as WebhookSignatureCheck;
    expect(validationErrorOf(() => verifyWebhookSignature(arrayHeader)).field).toBe("signature");
    expect(validationErrorOf(() => verifyWebhookSignature({ ...good, now: Number.NaN })).field).toBe("now");
    expect(validationErrorOf(() => verifyWebhookSignature({ ...good, toleranceMs: -1 })).field).toBe(
      "toleranceMs",
    );
    expect(validationErrorOf(() => verifyWebhookSignature(undefined as never)).code).toBe("VALIDATION");
    const extraKey = { ...good, body: rawBody } as unknown as WebhookSignatureCheck;
    expect(validationErrorOf(() => verifyWebhookSignature(extraKey)).message).toMatch(/body/);
  });

  it("keeps the secret out of the error", () => {
    const error = validationErrorOf(() =>
      verifyWebhookSignature({ ...good, rawBody: 42 } as unknown as WebhookSignatureCheck),
    );
    expect(JSON.stringify(error.toJSON())).not.toContain("whsec_test");
    expect(error.message).not.toContain("whsec_test");
  });
});
